"""The Calc extension in a real headless LibreOffice (one soffice for the module, a dedicated profile):
built and installed as `rotation calc build` / `rotation calc install` do, documents opened over UNO.

- every function in one document, the values equal to the CLI's JSON (BOND_STRESS, OPTIMAL_WEIGHTS,
  REBALANCE_TRADES) or to the same family function in this process (the others), on ../shared/data;
- bad input shows the error text and LibreOffice stays up;
- an openpyxl-written .xlsx with the formulas as Excel writes them recalculates to the right values;
- each toolbar action writes the same cells as the ribbon callback on the same workbook.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from addin.calc.cells import serial
from addin.cli.main import app
from conftest import require
from named_ranges import write_named_ranges

pytestmark = pytest.mark.libreoffice
AS_OF = "2008-10-10"
WEIGHTS = [["ticker", "weight"], ["XLK", 0.5], ["XLU", 0.3], ["XLF", 0.2]]
LIMITS = [["tech_cap", 0.2], ["turnover", 0.5]]
HOLDINGS = [["ticker", "shares"], ["XLK", 10000], ["XLU", 5000], ["CASH", 100000]]


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory) -> Path:
    from usecases.context import import_folders

    path = tmp_path_factory.mktemp("calc-store") / "store.sqlite"
    import_folders([shared_data], store=path)
    return path


@pytest.fixture(scope="module")
def calc(store, tmp_path_factory):
    """Build and install the extension into a fresh profile, then one soffice on it for the module."""
    from addin.calc.office import Session, available

    missing = available()
    require(missing is None, f"LibreOffice ({missing})")
    tmp = tmp_path_factory.mktemp("calc")
    runner = CliRunner()
    res = runner.invoke(app, ["calc", "build", "--out", str(tmp / "SectorRotation.oxt"), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["calc", "install", "--profile", str(tmp / "profile"), "--oxt",
                              str(tmp / "SectorRotation.oxt"), "--json"])
    assert res.exit_code == 0, res.output
    assert all(json.loads(res.output)["registered"].values())
    import subprocess

    left = subprocess.run(["pgrep", "-f", str(tmp / "profile")], capture_output=True, text=True).stdout.split()
    assert left == [], "rotation calc install left its soffice running"
    keys = tmp / "keys"
    env = {"ROTATION_STORE": str(store), "ROTATION_KEYS_DIR": str(keys), "ROTATION_LEDGER": str(tmp / "ledger.sqlite"),
           "ROTATION_SIGNING_PASSPHRASE": "a passphrase for tests only"}
    session = Session(tmp / "profile", env=env)
    try:
        yield session, env
    finally:
        session.close()
    assert session.proc.poll() is not None
    left = subprocess.run(["pgrep", "-f", str(tmp / "profile")], capture_output=True, text=True).stdout.split()
    assert left == [], "soffice outlived the test session"


@functools.lru_cache(maxsize=None)
def _cli(*args) -> str:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return res.stdout                            # warnings on stderr are not part of the JSON


def cli_json(*args) -> dict:
    """The CLI's JSON for ``args`` (each distinct command runs once per test session)."""
    return json.loads(_cli(*map(str, args)))


def put_range(rows, col: str, row0: int) -> str:
    """UNO code writing ``rows`` (numbers and texts) with the top-left cell at (col, row0) of ``sh``."""
    width = max(len(r) for r in rows)
    data = tuple(tuple(r) + ("",) * (width - len(r)) for r in rows)
    return (f"sh.getCellRangeByPosition({ord(col) - 65}, {row0 - 1}, {ord(col) - 66 + width}, "
            f"{row0 - 2 + len(rows)}).setDataArray({data!r})\n")


def user_series(store) -> list[list]:
    """600 sessions of hy_oas, ig_oas and vix up to the date, dates as serial numbers (as Calc has them)."""
    from usecases.context import open_market

    days = open_market(store=store).stress.loc[:AS_OF, ["hy_oas", "ig_oas", "vix"]].ffill().iloc[-600:]
    return [["date", "hy_oas", "ig_oas", "vix"]] + [
        [serial(t.to_pydatetime()), float(r["hy_oas"]), float(r["ig_oas"]), float(r["vix"])] for t, r in days.iterrows()]


FORMULAS = {   # cell -> (formula, array size rows x cols or None)
    "A1": ('=BOND_STRESS("2008-10-10")', None),
    "A2": ('=STRESS_REGIME("2008-10-10")', None),
    "A3": ('=BOND_STRESS(39731)', None),
    "A4": ('=ROTATION_ISERROR(A20)', None),
    "A20": ('=BOND_STRESS("10/03/2008")', None),
    "A21": ('=OPTIMAL_WEIGHTS(K1:L4;"2008-10-10";K10:L11)', None),
    "C1": ('=OPTIMAL_WEIGHTS(K1:L4;"2008-10-10";K10:L11)', (12, 5)),
    "C15": ('=REBALANCE_TRADES(N1:O4;"2008-10-10")', (10, 5)),
    "C30": ('=BOND_STRESS_DETAIL("2008-10-10")', (2, 8)),
    "C35": ('=TECH_WARNING("2008-10-10")', (2, 6)),
    "C40": ('=DEFENSIVE_ALTERNATIVES("2008-10-10";4)', (5, 7)),
    "C50": ('=SECTOR_SCORES("2008-10-10")', (10, 12)),
    "C65": ('=BOND_STRESS_HISTORY("2008-10-01";"2008-10-10";"index, regime")', (9, 3)),
    "C80": ('=BACKTEST_STATS("momentum";"2008-01-01";"2008-12-31")', (30, 2)),
    "C115": ('=ALERTS("2008-09-01")', (40, 3)),
    "C160": ('=BOND_STRESS_FROM(Q1:Q601;R1:R601;S1:S601;T1:T601)', (350, 6)),
}


@pytest.fixture(scope="module")
def sheet(calc, store):
    """One Calc document using every function (ranges filled over UNO), recalculated; its cells."""
    session, _ = calc
    code = "doc = load(None)\nsh = doc.Sheets.getByIndex(0)\n"
    code += put_range(WEIGHTS, "K", 1) + put_range(LIMITS, "K", 10) + put_range(HOLDINGS, "N", 1)
    code += put_range(user_series(store), "Q", 1)
    for cell, (f, size) in FORMULAS.items():
        if size is None:
            code += f"sh.getCellRangeByName('{cell}').setFormula({f!r})\n"
        else:
            code += f"sh.getCellRangeByName('{_span(cell, size)}').setArrayFormula({f!r})\n"
    code += "doc.calculateAll()\nresult = {}\n"
    for cell, (f, size) in FORMULAS.items():
        if size is None:
            code += f"c = sh.getCellRangeByName('{cell}')\nresult['{cell}'] = [c.getFormula(), c.getValue() if c.getType().value == 'VALUE' or (c.getType().value == 'FORMULA' and c.FormulaResultType2 == 1) else c.getString()]\n"
        else:
            code += (f"result['{cell}'] = [sh.getCellRangeByName('{cell}').getFormula(), "
                     f"sh.getCellRangeByName('{_span(cell, size)}').getDataArray()]\n")
    code += "doc.close(True)\n"
    return session.run(code)


def _span(cell: str, size: tuple[int, int]) -> str:
    """The range of ``size`` (rows, columns) whose top-left is ``cell`` (a one-letter column), e.g. C1:G12."""
    col, row = cell[0], int(cell[1:])
    return f"{cell}:{chr(ord(col) + size[1] - 1)}{row + size[0] - 1}"


def table(cells) -> list[list]:
    """An array formula's cells without the #N/A padding beyond the result (None rows/columns)."""
    rows = [r for r in cells if any(c is not None for c in r)]
    width = max(i + 1 for r in rows for i, c in enumerate(r) if c is not None)
    return [list(r[:width]) for r in rows]


def family_cells(name, *args):
    """The same family function in this process, on the same store, converted as for Calc."""
    from addin.calc.cells import call

    return call(name, args)


def test_formulas_resolve_to_the_functions(sheet):
    for cell, (f, _) in FORMULAS.items():
        assert sheet[cell][0].upper().startswith("=ORG.SECTORROTATION.CALC.FUNCTIONS.") or \
            sheet[cell][0].startswith("{=ORG.SECTORROTATION.CALC.FUNCTIONS."), sheet[cell][0]


def test_bond_stress_equals_rotation_signals(sheet, store):
    ref = cli_json("signals", "--as-of", AS_OF, "--store", store)
    assert sheet["A1"][1] == pytest.approx(ref["index"], rel=1e-12)
    assert sheet["A3"][1] == pytest.approx(ref["index"], rel=1e-12)        # a date serial, as Calc passes date cells
    assert sheet["A2"][1] == ref["regime"]


def optimize_json(store, tmp_path_factory=None) -> dict:
    csv = Path(str(store) + ".weights.csv")
    csv.write_text("".join(f"{t},{w}\n" for t, w in WEIGHTS))
    return cli_json("optimize", "--as-of", AS_OF, "--current", csv, "--tech-cap", "0.2", "--turnover", "0.5",
                    "--store", store)


def test_optimal_weights_equal_rotation_optimize(sheet, store):
    ref = optimize_json(store)
    rows = table(sheet["C1"][1])
    assert rows[0] == ["ticker", "current", "target", "benchmark", "change"]
    assert [r[0] for r in rows[1:]] == list(ref["weights"])
    for tk, cur, target, bench, change in rows[1:]:
        assert target == pytest.approx(ref["weights"][tk], abs=1e-12)
        assert cur == pytest.approx(ref["current"][tk], abs=1e-12)
        assert bench == pytest.approx(ref["benchmark"][tk], abs=1e-12)
    assert sheet["A21"][1] == "ticker"             # a table in a plain formula shows its top-left cell


def test_rebalance_trades_equal_rotation_trades(sheet, store, tmp_path):
    csv = tmp_path / "h.csv"
    csv.write_text("".join(f"{t},{s}\n" for t, s in HOLDINGS))
    ref = cli_json("trades", "--holdings", str(csv), "--as-of", AS_OF, "--store", str(store))
    orders = [o for o in ref["orders"] if o["step"] == 1]
    rows = table(sheet["C15"][1])
    assert rows[0] == ["ticker", "side", "shares", "notional", "expected_cost_bps"]
    assert len(rows) - 1 == len(orders) > 0
    for r, o in zip(rows[1:], orders):
        assert r[:3] == [o["ticker"], o["side"], float(o["shares"])]
        assert r[3] == pytest.approx(o["notional"], rel=1e-12) and r[4] == pytest.approx(o["expected_cost_bps"], rel=1e-12)


def test_every_other_function_equals_the_family_in_this_process(sheet, monkeypatch, store):
    monkeypatch.setenv("ROTATION_STORE", str(store))
    hist = family_cells("BOND_STRESS_HISTORY", "2008-10-01", "2008-10-10", "index, regime")
    cases = {"C30": family_cells("BOND_STRESS_DETAIL", AS_OF), "C35": family_cells("TECH_WARNING", AS_OF),
             "C40": family_cells("DEFENSIVE_ALTERNATIVES", AS_OF, 4.0), "C50": family_cells("SECTOR_SCORES", AS_OF),
             "C65": hist, "C80": family_cells("BACKTEST_STATS", "momentum", "2008-01-01", "2008-12-31"),
             "C115": family_cells("ALERTS", "2008-09-01")}
    for cell, ref in cases.items():
        got = table(sheet[cell][1])
        ref = [list(r) for r in ref][:len(got)]
        assert len(ref) > 1 and len(got) == len(ref), cell
        for g, e in zip(got, ref):
            assert g == pytest.approx(e, rel=1e-12, abs=1e-15), (cell, g, e)
    assert table(sheet["C65"][1])[1][0] == serial(datetime(2008, 10, 1))       # dates come back as serials


def test_bond_stress_from_user_series(sheet, store, monkeypatch):
    monkeypatch.setenv("ROTATION_STORE", str(store))
    cols = list(zip(*user_series(store)))
    ref = family_cells("BOND_STRESS_FROM", *[tuple((c,) for c in col) for col in cols])
    rows = table(sheet["C160"][1])
    assert rows[0] == ["date", "index", "percentile", "change_20d", "regime", "strength"] == list(ref[0])
    assert 1 < len(rows) <= 350 and rows == [list(r) for r in ref][:len(rows)]
    assert isinstance(rows[-1][1], float)


def test_bad_input_is_the_error_text_and_libreoffice_stays_up(sheet, calc):
    session, _ = calc
    text = sheet["A20"][1]
    assert text.startswith("#ERROR: as_of:") and "2008-10-03" in text and "2008-03-10" in text
    assert sheet["A4"][1] == 1.0                                         # ROTATION_ISERROR: TRUE
    bad = session.run("""
doc = load(None)
sh = doc.Sheets.getByIndex(0)
sh.getCellRangeByName('A1').setFormula('=OPTIMAL_WEIGHTS("nonsense";"2008-10-10")')
sh.getCellRangeByName('A2').setFormula('=REBALANCE_TRADES(12;"2008-10-10")')
sh.getCellRangeByName('A3').setFormula('=BACKTEST_STATS("no-such";"2008-01-01")')
sh.getCellRangeByName('A4').setFormula('=DEFENSIVE_ALTERNATIVES("2008-10-10";99)')
doc.calculateAll()
result = [sh.getCellRangeByName(a).getString() for a in ('A1', 'A2', 'A3', 'A4')]
doc.close(True)
""")
    for t in bad:
        assert t.startswith("#ERROR: ") and "Traceback" not in t and len(t) <= 255, t
    assert "n: expected a whole number from 1 to 11, got 99" in bad[3]
    assert session.alive()


def _excel_workbook(path: Path, cached: bool) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = '=_xludf.BOND_STRESS("2008-10-10")'
    ws["A2"] = '=STRESS_REGIME("2008-10-10")'
    ws["A3"] = '=_xludf.ROTATION_ISERROR(_xludf.BOND_STRESS("x"))'
    for i, (t, w) in enumerate(WEIGHTS, start=1):
        ws.cell(i, 11, t), ws.cell(i, 12, w)
    for i, (k, v) in enumerate(LIMITS, start=10):
        ws.cell(i, 11, k), ws.cell(i, 12, v)
    ws["C1"] = ArrayFormula("C1:G12", '=_xludf.OPTIMAL_WEIGHTS(K1:L4,"2008-10-10",K10:L11)')
    wb.save(path)
    if cached:                                   # Excel stores a value with each formula: put a stale one in
        import zipfile

        from lo_helpers import rewrite_part

        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        xml = xml.replace("</f><v></v>", "</f><v>0</v>").replace("</f></c>", "</f><v>0</v></c>")
        dst = path.with_name("cached-" + path.name)
        rewrite_part(path, dst, "xl/worksheets/sheet1.xml", xml.encode())
        return dst
    return path


@pytest.mark.parametrize("cached", [False, True])
def test_excel_authored_xlsx_recalculates_on_open(calc, store, tmp_path, cached):
    session, _ = calc
    path = _excel_workbook(tmp_path / "excel.xlsx", cached)
    got = session.run(f"""
doc = load({str(path)!r})
sh = doc.Sheets.getByIndex(0)
c = sh.getCellRangeByName
result = [c('A1').getFormula(), c('A1').getValue(), c('A2').getString(), c('A3').getValue(),
          c('C1:G12').getDataArray()]
doc.close(True)
""")
    ref = cli_json("signals", "--as-of", AS_OF, "--store", store)
    assert "ORG.SECTORROTATION.CALC.FUNCTIONS.BOND_STRESS" in got[0]
    assert got[1] == pytest.approx(ref["index"], rel=1e-12) and got[2] == ref["regime"] and got[3] == 1.0
    rows = table(got[4])
    opt = optimize_json(store)
    assert {r[0]: r[2] for r in rows[1:]} == pytest.approx(opt["weights"], abs=1e-12)



# ---- the toolbar: each action on a document with its inputs in named ranges --------------------------

def _pm_workbook(path: Path, store: Path) -> Path:
    """A PM's workbook: every input the buttons read, as workbook-level named ranges."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    # no DataSource: both faces read the worksheet functions' source ($ROTATION_STORE, the market cached)
    cells = {"AsOfDate": [[AS_OF]], "CurrentWeights": WEIGHTS, "Limits": LIMITS,
             "Holdings": HOLDINGS, "BacktestStrategy": [["momentum"]], "BacktestFrom": [["2008-01-01"]],
             "BacktestTo": [["2008-12-31"]]}
    write_named_ranges(wb, ws, cells)
    wb.save(path)
    return path


def _normal(v):
    """An openpyxl cell value as Calc holds it (dates as serials, booleans and integers as floats, "" empty)."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return serial(v)
    if isinstance(v, (bool, int)):
        return float(v)
    return v


def _ribbon(action: str, path: Path) -> tuple[dict, str]:
    from addin.ribbon import callbacks
    from addin.ribbon.workbook import OpenpyxlBook

    book = OpenpyxlBook(path)
    ok = callbacks.run(action, book)
    book.save()
    wb = load_workbook(path)
    sheets = {ws.title: [[_normal(c) for c in r] for r in ws.iter_rows(values_only=True)]
              for ws in wb.worksheets if ws.title != "Inputs"}
    return sheets, ("" if ok else "failed: ") + book.messages[-1]


def _toolbar_urls(session) -> dict[str, str]:
    """The installed toolbar's entries (URL per action), read from LibreOffice's configuration."""
    return session.run("""
cp = ctx.ServiceManager.createInstanceWithContext('com.sun.star.configuration.ConfigurationProvider', ctx)
node = cp.createInstanceWithArguments('com.sun.star.configuration.ConfigurationAccess',
    (prop('nodepath', '/org.openoffice.Office.Addons/AddonUI/OfficeToolBar/org.sectorrotation.calc.toolbar'),))
result = {}
for n in node.getElementNames():
    url = node.getByName(n).getPropertyValue('URL')
    result[url.split(':', 1)[1]] = url
""")


def _calc(session, action_url: str, path: Path, sheets: list[str]) -> tuple[dict, str]:
    return session.run(f"""
doc = load({str(path)!r})
dispatch(doc, {action_url!r})
props = doc.DocumentProperties.UserDefinedProperties
message = props.getPropertyValue('SectorRotationMessage')
result = [{{}}, message]
for name in {sheets!r}:
    if not doc.Sheets.hasByName(name):
        continue
    sh = doc.Sheets.getByName(name)
    cur = sh.createCursor()
    cur.gotoEndOfUsedArea(False)
    a = cur.getRangeAddress()
    result[0][name] = [list(r) for r in sh.getCellRangeByPosition(0, 0, a.EndColumn, a.EndRow).getDataArray()]
doc.close(True)
""")


def _same_cells(name, mine, ref):
    """Cell by cell over the ribbon's sheet (Calc's used area may end earlier where cells are empty)."""
    width = max((len(r) for r in ref), default=0)
    for i, row in enumerate(ref):
        for j in range(width):
            e = row[j] if j < len(row) else ""
            g = mine[i][j] if i < len(mine) and j < len(mine[i]) else ""
            if isinstance(e, float) and isinstance(g, float):
                assert g == pytest.approx(e, rel=1e-12, abs=1e-12), (name, i + 1, j + 1, g, e)
            else:
                assert g == e, (name, i + 1, j + 1, g, e)


@pytest.mark.parametrize("action", ["RefreshSignals", "Optimize", "GenerateTrades", "RunBacktest", "Settings"])
def test_toolbar_action_writes_what_the_ribbon_callback_writes(calc, store, tmp_path, action, monkeypatch):
    session, env = calc
    monkeypatch.setenv("ROTATION_STORE", str(store))
    urls = _toolbar_urls(session)
    from addin.ribbon.callbacks import ACTIONS

    assert set(urls) == set(ACTIONS)
    ref, ref_message = _ribbon(action, _pm_workbook(tmp_path / "ribbon.xlsx", store))
    assert not ref_message.startswith("failed"), ref_message
    mine, message = _calc(session, urls[action], _pm_workbook(tmp_path / "calc.xlsx", store), list(ref))
    assert message == ref_message
    written = [n for n in ref if any(any(c != "" for c in r) for r in ref[n])]
    assert written, action
    for name in written:
        _same_cells(name, mine[name], ref[name])


def test_export_and_verify_from_the_toolbar(calc, store, tmp_path, monkeypatch):
    session, env = calc
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    res = CliRunner().invoke(app, ["keys", "init", "--subject", "Calc Tester", "--json"])
    assert res.exit_code == 0, res.output
    urls = _toolbar_urls(session)
    folder = tmp_path / "calc"
    folder.mkdir()
    path = _pm_workbook(folder / "pm.xlsx", store)
    mine, message = session.run(f"""
doc = load({str(path)!r})
dispatch(doc, {urls['ExportSigned']!r})
props = doc.DocumentProperties.UserDefinedProperties
first = props.getPropertyValue('SectorRotationMessage')
dispatch(doc, {urls['Verify']!r})
second = props.getPropertyValue('SectorRotationMessage')
sh = doc.Sheets.getByName('Exports')
result = [[list(r) for r in sh.getCellRangeByName('A5:E7').getDataArray()], [first, second]]
doc.close(True)
""")
    exported = folder / "rotation-decision-20081010.xlsx"
    assert "verification holds" in message[0] and exported.exists(), message
    assert message[1] == f"{exported.name}: all five checks hold."
    head, row = mine[1], mine[2]
    assert head == ["as_of", "path", "sha256", "ledger_seq", "verified"]
    assert row[0] == AS_OF and row[1] == str(exported) and row[4] == 1.0
    import hashlib

    assert row[2] == hashlib.sha256(exported.read_bytes()).hexdigest()
    from workbooks.verify import verify_workbook

    assert verify_workbook(exported)["ok"]                 # this process agrees with the toolbar's Verify



def test_ods_round_trip_keeps_the_functions(calc, store, tmp_path):
    """A Calc document saved as .ods and opened again: the formulas still name the functions and
    recalculate to the CLI's values."""
    session, _ = calc
    path = tmp_path / "book.ods"
    got = session.run(f"""
doc = load(None)
sh = doc.Sheets.getByIndex(0)
sh.getCellRangeByName('A1').setFormula('=BOND_STRESS("2008-10-10")')
{put_range(WEIGHTS, "K", 1).strip()}
sh.getCellRangeByName('C1:G12').setArrayFormula('=OPTIMAL_WEIGHTS(K1:L4;"2008-10-10";K10:L11)')
{put_range(LIMITS, "K", 10).strip()}
doc.storeToURL(uno.systemPathToFileUrl({str(path)!r}), (prop('FilterName', 'calc8'),))
doc.close(True)
doc = load({str(path)!r})
doc.calculateAll()
sh = doc.Sheets.getByIndex(0)
result = [sh.getCellRangeByName('A1').getFormula(), sh.getCellRangeByName('A1').getValue(),
          sh.getCellRangeByName('C1:G12').getDataArray()]
doc.close(True)
""")
    assert got[0].startswith("=ORG.SECTORROTATION.CALC.FUNCTIONS.BOND_STRESS(")
    assert got[1] == pytest.approx(cli_json("signals", "--as-of", AS_OF, "--store", store)["index"], rel=1e-12)
    assert {r[0]: r[2] for r in table(got[2])[1:]} == pytest.approx(optimize_json(store)["weights"], abs=1e-12)
