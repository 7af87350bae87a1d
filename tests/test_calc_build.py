"""The Calc extension's sources and build (no LibreOffice needed except for the .rdb rebuild check):
the shipped IDL is the one generated from the family, the shipped type library equals a fresh
unoidl-write of it, and the .oxt carries every function, every ribbon action and the environment."""
from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from addin.calc import build, idl
from addin.cli.main import app
from addin.ribbon.callbacks import ACTIONS
from conftest import ROOT, require
from udfs.family import SPECS


def test_shipped_idl_is_generated_from_the_family():
    assert idl.IDL_PATH.read_text() == idl.idl_text()
    text = idl.idl_text()
    for name in SPECS:
        assert f" {name}(" in text
    assert "sequence< any > moreSeries" in text and "any BOND_STRESS([in] any asOf)" in text


def test_shipped_rdb_equals_a_rebuild(tmp_path):
    require(idl.unoidl_write() is not None, "LibreOffice SDK unoidl-write (libreoffice-dev)")
    out = idl.compile_rdb(idl.IDL_PATH, tmp_path / "again.rdb")
    assert out.read_bytes() == idl.RDB_PATH.read_bytes()


def test_build_from_tracked_sources_only(tmp_path):
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "addin/calc"], capture_output=True, text=True).stdout
    for f in ("SectorRotation.rdb", "SectorRotation.idl", "oxt/sector_rotation.py", "oxt/Jobs.xcu",
              "oxt/ProtocolHandler.xcu", "oxt/description.xml"):
        assert f"addin/calc/{f}" in tracked.split(), f"{f} must be committed for a fresh clone to build"


def test_oxt_contents(tmp_path):
    res = CliRunner().invoke(app, ["calc", "build", "--out", str(tmp_path / "SR.oxt"), "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["functions"] == list(SPECS) and r["actions"] == list(ACTIONS)
    with zipfile.ZipFile(tmp_path / "SR.oxt") as z:
        names = set(z.namelist())
        manifest = z.read("META-INF/manifest.xml").decode()
        addons = z.read("Addons.xcu").decode()
        addins = z.read("CalcAddIns.xcu").decode()
        env = json.loads(z.read("rotation-env.json"))
    for part in ("SectorRotation.rdb", "sector_rotation.py", "CalcAddIns.xcu", "Addons.xcu", "Jobs.xcu"):
        assert part in names and f'manifest:full-path="{part}"' in manifest
    for action in ACTIONS:                       # menu and toolbar: one entry each per ribbon button
        assert addons.count(f"<value>org.sectorrotation.calc:{action}</value>") == 2
    for name, spec in SPECS.items():
        assert f'<node oor:name="{name}" oor:op="replace">' in addins
        for a in spec.args:
            assert f'<node oor:name="{idl.camel(a.name)}" oor:op="replace">' in addins
    assert env["paths"][0] == str(ROOT) and env["python"] == "%d.%d" % __import__("sys").version_info[:2]
    assert set(env["functions"]) == set(SPECS)


def test_bad_out_name_is_one_sentence(tmp_path):
    res = CliRunner().invoke(app, ["calc", "build", "--out", str(tmp_path / "SR.zip")])
    assert res.exit_code == 2 and "expected a file name ending in .oxt" in res.output


def test_missing_out_folder_is_one_sentence_and_writes_nothing(tmp_path):
    res = CliRunner().invoke(app, ["calc", "build", "--out", str(tmp_path / "no" / "SR.oxt")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "no").exists()


def test_python_mismatch_is_stated(monkeypatch, tmp_path):
    monkeypatch.setattr(build, "libreoffice_python", lambda: "3.9")
    res = CliRunner().invoke(app, ["calc", "install", "--profile", str(tmp_path / "p")])
    assert res.exit_code == 2 and "LibreOffice runs Python 3.9 but this environment is Python 3." in res.output
    res = CliRunner().invoke(app, ["calc", "build", "--out", str(tmp_path / "SR.oxt")])
    assert res.exit_code == 0 and "LibreOffice runs Python 3.9" in res.output


def test_component_maps_excel_spellings(monkeypatch):
    """The onDocumentAdded job's formula rewrite (the component's own function, loaded as a module
    with a stand-in environment file): Excel's _xludf. prefix and any case, not inside quotes."""
    import importlib.util
    import sys
    import types

    for name in ("unohelper", "com", "com.sun", "com.sun.star", "com.sun.star.frame", "com.sun.star.lang",
                 "com.sun.star.task", "org", "org.sectorrotation", "org.sectorrotation.calc"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["unohelper"].Base = type("Base", (), {})
    sys.modules["unohelper"].ImplementationHelper = lambda: types.SimpleNamespace(addImplementation=lambda *a: None)
    for mod, names in (("com.sun.star.frame", ["XDispatch", "XDispatchProvider"]),
                       ("com.sun.star.lang", ["XInitialization", "XServiceInfo", "XServiceName"]),
                       ("com.sun.star.task", ["XJob"]), ("org.sectorrotation.calc", ["XSectorRotation"])):
        for n in names:
            setattr(sys.modules[mod], n, type(n, (), {}))
    src = Path(build.HERE / "oxt" / "sector_rotation.py")
    tmp = Path(__import__("tempfile").mkdtemp())
    (tmp / "sector_rotation.py").write_text(src.read_text())
    (tmp / "rotation-env.json").write_text(json.dumps(build.environment()))
    spec = importlib.util.spec_from_file_location("sector_rotation_under_test", tmp / "sector_rotation.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.excel_formula('=_xludf.BOND_STRESS("2008-10-10")') == '=BOND_STRESS("2008-10-10")'
    assert mod.excel_formula('=bond_stress_detail(A1)+_XLUDF.stress_regime()') == \
        '=BOND_STRESS_DETAIL(A1)+STRESS_REGIME()'
    assert mod.excel_formula('="BOND_STRESS(" & A1') is None
    assert mod.excel_formula('{=_xludf.OPTIMAL_WEIGHTS(K1:L4,"2008,10")}') == '=OPTIMAL_WEIGHTS(K1:L4;"2008,10")'
    assert mod.excel_formula('=DEFENSIVE_ALTERNATIVES(A1;4)') == '=DEFENSIVE_ALTERNATIVES(A1;4)' 
    assert mod.excel_formula("=ORG.SECTORROTATION.CALC.FUNCTIONS.BOND_STRESS(A1)") is None
    assert mod.excel_formula("=SUM(A1:A3)") is None


def test_the_shared_layer_needs_neither_xlwings_nor_uno():
    """LibreOffice imports udfs.family and addin.calc.cells: neither may pull in xlwings (or uno)."""
    import sys

    code = ("import sys; sys.modules['xlwings'] = None; sys.modules['uno'] = None; "
            "import udfs.family, addin.calc.cells, addin.calc.unobook; "
            "assert 'xlwings' not in [m for m in sys.modules if sys.modules[m] is not None]")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
