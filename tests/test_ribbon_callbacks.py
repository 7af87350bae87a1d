"""Ribbon callbacks on real .xlsx files (the openpyxl SheetBook): inputs from named ranges, the same
numbers as the CLI, tables where the signed export puts them, errors as one sentence in a message."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from typer.testing import CliRunner

from addin.cli.main import app
from addin.ribbon import callbacks
from addin.ribbon.workbook import OpenpyxlBook
from named_ranges import write_named_ranges
from workbooks.template import TABLES

NINE = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")


def make_book(path: Path, as_of="2008-10-10", weights=None, limits=None, source="demo", verify=None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    names = {"AsOfDate": "Inputs!$B$1", "DataSource": "Inputs!$B$2"}
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "as of", as_of, "data", source
    if weights:
        for i, (tk, w) in enumerate(weights, start=5):
            ws.cell(i, 1, tk), ws.cell(i, 2, w)
        names["CurrentWeights"] = f"Inputs!$A$5:$B${4 + len(weights)}"
    if limits:
        for i, (k, v) in enumerate(limits, start=20):
            ws.cell(i, 1, k), ws.cell(i, 2, v)
        names["Limits"] = f"Inputs!$A$20:$B${19 + len(limits)}"
    if verify:
        ws["B3"] = str(verify)
        names["VerifyPath"] = "Inputs!$B$3"
    for n, ref in names.items():
        wb.defined_names[n] = DefinedName(n, attr_text=ref)
    wb.save(path)
    return path


def table(path: Path, spec_name: str) -> list[dict]:
    spec = TABLES[spec_name]
    ws = load_workbook(path)[spec.sheet]
    head = []
    for c in ws[spec.row][spec.col - 1:]:
        if c.value is None:
            break
        head.append(c.value)
    rows = []
    for r in ws.iter_rows(min_row=spec.row + 1, min_col=spec.col, max_col=spec.col + len(head) - 1, values_only=True):
        if r[0] is None:
            break
        rows.append(dict(zip(head, r)))
    return rows


def cli_json(*args) -> dict:
    res = CliRunner().invoke(app, [*args, "--demo", "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_optimize_writes_the_cli_numbers_where_the_export_puts_them(tmp_path):
    weights = [("ticker", "weight")] + [(tk, 1 / 9) for tk in NINE]
    path = make_book(tmp_path / "pm.xlsx", weights=weights, limits=[("tech_cap", 0.2)])
    book = OpenpyxlBook(path)
    assert callbacks.run("Optimize", book), book.messages
    book.save()
    csv = tmp_path / "w.csv"
    csv.write_text("ticker,weight\n" + "".join(f"{tk},{1 / 9}\n" for tk in NINE))
    ref = cli_json("optimize", "--as-of", "2008-10-10", "--current", str(csv), "--tech-cap", "0.2")
    rows = table(path, "Weights")
    assert [r["ticker"] for r in rows] == list(ref["weights"])
    assert list(rows[0]) == list(TABLES["Weights"].columns)
    for r in rows:
        assert r["target"] == pytest.approx(ref["weights"][r["ticker"]], abs=1e-12)
        assert r["current"] == pytest.approx(ref["current"][r["ticker"]], abs=1e-12)
        assert r["active"] == pytest.approx(r["target"] - r["benchmark"], abs=1e-12)
    trans = table(path, "Transition")
    assert len(trans) == len(ref["transition"]) and trans[-1]["XLK"] == pytest.approx(ref["transition"][-1]["XLK"])
    assert "2008-10-10" in book.messages[-1] and book.statuses[-1] is None      # status bar given back


def test_refresh_signals_equals_rotation_signals(tmp_path):
    path = make_book(tmp_path / "pm.xlsx")
    book = OpenpyxlBook(path)
    assert callbacks.run("RefreshSignals", book), book.messages
    book.save()
    ref = cli_json("signals", "--as-of", "2008-10-10")
    rows = table(path, "Signals")
    last = rows[-1]
    assert last["date"].date().isoformat() == ref["as_of"] == "2008-10-10"
    assert last["index"] == pytest.approx(ref["index"], rel=1e-12)
    assert last["percentile"] == pytest.approx(ref["percentile"] / 100.0)
    assert last["regime"] == ref["regime"]
    dash = load_workbook(path)["Dashboard"]
    values = {r[0]: r[1] for r in dash.iter_rows(min_row=7, values_only=True) if r[0]}
    assert values["regime"] == ref["regime"] and values["stress index (sd)"] == pytest.approx(ref["index"])
    assert "Signals refreshed to 2008-10-10" in book.messages[-1]
    assert any(s and "stress signal" in s for s in book.statuses)


@pytest.mark.slow
def test_export_then_verify_from_the_ribbon(tmp_path, monkeypatch):
    # a signer of this test's own (a keyring-less machine keeps its passphrase in the environment)
    monkeypatch.setenv("ROTATION_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "a passphrase for tests only")
    path = make_book(tmp_path / "pm.xlsx")
    book = OpenpyxlBook(path)
    assert callbacks.run("ExportSigned", book), book.messages
    assert "verification holds" in book.messages[-1]
    exported = tmp_path / "rotation-decision-20081010.xlsx"
    assert exported.exists() and Path(str(exported) + ".p7s").exists()
    assert callbacks.run("Verify", book) and "all five checks hold" in book.messages[-1]
    book.save()
    # a tampered copy fails, in words
    from openpyxl import load_workbook as lw

    bad = tmp_path / "tampered.xlsx"
    wb = lw(exported)
    wb["Weights"]["D7"] = 0.99
    wb.save(bad)
    book2 = OpenpyxlBook(make_book(tmp_path / "pm2.xlsx", verify=bad))
    assert callbacks.run("Verify", book2) is True
    assert "verification FAILED" in book2.messages[-1]


@pytest.mark.parametrize("kwargs,words", [
    ({"weights": [("XLK", 0.5), ("XLU", 0.4)]}, "CurrentWeights: weights sum to 90.00%"),
    ({"limits": [("tech_kap", 0.2)]}, "Limits: tech_kap"),
    ({"as_of": "not a date"}, "expected a date like 2008-10-10"),
    ({"source": "/nowhere/at/all"}, "DataSource: expected demo, a data folder or a .sqlite store"),
    ({"weights": [("XLK", 0.5), ("XLU", 0.5)], "limits": [("tech_cap", 0.05), ("tracking_error", 0.01)]},
     "The allocation limits cannot all hold"),
])
def test_errors_are_one_sentence_in_a_message(tmp_path, kwargs, words):
    path = make_book(tmp_path / "pm.xlsx", **kwargs)
    before = path.read_bytes()
    book = OpenpyxlBook(path)
    assert callbacks.run("Optimize", book) is False
    msg = book.messages[-1]
    assert msg.startswith("Error: ") and words in msg and "Traceback" not in msg and "\n" not in msg
    assert "Weights" not in book.wb.sheetnames and path.read_bytes() == before


def _add_names(path: Path, cells: dict[str, list[list]]) -> Path:
    wb = load_workbook(path)
    ws = wb.create_sheet("More")
    write_named_ranges(wb, ws, cells)
    wb.save(path)
    return path


def test_generate_trades_equals_rotation_trades(tmp_path):
    from usecases.context import open_market
    from usecases.trades import rebalance_trades

    holdings = [["ticker", "shares"], ["XLK", 10000], ["XLU", 5000], ["CASH", 100000]]
    path = _add_names(make_book(tmp_path / "pm.xlsx", as_of="2019-06-28"), {"Holdings": holdings})
    book = OpenpyxlBook(path)
    assert callbacks.run("GenerateTrades", book), book.messages
    book.save()
    ref = rebalance_trades(open_market(demo=True), holdings, "2019-06-28")
    rows = table(path, "Trades")
    assert [(r["ticker"], r["side"], r["shares"]) for r in rows] == \
        [(o["ticker"], o["side"], o["shares"]) for o in ref["orders"]]
    assert "Execution" in load_workbook(path).sheetnames and "orders" in book.messages[-1]
    empty = OpenpyxlBook(make_book(tmp_path / "none.xlsx"))
    assert callbacks.run("GenerateTrades", empty) is False and "name a range Holdings" in empty.messages[-1]


def test_run_backtest_equals_run_backtest_use_case(tmp_path):
    import pandas as pd

    from usecases.backtest import run_backtest
    from usecases.context import open_market

    path = _add_names(make_book(tmp_path / "pm.xlsx"), {"BacktestStrategy": [["spy"]], "BacktestFrom": [["2018-01-01"]],
                                                        "BacktestTo": [["2018-12-31"]]})
    book = OpenpyxlBook(path)
    assert callbacks.run("RunBacktest", book), book.messages
    book.save()
    ref = run_backtest(open_market(demo=True), "spy", start=pd.Timestamp("2018-01-01"), end=pd.Timestamp("2018-12-31"))
    score = {r["metric"]: r["value"] for r in table(path, "Scorecard")}
    assert score["total_return"] == pytest.approx(ref.metrics["total_return"], rel=1e-12)
    curve = table(path, "Backtest")
    assert len(curve) == len(ref.daily()) and curve[-1]["portfolio"] == pytest.approx(
        ref.daily()["nav"].iloc[-1] / ref.run.config.capital)


def test_settings_and_the_frozen_entry_point(tmp_path):
    path = make_book(tmp_path / "pm.xlsx")
    res = CliRunner().invoke(app, ["addin", "run", "Settings", "--book", str(path)])
    assert res.exit_code == 0, res.output
    assert "DEMO DATA (synthetic), 1999-01-04 to 2019-12-31" in res.output
    ws = load_workbook(path)["Settings"]
    status = {r[0]: r[1] for r in ws.iter_rows(min_row=7, max_row=12, values_only=True)}
    assert status["AsOfDate"] == "1 x 1 cells" and status["Holdings"] == "not defined"
    res = CliRunner().invoke(app, ["addin", "run", "Bogus", "--book", str(path)])
    assert res.exit_code == 1 and "unknown button 'Bogus'" in res.output
