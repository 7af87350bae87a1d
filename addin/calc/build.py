"""Assemble the Calc extension ``SectorRotation.oxt`` from sources (no LibreOffice SDK needed).

Contents: the shipped type library ``SectorRotation.rdb`` (see ``addin.calc.idl``), the component
``oxt/sector_rotation.py``, ``CalcAddIns.xcu`` (names, descriptions and arguments of the functions, from
``udfs.family.SPECS``), ``Addons.xcu`` (the Sector Rotation menu and toolbar, one entry per ribbon
button of ``addin.ribbon.callbacks.ACTIONS``, labels from the ribbon's customUI14.xml),
``ProtocolHandler.xcu`` and ``Jobs.xcu`` (the onDocumentAdded job), ``description.xml``, the manifest,
and ``rotation-env.json``: where the product's Python environment is and which Python it is.
"""
from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
COMPONENT = "sector_rotation.py"
RDB = "SectorRotation.rdb"
LO_UNORC = Path("/usr/lib/libreoffice/program/pythonloader.unorc")
IDENTIFIER = "org.sectorrotation.calc"
MENU_CONTEXT = "com.sun.star.sheet.SpreadsheetDocument"


def _value(text: str) -> str:
    return f'<value xml:lang="en-US">{escape(text)}</value>'


def calc_addins_xcu() -> str:
    """CalcAddIns.xcu: each function's display name (the Excel name), description and arguments."""
    from udfs import family
    from addin.calc.idl import camel

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<oor:component-data xmlns:oor="http://openoffice.org/2001/registry" '
           'xmlns:xs="http://www.w3.org/2001/XMLSchema" oor:name="CalcAddIns" oor:package="org.openoffice.Office">',
           '<node oor:name="AddInInfo"><node oor:name="org.sectorrotation.calc.Functions" oor:op="replace">',
           '<node oor:name="AddInFunctions">']
    for name, spec in family.SPECS.items():
        doc = (getattr(family, name).__doc__ or name).strip().splitlines()[0]
        out.append(f'<node oor:name="{name}" oor:op="replace">'
                   f'<prop oor:name="DisplayName">{_value(name)}</prop>'
                   f'<prop oor:name="Description">{_value(doc)}</prop>'
                   f'<prop oor:name="Category"><value>Add-In</value></prop>'
                   f'<prop oor:name="CompatibilityName">{_value(name)}</prop><node oor:name="Parameters">')
        for a in spec.args:
            out.append(f'<node oor:name="{camel(a.name)}" oor:op="replace">'
                       f'<prop oor:name="DisplayName">{_value(a.name)}</prop>'
                       f'<prop oor:name="Description">{_value(a.doc)}</prop></node>')
        out.append("</node></node>")
    out.append("</node></node></node></oor:component-data>")
    return "\n".join(out)


def action_labels() -> dict[str, str]:
    """Ribbon button id -> label, for every action of ``addin.ribbon.callbacks.ACTIONS``."""
    from addin.ribbon.callbacks import ACTIONS

    xml = (HERE.parent / "ribbon" / "customUI14.xml").read_text(encoding="utf-8")
    labels = dict(re.findall(r'<button id="(\w+)" label="([^"]+)"', xml))
    return {a: labels.get(a, a) for a in ACTIONS}


def addons_xcu() -> str:
    """Addons.xcu: the "Sector Rotation" menu and toolbar, URL ``org.sectorrotation.calc:ACTION``."""
    def item(i: int, action: str, label: str) -> str:
        return (f'<node oor:name="m{i:02d}" oor:op="replace">'
                f'<prop oor:name="URL"><value>{IDENTIFIER}:{action}</value></prop>'
                f'<prop oor:name="Title">{_value(label)}</prop>'
                f'<prop oor:name="Target"><value>_self</value></prop>'
                f'<prop oor:name="Context"><value>{MENU_CONTEXT}</value></prop></node>')

    items = "".join(item(i, a, label) for i, (a, label) in enumerate(action_labels().items()))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:component-data xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" oor:name="Addons" oor:package="org.openoffice.Office">'
            '<node oor:name="AddonUI">'
            '<node oor:name="OfficeMenuBar"><node oor:name="org.sectorrotation.calc.menu" oor:op="replace">'
            f'<prop oor:name="Title">{_value("Sector Rotation")}</prop>'
            f'<prop oor:name="Context"><value>{MENU_CONTEXT}</value></prop>'
            f'<node oor:name="Submenu">{items}</node></node></node>'
            '<node oor:name="OfficeToolBar"><node oor:name="org.sectorrotation.calc.toolbar" oor:op="replace">'
            f'<prop oor:name="Title">{_value("Sector Rotation")}</prop>'
            f'{items}</node></node>'
            '</node></oor:component-data>\n')


def libreoffice_python() -> str | None:
    """LibreOffice's Python minor version ("3.11"), read from its pythonloader.unorc, or None."""
    try:
        m = re.search(r"PYTHONHOME=\S*python(\d+\.\d+)", LO_UNORC.read_text())
    except OSError:
        return None
    return m.group(1) if m else None


def environment() -> dict:
    """rotation-env.json: the product's source root and site-packages, its Python, the functions."""
    import site

    import addin
    from udfs.family import SPECS

    root = str(Path(addin.__file__).resolve().parents[1])
    paths = [root] + [p for p in site.getsitepackages() + [site.getusersitepackages()] if Path(p).is_dir()]
    return {"python": "%d.%d" % sys.version_info[:2], "prefix": sys.prefix, "paths": paths,
            "functions": {n: {"table": s.table, "args": len(s.args)} for n, s in SPECS.items()}}


def manifest_xml() -> str:
    entries = [(RDB, "application/vnd.sun.star.uno-typelibrary;type=RDB"),
               (COMPONENT, "application/vnd.sun.star.uno-component;type=Python")]
    entries += [(x, "application/vnd.sun.star.configuration-data")
                for x in ("CalcAddIns.xcu", "Addons.xcu", "ProtocolHandler.xcu", "Jobs.xcu")]
    rows = "".join(f' <manifest:file-entry manifest:full-path="{p}" manifest:media-type="{t}"/>\n' for p, t in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<manifest:manifest xmlns:manifest="http://openoffice.org/2001/manifest">\n' + rows + '</manifest:manifest>\n')


def build_oxt(out: Path) -> dict:
    """Write the extension to ``out`` (atomically); returns what went in."""
    from workbooks.atomic import atomic_write_bytes
    import io

    env = environment()
    parts = {
        "META-INF/manifest.xml": manifest_xml(),
        "description.xml": (HERE / "oxt" / "description.xml").read_text(encoding="utf-8"),
        RDB: (HERE / RDB).read_bytes(),
        COMPONENT: (HERE / "oxt" / COMPONENT).read_text(encoding="utf-8"),
        "CalcAddIns.xcu": calc_addins_xcu(),
        "Addons.xcu": addons_xcu(),
        "ProtocolHandler.xcu": (HERE / "oxt" / "ProtocolHandler.xcu").read_text(encoding="utf-8"),
        "Jobs.xcu": (HERE / "oxt" / "Jobs.xcu").read_text(encoding="utf-8"),
        "rotation-env.json": json.dumps(env, indent=1),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    lo = libreoffice_python()
    return {"path": str(out.resolve()), "bytes": out.stat().st_size, "functions": list(env["functions"]),
            "actions": list(action_labels()), "python": env["python"], "libreoffice_python": lo,
            "python_matches": lo == env["python"], "paths": env["paths"]}
