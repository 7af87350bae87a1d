"""The decision workbook's Backtest and Attribution sheets: tables, charts, metrics, identity."""
from __future__ import annotations

import pandas as pd
import pytest

from usecases.backtest import run_backtest, workbook_frames


@pytest.fixture(scope="module")
def result(demo):
    return run_backtest(demo, "momentum", start="2016-01-01", end="2019-12-31")


def test_frames(result):
    bt, att = workbook_frames(result)
    assert list(bt.columns) == ["strategy", "benchmark", "spy", "drawdown", "spy_drawdown", "rolling_active_12m",
                                "rolling_te_12m"]
    assert bt["strategy"].iloc[-1] == pytest.approx((1 + result.returns).prod())
    assert att["total"].sum() == pytest.approx(result.attribution.active_return, abs=1e-10)
    first = bt.attrs["metrics"][0]
    assert first == ("total_return", result.metrics["total_return"], result.benchmark_metrics["total_return"],
                     result.spy_metrics["total_return"])


def test_rendered_sheets(demo, result):
    from usecases.export import build_report
    from workbooks.writer import render

    with pytest.raises(Exception, match="after the decision date"):
        build_report(demo, "2018-06-29", backtest=result)
    report = build_report(demo, "2019-12-31", backtest=result)
    wb = render(report)
    ws = wb["Backtest"]
    assert len(ws._charts) == 3
    assert ws["W6"].value == "Total return" and ws["X6"].value == pytest.approx(result.metrics["total_return"])
    wa = wb["Attribution"]
    assert len(wa._charts) == 1
    rows = [r for r in wa.iter_rows(min_row=7, values_only=True) if r[0]]
    sectors = {r[0]: r for r in rows if r[0] in result.attribution.sectors.index or r[0] == "costs"}
    assert sum(r[4] for r in sectors.values()) == pytest.approx(result.attribution.active_return, abs=1e-10)
