"""The template-filling writer: sheets present/absent, named cells, tables, charts, digest round trip,
restyled templates kept, typed errors."""
from __future__ import annotations

import dataclasses
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import range_boundaries

from engine.errors import ArgumentError, DataError
from workbooks import template as tpl
from workbooks.digest import content_digest, read_audit_digest
from workbooks.report import DecisionReport, example_report
from workbooks.writer import chart_sample, named_cell, write_workbook

OPTIONAL = ("reading", "signals", "early_warning", "sectors", "scores", "weights", "transition", "risk")


@pytest.fixture(scope="module")
def report() -> DecisionReport:
    return example_report(sessions=5000)


@pytest.fixture(scope="module")
def book(report, tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "book.xlsx"
    write_workbook(report, path)
    return path


def _bare(report, **keep) -> DecisionReport:
    fields = {f: None for f in OPTIONAL}
    fields.update(keep)
    return dataclasses.replace(report, **fields)


def test_every_sheet_present_and_in_template_order(book):
    wb = load_workbook(book)
    assert wb.sheetnames == ["Dashboard", "Signals", "Early Warning", "Sector Scores", "Weights",
                             "Commentary", "Parameters", "Audit"]


def test_sheets_left_out_when_data_is_none(report, tmp_path):
    bare = _bare(report)
    bare.config = {}
    write_workbook(bare, tmp_path / "b.xlsx")
    wb = load_workbook(tmp_path / "b.xlsx")
    assert wb.sheetnames == ["Audit"]
    # no dangling names pointing at removed sheets
    for name in wb.defined_names:
        assert all(t in wb.sheetnames for t, _ in wb.defined_names[name].destinations), name
    # later stages appear when given
    extra = _bare(report, trades=pd.DataFrame({"trade": [0.01, -0.02]}, index=pd.Index(["XLU", "XLK"], name="ticker")),
                  backtest=pd.DataFrame({"portfolio": [1.0, 1.01]}, index=pd.DatetimeIndex(["2019-12-30", "2019-12-31"], name="date")))
    write_workbook(extra, tmp_path / "c.xlsx")
    wb = load_workbook(tmp_path / "c.xlsx")
    assert wb.sheetnames == ["Trades", "Backtest", "Parameters", "Audit"]
    assert wb["Trades"]["B7"].value == pytest.approx(0.01)


def test_dashboard_without_signals_drops_only_the_stress_chart(report, tmp_path):
    r = _bare(report, reading=report.reading, weights=report.weights, risk=report.risk)
    write_workbook(r, tmp_path / "d.xlsx")
    wb = load_workbook(tmp_path / "d.xlsx")
    assert "Signals" not in wb.sheetnames
    charts = wb["Dashboard"]._charts
    assert len(charts) == 1 and charts[0].title is not None
    assert named_cell(wb, "StressIndex").value == pytest.approx(report.reading["index"])


def test_named_cells_hold_report_values(book, report):
    wb = load_workbook(book)
    rd, rk = report.reading, report.risk
    assert named_cell(wb, "StressIndex").value == pytest.approx(rd["index"])
    assert named_cell(wb, "StressPercentile").value == pytest.approx(rd["percentile"])
    assert named_cell(wb, "StressRegime").value.lower() == rd["regime"]
    assert named_cell(wb, "StressChange20d").value == pytest.approx(rd["change_20d"])
    assert named_cell(wb, "WarningProbability").value == pytest.approx(rd["warning_probability"])
    assert named_cell(wb, "TrackingError").value == pytest.approx(rk["tracking_error"])
    assert named_cell(wb, "ExpectedCostBps").value == pytest.approx(rk["expected_cost_bps"])
    assert all(t in named_cell(wb, "DefensiveSectors").value for t in rd["defensive"])
    assert named_cell(wb, "AuditRunId").value == report.run_id
    for ws in wb.worksheets:  # every sheet shows the data label, demo prominently
        dn = ws.defined_names["DataLabel"]
        (title, coord), = dn.destinations
        assert ws[coord.replace("$", "")].value.startswith("DEMO DATA (synthetic)")


def test_tables_resolve_and_match_the_data(book, report):
    wb = load_workbook(book)
    ws = wb["Signals"]
    t = ws.tables["Signals"]
    c1, r1, c2, r2 = range_boundaries(t.ref)
    assert r2 - r1 == len(report.signals)
    assert [c.name for c in t.tableColumns] == [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    last = report.signals.iloc[-1]
    assert ws.cell(r2, c1).value == pd.Timestamp(report.signals.index[-1]).to_pydatetime()
    assert ws.cell(r2, c1 + 1).value == pytest.approx(last["index"])
    assert ws.cell(r2, c1 + 4).value == last["regime"]
    # weights: change = target - current, in percent format
    wt = wb["Weights"].tables["Weights"]
    c1, r1, c2, r2 = range_boundaries(wt.ref)
    heads = [wb["Weights"].cell(r1, c).value for c in range(c1, c2 + 1)]
    assert r2 - r1 == len(report.weights)
    row = {h: wb["Weights"].cell(r1 + 1, c1 + j).value for j, h in enumerate(heads)}
    w0 = report.weights.iloc[0]
    assert row["Change"] == pytest.approx(w0["target"] - w0["current"])
    assert wb["Weights"].cell(r1 + 1, c1 + heads.index("Target")).number_format == "0.0%"
    # conditional formats stretched with the table
    sqrefs = [str(cf.sqref) for cf in ws.conditional_formatting]
    assert f"E7:E{6 + len(report.signals)}" in sqrefs


def test_charts_exist_in_package_and_point_at_filled_data(book, report):
    with zipfile.ZipFile(book) as z:
        parts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(parts) == 2
        xml = "".join(z.read(p).decode() for p in parts)
    n = len(chart_sample(report.signals))
    assert 250 <= n <= 1100  # a weekly sample, not 5,000 points
    assert f"'Signals'!$K$7:$K${6 + n}" in xml          # stress index line
    assert f"'Signals'!$L$7:$L${6 + n}" in xml          # calm band
    spec = tpl.TABLES["DashboardWeights"]
    assert f"'Dashboard'!$N${spec.row + 1}:$N${spec.row + len(report.weights)}" in xml  # target weights


def test_chart_sample_bands_match_regimes(report):
    s = chart_sample(report.signals)
    bands = s[["calm", "elevated", "stress", "crisis"]]
    assert (bands.notna().sum(axis=1) == 1).all()       # exactly one regime per point
    sig = report.signals.set_index(pd.DatetimeIndex(report.signals.index))
    assert (sig.loc[s["date"], "regime"].to_numpy() == bands.notna().idxmax(axis=1).to_numpy()).all()


def test_audit_digest_matches_saved_file(book):
    stored = read_audit_digest(book)
    assert stored is not None and len(stored) == 64
    assert content_digest(book) == stored


def test_restyled_template_is_kept(report, tmp_path):
    tp = tmp_path / "mine.xlsx"
    tpl.write_template(tp)
    wb = load_workbook(tp)
    ws = wb["Dashboard"]
    ws["B6"].font = Font(name="Georgia", size=30, color="FF0000")      # restyle a named cell
    ws["A1"].fill = PatternFill("solid", start_color="FFFF00", end_color="FFFF00")
    ws.column_dimensions["L"].width = 31
    ws["Q3"] = "Prepared for the investment committee"                  # a note cell elsewhere
    ws["Q3"].comment = Comment("house style", "PM")
    sig = wb["Signals"]
    sig["B7"].number_format = "0.000"                                    # body format of a table column
    sig["B6"].font = Font(bold=True, italic=True, color="00FF00")         # header style
    wb.save(tp)
    out = tmp_path / "filled.xlsx"
    write_workbook(report, out, template=tp)
    got = load_workbook(out)
    d = got["Dashboard"]
    assert d["B6"].font.name == "Georgia" and d["B6"].font.sz == 30
    assert d["B6"].value == pytest.approx(report.reading["index"])
    assert d["A1"].fill.start_color.rgb.endswith("FFFF00")
    assert d.column_dimensions["L"].width == 31
    assert d["Q3"].value == "Prepared for the investment committee" and d["Q3"].comment.text == "house style"
    s = got["Signals"]
    n = len(report.signals)
    assert s[f"B{6 + n}"].number_format == "0.000" and s["B6"].font.i
    assert content_digest(out) == read_audit_digest(out)


def test_packaged_template_matches_the_code():
    built = tpl.build_template()
    packaged = load_workbook(tpl.DEFAULT_TEMPLATE)
    assert packaged.sheetnames == built.sheetnames == list(tpl.SHEETS)
    assert sorted(packaged.defined_names) == sorted(built.defined_names)
    for ws in built.worksheets:
        assert sorted(packaged[ws.title].tables) == sorted(ws.tables)
    import io
    buf = io.BytesIO()
    built.save(buf)
    for ws in built.worksheets:       # same cells, values and number formats
        cells = {(c.coordinate, str(c.value), c.number_format) for row in ws.iter_rows() for c in row if c.value is not None}
        assert cells == {(c.coordinate, str(c.value), c.number_format)
                         for row in packaged[ws.title].iter_rows() for c in row if c.value is not None}


def test_template_contract_errors(report, tmp_path):
    tp = tmp_path / "broken.xlsx"
    wb = tpl.build_template()
    del wb["Signals"].tables["Signals"]
    wb.save(tp)
    with pytest.raises(ArgumentError, match="no table named 'Signals'"):
        write_workbook(report, tmp_path / "x.xlsx", template=tp)
    with pytest.raises(ArgumentError, match="does not exist"):
        write_workbook(report, tmp_path / "x.xlsx", template=tmp_path / "missing.xlsx")
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.xlsx"):
        write_workbook(report, tmp_path / "x.xlsx", template=tmp_path / "junk.xlsx")
    with pytest.raises(ArgumentError, match="path"):
        write_workbook(report, tmp_path / "x.csv")
    too_many = pd.DataFrame({"current": 0.01, "target": 0.01, "benchmark": 0.01}, index=[f"T{i}" for i in range(40)])
    with pytest.raises(ArgumentError, match="do not fit"):
        write_workbook(dataclasses.replace(report, weights=too_many), tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_report_validation_names_the_argument(report):
    with pytest.raises(ArgumentError, match="signals"):
        dataclasses.replace(report, signals=report.signals.drop(columns=["regime"]))
    with pytest.raises(ArgumentError, match="regime"):
        dataclasses.replace(report, reading={**report.reading, "regime": "panic"})
    with pytest.raises(ArgumentError, match="run_id"):
        dataclasses.replace(report, run_id="")


def test_awkward_values_round_trip(report, tmp_path):
    sig = report.signals.iloc[-300:].copy()
    sig.iloc[3, sig.columns.get_loc("index")] = np.nan
    sig.iloc[4, sig.columns.get_loc("index")] = -0.0
    sig.iloc[5, sig.columns.get_loc("regime")] = "calm"
    scores = report.scores.copy()
    scores.loc["XLB", "momentum"] = np.inf
    r = dataclasses.replace(report, signals=sig, scores=scores,
                            config={**report.config, "note": "=1+1 is text, not a formula"})
    out = tmp_path / "awk.xlsx"
    write_workbook(r, out)
    wb = load_workbook(out)
    assert wb["Signals"]["B10"].value is None
    assert content_digest(out) == read_audit_digest(out)
    values = [c.value for row in wb["Parameters"].iter_rows() for c in row]
    assert "=1+1 is text, not a formula" in values
