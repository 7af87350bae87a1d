"""Structural checks of a built .xlam, with independent readers: the zip and its content types, the
ribbon relationship, every ``onAction`` against the Subs that ``olevba`` (oletools) finds in the VBA
project, and, when the schema file is given, the ribbon XML against Microsoft's customui14.xsd."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from addin.xlam.build import ADDIN_CT, UI_REL

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
UI14_NS = "http://schemas.microsoft.com/office/2009/07/customui"
SUB_RE = re.compile(r"^\s*(?:Public\s+|Private\s+)?(Sub|Function)\s+(\w+)\s*\(", re.I | re.M)


def vba_modules(path: Path) -> dict[str, str]:
    """Module name -> source, as olevba extracts them from the add-in's vbaProject.bin."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {Path(v).stem: code for (_f, _s, v, code) in parser.extract_macros()}
    finally:
        parser.close()


def procedures(modules: dict[str, str]) -> set[str]:
    """Every ``Module.Sub`` (and ``Module.Function``) declared in the VBA sources."""
    return {f"{m}.{name}" for m, code in modules.items() for _kind, name in SUB_RE.findall(code)}


def check_xlam(path: Path, xsd: Path | None = None) -> dict:
    """What holds for the add-in at ``path``; ``ok`` when every check holds (the XSD one only if given)."""
    z = zipfile.ZipFile(path)
    ct = ET.fromstring(z.read("[Content_Types].xml"))
    main = {o.get("PartName"): o.get("ContentType") for o in ct.iter(CT_NS + "Override")}
    rels = ET.fromstring(z.read("_rels/.rels"))
    ui = [r.get("Target") for r in rels.iter(REL_NS + "Relationship") if r.get("Type") == UI_REL]
    xml = z.read("customUI/customUI14.xml")
    root = ET.fromstring(xml)
    actions = sorted({e.get("onAction") for e in root.iter() if e.get("onAction")})
    modules = vba_modules(path)
    subs = procedures(modules)
    out = {"addin_content_type": main.get("/xl/workbook.xml") == ADDIN_CT,
           "ribbon_relationship": ui == ["customUI/customUI14.xml"],
           "ribbon_namespace": root.tag == f"{{{UI14_NS}}}customUI",
           "legacy_customui_absent": "customUI/customUI.xml" not in z.namelist(),
           "on_actions": actions, "missing_subs": [a for a in actions if a not in subs],
           "modules": sorted(modules), "buttons": [e.get("id") for e in root.iter(f"{{{UI14_NS}}}button")]}
    if xsd is not None:
        import xmlschema

        errors = list(xmlschema.XMLSchema(str(xsd)).iter_errors(xml.decode("utf-8")))
        out["xsd_errors"] = [str(e.reason) for e in errors]
    out["ok"] = (out["addin_content_type"] and out["ribbon_relationship"] and out["ribbon_namespace"]
                 and out["legacy_customui_absent"] and not out["missing_subs"] and not out.get("xsd_errors"))
    return out
