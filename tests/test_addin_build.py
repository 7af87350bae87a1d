"""`rotation addin build`: the .xlam patched from the xlwings template, checked with independent readers
(zipfile, Microsoft's customui14.xsd through xmlschema, olefile for the compound file, olevba for the VBA)."""
from __future__ import annotations

import importlib
import io
import json
import zipfile
from pathlib import Path

import olefile
import pytest
import xmlschema
from hypothesis import given, settings, strategies as st
from oletools.olevba import decompress_stream
from typer.testing import CliRunner

import xlwings_harness as xh
from addin.cli.main import app
from addin.xlam import ovba
from addin.xlam.cfb import Node, write
from addin.xlam.check import check_xlam, procedures, vba_modules

XSD = Path(__file__).parent / "data" / "office" / "customui14.xsd"
RIBBON = Path(__file__).resolve().parents[1] / "addin" / "ribbon" / "customUI14.xml"
BUTTONS = ["RefreshSignals", "Optimize", "GenerateTrades", "RunBacktest", "ExportSigned", "Verify", "Settings"]


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    out = tmp_path_factory.mktemp("addin") / "SectorRotation.xlam"
    res = CliRunner().invoke(app, ["addin", "build", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.output)


def test_ribbon_xml_validates_against_microsofts_schema():
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(str(RIBBON))
    broken = RIBBON.read_text().replace('size="large"', 'size="huge"', 1)
    assert not schema.is_valid(broken)                  # the schema really checks attribute values


def test_built_addin_passes_every_check(xlam):
    path, r = xlam
    c = check_xlam(path, XSD)
    assert c["ok"], c
    assert c["addin_content_type"] and c["ribbon_relationship"] and c["legacy_customui_absent"]
    assert c["xsd_errors"] == []
    assert c["buttons"] == BUTTONS
    assert c["on_actions"] == ["SectorRotationRibbon.OnAction"] and c["missing_subs"] == []
    assert set(c["modules"]) == {"ThisWorkbook", "Sheet2", "Dictionary", "xlwings", "SectorRotationUDFs",
                                 "SectorRotationWizard", "SectorRotationRibbon"}
    assert r["check"]["ok"] and r["conf_sheet"] == "sectorrotation.conf"


def test_content_types_and_parts(xlam):
    path, _ = xlam
    z = zipfile.ZipFile(path)
    ct = z.read("[Content_Types].xml").decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"' in ct
    assert 'Default Extension="xml"' in ct                 # covers customUI/customUI14.xml
    rels = z.read("_rels/.rels").decode()
    assert rels.count("ui/extensibility") == 1 and 'Target="customUI/customUI14.xml"' in rels
    assert z.read("customUI/customUI14.xml") == RIBBON.read_bytes()
    wb = z.read("xl/workbook.xml").decode()
    assert '<sheet name="sectorrotation.conf"' in wb
    template = zipfile.ZipFile(xh.xlwings.__file__.replace("__init__.py", "quickstart_addin_ribbon.xlam"))
    for part in ("xl/styles.xml", "xl/theme/theme1.xml", "xl/_rels/workbook.xml.rels"):
        assert z.read(part) == template.read(part), part     # untouched parts are copied byte for byte


def test_conf_sheet_holds_what_xlwings_reads(xlam):
    path, _ = xlam
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    for text in ("UDF Modules", "udfs.functions", "Use UDF Server"):
        assert text in sheet
    for machine_specific in ("Interpreter", "ROTATION FROZEN"):      # from the user's conf file (install.ps1)
        assert machine_specific not in sheet
    xlwings_src = vba_modules(path)["xlwings"]
    assert 'Public Const PROJECT_NAME As String = "sectorrotation"' in xlwings_src
    assert 'Set sht = wb.Sheets(PROJECT_NAME & ".conf")' in xlwings_src      # so the sheet above is the one read


def test_shipped_function_module_equals_generate_vba_wrapper(xlam, monkeypatch):
    path, _ = xlam
    mod, xu = xh.reload_with_real_decorators("udfs.functions", monkeypatch)
    try:
        class Book:
            Name = "SectorRotation.xlam"

        buf = io.StringIO()
        xu.generate_vba_wrapper("udfs.functions", mod, buf, Book())
        expected = buf.getvalue()
        shipped = vba_modules(path)["SectorRotationUDFs"].replace("\r\n", "\n")
        assert shipped.endswith(expected.replace("\r\n", "\n"))
        names = [f.__xlfunc__["name"] for f in vars(mod).values() if hasattr(f, "__xlfunc__")]
        assert len(names) == 13
        for n in names:
            assert f'XLPy.CallUDF("udfs.functions", "{n}"' in shipped
            assert f"Function {n}(" in shipped
        assert "Function BOND_STRESS_FROM(dates, hy_oas, ig_oas, vix, ParamArray more_series())" in shipped
        wizard = vba_modules(path)["SectorRotationWizard"]
        for f in vars(mod).values():
            if hasattr(f, "__xlfunc__"):
                assert f"'!{f.__xlfunc__['name']}\", Description:=" in wizard
    finally:
        monkeypatch.undo()
        importlib.reload(mod)


def test_dispatcher_and_workbook_open(xlam):
    path, _ = xlam
    mods = vba_modules(path)
    subs = procedures(mods)
    assert {"SectorRotationRibbon.OnAction", "SectorRotationRibbon.Dispatch", "xlwings.RunPython",
            "xlwings.RunFrozenPython", "xlwings.GetConfig", "SectorRotationWizard.RegisterFunctions"} <= subs
    ribbon = mods["SectorRotationRibbon"]
    assert "RunPython \"import addin.ribbon.xl as xl; xl.run('\" & action & \"')\"" in ribbon
    assert 'RunFrozenPython frozen, "addin run " & action' in ribbon
    assert "SectorRotationWizard.RegisterFunctions" in mods["ThisWorkbook"]
    from addin.ribbon.callbacks import ACTIONS

    assert sorted(ACTIONS) == sorted(BUTTONS)                 # every button id has a Python callback


def test_vba_project_streams(xlam):
    path, _ = xlam
    ole = olefile.OleFileIO(io.BytesIO(zipfile.ZipFile(path).read("xl/vbaProject.bin")))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert 'Name="SectorRotation"' in project and "Module=SectorRotationRibbon" in project
    assert "Document=ThisWorkbook/&H00000000" in project and "Class=Dictionary" in project
    assert ole.openstream("VBA/_VBA_PROJECT").read()[:5] == bytes.fromhex("cc61ffff00")   # no p-code: compiled on open
    assert not any(e[-1].startswith("__SRP") for e in ole.listdir())


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=9000),
                 st.text(alphabet="Sub End If Then x = 1\r\n()\"'", max_size=12000).map(lambda s: s.encode())))
def test_compression_round_trips_through_oletools(data):
    try:
        packed = ovba.compress(data)
    except ValueError:                       # only for an incompressible final chunk of random bytes
        assert len(data) % 4096 > 3600
        return
    assert bytes(decompress_stream(bytearray(packed))) == data


@pytest.mark.parametrize("n", [0, 1, 8, 9, 4093, 4095, 4096, 4097, 8192, 20000])
def test_compression_chunk_edges(n):
    data = (b"Attribute VB_Name = \"M\"\r\nSub A()\r\nEnd Sub\r\n" * 1000)[:n]
    assert bytes(decompress_stream(bytearray(ovba.compress(data)))) == data


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcXYZ_1", min_size=1, max_size=12),
                       st.binary(max_size=6000), min_size=1, max_size=12))
def test_compound_file_round_trips_through_olefile(streams):
    root = Node("Root Entry")
    for name, data in streams.items():
        root.add(f"VBA/{name}", data)
    root.add("PROJECT", b"ID=x")
    ole = olefile.OleFileIO(io.BytesIO(write(root)))
    for name, data in streams.items():
        assert ole.openstream(f"VBA/{name}").read() == data
    assert ole.openstream("PROJECT").read() == b"ID=x"


def test_bad_output_paths_are_one_sentence(tmp_path):
    res = CliRunner().invoke(app, ["addin", "build", "--out", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 2 and "expected a file name ending in .xlam" in res.output
    res = CliRunner().invoke(app, ["addin", "build", "--out", str(tmp_path / "a.xlam"), "--template",
                                   str(tmp_path / "missing.xlam")])
    assert res.exit_code == 2 and "cannot read the add-in template" in res.output and "Traceback" not in res.output
