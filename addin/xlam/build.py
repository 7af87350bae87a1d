"""``rotation addin build``: SectorRotation.xlam from the xlwings add-in template, by patching its zip.

Parts changed (every other part is copied byte for byte):
- ``customUI/customUI14.xml`` (the tab, from ``addin/ribbon/customUI14.xml``) with its root
  relationship; the template's 2006 ``customUI/customUI.xml`` and its relationship are dropped;
- ``xl/vbaProject.bin`` rebuilt from sources (``addin.xlam.ovba``): the template's xlwings, Dictionary
  and document modules (xlwings' PROJECT_NAME set to ``sectorrotation``, ThisWorkbook registering the
  function-wizard texts on open), the generated function module, the wizard module and the dispatcher;
- the conf sheet, renamed ``sectorrotation.conf`` (the name xlwings' VBA looks up) and filled with
  the settings below; ``docProps/app.xml`` names it.
Never through openpyxl or XlsxWriter: both drop the ribbon (see ../shared/notes/excel-addin-on-linux.md).
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

PROJECT = "sectorrotation"
VBA_NAME = "SectorRotation"
UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ADDIN_CT = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
RIBBON_DIR = Path(__file__).resolve().parent.parent / "ribbon"
# Only settings that are the same on every machine: a key present here (even empty) hides the lower
# layers of xlwings' lookup (directory file, then %USERPROFILE%\.sectorrotation\sectorrotation.conf),
# where installer/windows/install.ps1 writes INTERPRETER_WIN and ROTATION FROZEN for this machine.
DEFAULT_CONF = (
    ("UDF Modules", "udfs.functions"),
    ("Use UDF Server", True),
    ("Debug UDFs", False),
    ("Show Console", False),
)
WORKBOOK_OPEN = ("\r\nPrivate Sub Workbook_Open()\r\n"
                 "    ' Function-wizard descriptions, categories and argument texts of the worksheet functions\r\n"
                 "    SectorRotationWizard.RegisterFunctions\r\nEnd Sub\r\n")


def template_path() -> Path:
    """The xlwings ribbon add-in template shipped with the installed xlwings."""
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def _modules(template_bin: bytes):
    from addin.xlam import ovba, udf_vba

    _, mods, _ = ovba.read_template(template_bin)
    keep = []
    for m in mods:
        if m.name.startswith("Ribbon"):                     # the template's one-button ribbon module
            continue
        if m.name == "xlwings":
            m.source, n = re.subn(r'(Public Const PROJECT_NAME As String = )"[^"]*"', rf'\1"{PROJECT}"', m.source)
            if n != 1:
                raise ValueError("xlwings template: PROJECT_NAME constant not found once")
        if m.name == "ThisWorkbook":
            m.source = m.source.rstrip("\r\n") + "\r\n" + WORKBOOK_OPEN
        keep.append(m)
    keep += [ovba.Module(udf_vba.VBA_MODULE, "module", udf_vba.udf_module_source()),
             ovba.Module(udf_vba.WIZARD_MODULE, "module", udf_vba.wizard_module_source()),
             ovba.Module("SectorRotationRibbon", "module", (RIBBON_DIR / "SectorRotationRibbon.bas").read_text())]
    return keep


def _vba_project(template_bin: bytes) -> bytes:
    import olefile

    from addin.xlam import ovba

    header = olefile.OleFileIO(io.BytesIO(template_bin)).openstream("VBA/_VBA_PROJECT").read()
    return ovba.build_project(template_bin, _modules(template_bin), VBA_NAME, header)


def _conf_sheet(conf) -> bytes:
    rows = []
    for i, (k, v) in enumerate(conf, start=1):
        cells = [f'<c r="A{i}" s="1" t="inlineStr"><is><t>{escape(k)}</t></is></c>']
        if isinstance(v, bool):
            cells.append(f'<c r="B{i}" s="1" t="b"><v>{int(v)}</v></c>')
        elif v != "":
            cells.append(f'<c r="B{i}" s="1" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
        rows.append(f'<row r="{i}">{"".join(cells)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetPr codeName="Sheet2"/><dimension ref="A1:B%d"/><sheetViews><sheetView workbookViewId="0"/>'
            '</sheetViews><sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="18" style="1" '
            'customWidth="1"/><col min="2" max="2" width="60" style="1" customWidth="1"/></cols>'
            '<sheetData>%s</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>' % (len(conf), "".join(rows))).encode()


def _root_rels(xml: str) -> str:
    xml = re.sub(r'<Relationship [^>]*Type="%s"[^>]*/>' % re.escape(UI_REL), "", xml)
    rel = f'<Relationship Id="rIdSectorRotationUI" Type="{UI_REL}" Target="customUI/customUI14.xml"/>'
    return xml.replace("</Relationships>", rel + "</Relationships>")


def build_xlam(out: Path, template: Path | None = None, conf=DEFAULT_CONF) -> dict:
    """Write the add-in to ``out`` (atomically); returns what went in (parts, modules, functions)."""
    from addin.xlam import udf_vba
    from workbooks.atomic import atomic_write_bytes

    from engine.errors import ArgumentError

    tpl = Path(template or template_path())
    try:
        src = zipfile.ZipFile(tpl)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArgumentError("template", f"cannot read the add-in template {tpl}: {exc}") from None
    parts = {n: src.read(n) for n in src.namelist()}
    old_conf = re.search(r'<sheet name="([^"]+\.conf)"', parts["xl/workbook.xml"].decode()).group(1)
    new_conf = f"{PROJECT}.conf"
    parts.pop("customUI/customUI.xml", None)
    parts["customUI/customUI14.xml"] = (RIBBON_DIR / "customUI14.xml").read_bytes()
    parts["_rels/.rels"] = _root_rels(parts["_rels/.rels"].decode()).encode()
    parts["xl/vbaProject.bin"] = _vba_project(parts["xl/vbaProject.bin"])
    parts["xl/worksheets/sheet1.xml"] = _conf_sheet(conf)
    for name in ("xl/workbook.xml", "docProps/app.xml"):
        parts[name] = parts[name].replace(old_conf.encode(), new_conf.encode())
    if ADDIN_CT not in parts["[Content_Types].xml"].decode():
        raise ValueError("template is not an add-in: its workbook content type is not " + ADDIN_CT)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ["[Content_Types].xml", "_rels/.rels"] + [n for n in parts if n not in ("[Content_Types].xml", "_rels/.rels")]:
            z.writestr(name, parts[name])
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        path = atomic_write_bytes(Path(out), buf.getvalue())
    except OSError as exc:
        raise ArgumentError("--out", f"cannot write {out}: {exc.strerror or exc}") from None
    return {"path": str(path), "bytes": len(buf.getvalue()), "template": str(tpl),
            "parts": sorted(parts), "functions": [s["name"] for s in udf_vba.function_specs()],
            "conf_sheet": new_conf}
