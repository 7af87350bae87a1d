"""Sector Rotation for LibreOffice Calc: the UNO component of the extension (runs in LibreOffice's Python).

Three services, all thin: they find the product's Python environment and call the product's code.
- ``org.sectorrotation.calc.Functions`` (a ``com.sun.star.sheet.AddIn``): the worksheet functions, each
  ``addin.calc.cells.call(NAME, args)`` -> ``udfs.family.NAME`` (the same functions as Excel's UDFs);
- ``org.sectorrotation.calc.Actions``: the protocol handler of the menu and toolbar URLs
  ``org.sectorrotation.calc:ACTION`` -> ``addin.calc.unobook.run`` -> ``addin.ribbon.callbacks``;
- ``org.sectorrotation.calc.OnLoad``: a job on ``onDocumentAdded`` that re-enters formulas naming the
  functions as Excel writes them (``BOND_STRESS(`` or ``_xludf.BOND_STRESS(``), then recalculates.

The environment: ``rotation-env.json`` beside this file (written by ``rotation calc build``) lists the
product's source root and site-packages and its Python version; ``ROTATION_CALC_PYTHONPATH`` (paths
separated by ``os.pathsep``) overrides the paths. When LibreOffice's Python is another minor version,
nothing is imported and every cell and action says so in one sentence.
"""
import json
import os
import re
import sys

import unohelper
from com.sun.star.frame import XDispatch, XDispatchProvider
from com.sun.star.lang import XInitialization, XServiceInfo, XServiceName
from com.sun.star.task import XJob
from org.sectorrotation.calc import XSectorRotation

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS_IMPL = "org.sectorrotation.calc.Functions"
ACTIONS_IMPL = "org.sectorrotation.calc.Actions"
ONLOAD_IMPL = "org.sectorrotation.calc.OnLoad"
PROTOCOL = "org.sectorrotation.calc:"
with open(os.path.join(HERE, "rotation-env.json"), encoding="utf-8") as _f:
    ENV = json.load(_f)
_state = {"problem": None, "ready": False}


def environment_problem():
    """None when the product imports here, else the sentence every cell and action shows."""
    if _state["ready"] or _state["problem"]:
        return _state["problem"]
    have = "%d.%d" % sys.version_info[:2]
    if have != ENV["python"]:
        _state["problem"] = ("LibreOffice runs Python %s but the Sector Rotation environment (%s) is Python %s; "
                             "install the product into a Python %s environment and run rotation calc build "
                             "and rotation calc install from it" % (have, ENV["prefix"], ENV["python"], have))
        return _state["problem"]
    override = os.environ.get("ROTATION_CALC_PYTHONPATH")
    paths = override.split(os.pathsep) if override else ENV["paths"]
    for p in reversed([p for p in paths if p]):
        if p in sys.path:
            sys.path.remove(p)
        sys.path.insert(0, p)            # before LibreOffice's own dist-packages (older libraries)
    import site
    for p in paths[1:]:
        site.addsitedir(p)               # .pth files of the environment (already first on sys.path)
    _keep_module_not_found()
    try:
        import addin.calc.cells          # noqa: F401
        import udfs.family               # noqa: F401
    except Exception as exc:             # any import failure is reported, never raised into Calc
        _state["problem"] = ("the Sector Rotation environment does not import in LibreOffice (%s: %s); paths: %s"
                             % (type(exc).__name__, exc, os.pathsep.join(paths)))
        return _state["problem"]
    _state["ready"] = True
    _log_to_file()
    return None


def _keep_module_not_found():
    """pyuno's import hook turns a missing module's ModuleNotFoundError into a plain ImportError, which
    libraries testing for optional dependencies (cvxpy: ``except ModuleNotFoundError``) do not catch;
    wrap it so that a module missing from Python and from UNO raises ModuleNotFoundError again."""
    import builtins

    import uno
    hook = builtins.__import__
    if getattr(hook, "_sector_rotation", False):
        return
    original = uno._builtin_import

    def _import(name, *args, **kwargs):
        try:
            return hook(name, *args, **kwargs)
        except ModuleNotFoundError:
            raise
        except ImportError:
            return original(name, *args, **kwargs)     # the real ModuleNotFoundError, or the module
    _import._sector_rotation = True
    builtins.__import__ = _import


def _log_to_file():
    """Unexpected failures of the product's code go to ``calc.log`` in the product's log folder."""
    import logging
    try:
        from addin.cli.common import log_dir
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(str(folder / "calc.log"), encoding="utf-8")
    except Exception:                    # no writable log folder: stderr of soffice
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("udfs", "addin", "usecases"):
        logging.getLogger(name).addHandler(handler)


class Functions(unohelper.Base, XSectorRotation, XServiceName, XServiceInfo):
    """The add-in: one method per worksheet function (added below from ``ENV["functions"]``)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def getServiceName(self):
        return FUNCTIONS_IMPL

    def getImplementationName(self):
        return FUNCTIONS_IMPL

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.sheet.AddIn",)


def _method(name, table):
    def method(self, *args):
        problem = environment_problem()
        if problem:
            text = ("#ERROR: " + problem)[:255]
            return ((text,),) if table else text
        from addin.calc.cells import call
        return call(name, args)
    method.__name__ = name
    return method


for _name, _info in ENV["functions"].items():
    setattr(Functions, _name, _method(_name, _info["table"]))


class Actions(unohelper.Base, XDispatchProvider, XDispatch, XInitialization, XServiceInfo):
    """Protocol handler of ``org.sectorrotation.calc:ACTION`` (the menu and toolbar entries)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.frame = None

    def initialize(self, args):
        if args:
            self.frame = args[0]

    def queryDispatch(self, url, target, flags):
        return self if url.Complete.startswith(PROTOCOL) else None

    def queryDispatches(self, requests):
        return tuple(self.queryDispatch(r.FeatureURL, r.FrameName, r.SearchFlags) for r in requests)

    def dispatch(self, url, args):
        action = url.Complete[len(PROTOCOL):]
        doc = self.frame.getController().getModel() if self.frame else None
        problem = environment_problem()
        if problem or doc is None:
            _note(doc, "Error: " + (problem or "no document to act on"))
            return
        from addin.calc.unobook import run
        run(action, doc, self.frame)

    def addStatusListener(self, listener, url):
        pass

    def removeStatusListener(self, listener, url):
        pass

    def getImplementationName(self):
        return ACTIONS_IMPL

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.frame.ProtocolHandler",)


def _note(doc, text):
    """The outcome where a headless caller can read it (the document property the actions use)."""
    sys.stderr.write("Sector Rotation: %s\n" % text)
    if doc is None:
        return
    props = doc.DocumentProperties.UserDefinedProperties
    if props.getPropertySetInfo().hasPropertyByName("SectorRotationMessage"):
        props.setPropertyValue("SectorRotationMessage", text)
    else:
        props.addProperty("SectorRotationMessage", 128, text)


NAMES = re.compile(r"(?<![\w.])(?:_xludf\.)?(%s)\s*\(" % "|".join(sorted(ENV["functions"], key=len, reverse=True)),
                   re.IGNORECASE)


def excel_formula(text):
    """The formula with Excel's spellings (``_xludf.BOND_STRESS(``, ``bond_stress(``) of the functions
    replaced by their Calc names, or None when it names none of them (texts in quotes are left alone)."""
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]                            # an array formula as getFormula shows it
    parts = re.split(r'("(?:[^"]|"")*")', text)
    hit = False
    excel_separators = ";" not in "".join(parts[0::2])
    for i in range(0, len(parts), 2):
        parts[i], n = NAMES.subn(lambda m: m.group(1).upper() + "(", parts[i])
        hit = hit or n > 0
        if excel_separators:                         # unresolved, the text keeps Excel's commas
            parts[i] = parts[i].replace(",", ";")
    return "".join(parts) if hit else None


class OnLoad(unohelper.Base, XJob, XServiceInfo):
    """Job on ``onDocumentAdded``: a spreadsheet from Excel gets its Sector Rotation formulas resolved."""

    def __init__(self, ctx):
        self.ctx = ctx

    def execute(self, args):
        doc = _model(args)
        if doc is None or not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
            return None
        try:
            if reenter_formulas(doc):
                doc.calculateAll()
        except Exception as exc:         # a document must open even if this fails
            sys.stderr.write("Sector Rotation: formulas not re-entered (%s: %s)\n" % (type(exc).__name__, exc))
        return None

    def getImplementationName(self):
        return ONLOAD_IMPL

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.task.Job",)


def _model(args):
    for nv in args:
        if nv.Name == "Environment":
            for e in nv.Value:
                if e.Name == "Model":
                    return e.Value
    return None


def reenter_formulas(doc):
    """Re-enter every formula whose text names a function the way Excel stores it; array formulas
    keep their range. Returns how many were re-entered."""
    count = 0
    sheets = doc.Sheets
    for s in range(sheets.getCount()):
        sheet = sheets.getByIndex(s)
        ranges = sheet.queryContentCells(16)         # CellFlags.FORMULA
        done = set()
        for r in range(ranges.getCount()):
            rng = ranges.getByIndex(r)
            a = rng.getRangeAddress()
            for row in range(a.StartRow, a.EndRow + 1):
                for col in range(a.StartColumn, a.EndColumn + 1):
                    if (col, row) in done:
                        continue
                    count += _reenter(sheet, sheet.getCellByPosition(col, row), col, row, done)
    return count


def _reenter(sheet, cell, col, row, done):
    text = cell.getFormula()
    if text.startswith("{"):                         # part of an array formula
        cursor = sheet.createCursorByRange(cell)
        cursor.collapseToCurrentArray()
        new = excel_formula(text)
        a = cursor.getRangeAddress()
        done.update((c, r) for c in range(a.StartColumn, a.EndColumn + 1) for r in range(a.StartRow, a.EndRow + 1))
        if new is None:
            return 0
        cursor.setArrayFormula(new)
        return 1
    new = excel_formula(text)
    if new is None:
        return 0
    cell.setFormula(new)
    return 1


g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(Functions, FUNCTIONS_IMPL, ("com.sun.star.sheet.AddIn",))
g_ImplementationHelper.addImplementation(Actions, ACTIONS_IMPL, ("com.sun.star.frame.ProtocolHandler",))
g_ImplementationHelper.addImplementation(OnLoad, ONLOAD_IMPL, ("com.sun.star.task.Job",))
