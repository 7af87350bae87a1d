"""The worksheet-function family through xlwings' real decorators and conversions (tests/xlwings_harness.py):
what Excel imports, the values (equal to the CLI's use cases), errors as text, caching per data version."""
from __future__ import annotations

import importlib
import inspect
import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import xlwings_harness as xh
from usecases import sheet, signals
from usecases.context import open_market
from usecases.optimize import optimize_as_of

EXPECTED_ARGS = {
    "BOND_STRESS": ["as_of"],
    "BOND_STRESS_DETAIL": ["as_of"],
    "BOND_STRESS_HISTORY": ["from_date", "to_date", "columns"],
    "STRESS_REGIME": ["as_of"],
    "TECH_WARNING": ["as_of"],
    "DEFENSIVE_ALTERNATIVES": ["as_of", "n"],
    "SECTOR_SCORES": ["as_of"],
    "OPTIMAL_WEIGHTS": ["current_weights", "as_of", "limits"],
    "BOND_STRESS_FROM": ["dates", "hy_oas", "ig_oas", "vix", "more_series"],
    "ROTATION_ISERROR": ["value"],
    "REBALANCE_TRADES": ["holdings", "as_of", "step"],
    "BACKTEST_STATS": ["strategy", "from_date", "to_date", "params"],
    "ALERTS": ["since"],
}


@pytest.fixture(scope="module")
def udfs():
    mp = pytest.MonkeyPatch()
    mp.setenv("ROTATION_UDF_SOURCE", "demo")
    mod, xu = xh.reload_with_real_decorators("udfs.functions", mp)
    yield mod, xu
    mp.undo()
    importlib.reload(mod)


@pytest.fixture(scope="module")
def market():
    return open_market(demo=True)


def call(mod, name, *args):
    return xh.excel_call(getattr(mod, name), *args)


def test_every_function_is_registered_with_its_arguments_docs_and_category(udfs):
    mod, _ = udfs
    funcs = {f.__xlfunc__["name"]: f for f in vars(mod).values() if hasattr(f, "__xlfunc__")}
    assert set(funcs) == set(EXPECTED_ARGS)
    for name, f in funcs.items():
        info = f.__xlfunc__
        assert info["category"] == "Sector Rotation", name
        assert [a["name"] for a in info["args"]] == EXPECTED_ARGS[name]
        assert all(len(a["doc"]) > 20 for a in info["args"]), name
        assert info["ret"]["doc"] and not info["volatile"] and info["async_mode"] is None
        assert "expand" not in info["ret"]["options"]          # dynamic arrays, no legacy expand
        assert all(p.kind is not inspect.Parameter.KEYWORD_ONLY for p in inspect.signature(f).parameters.values())
    ranges = {("OPTIMAL_WEIGHTS", "current_weights"), ("OPTIMAL_WEIGHTS", "limits"), ("BOND_STRESS_FROM", "dates"),
              ("BOND_STRESS_FROM", "more_series")}
    for fname, arg in ranges:
        a = next(a for a in funcs[fname].__xlfunc__["args"] if a["name"] == arg)
        assert a["options"].get("ndim") == 2, (fname, arg)
    more = funcs["BOND_STRESS_FROM"].__xlfunc__["args"][-1]
    assert more["vararg"] is True
    optional = {a["name"] for a in funcs["OPTIMAL_WEIGHTS"].__xlfunc__["args"] if "optional" in a}
    assert optional == {"as_of", "limits"}


def test_detail_regime_and_warning_equal_the_cli_reading(udfs, market):
    mod, _ = udfs
    r = signals.reading(market, "2008-10-10")
    head, row = call(mod, "BOND_STRESS_DETAIL", "2008-10-10")
    assert head == ["date", "index", "percentile", "regime", "strength", "change_20d", "warning_probability",
                    "stale_inputs"]
    got = dict(zip(head, row))
    assert got["date"] == datetime(2008, 10, 10)
    for k in ("index", "percentile", "strength", "change_20d", "warning_probability"):
        assert got[k] == pytest.approx(r[k], rel=1e-12)
    assert got["regime"] == r["regime"] == "crisis" and got["stale_inputs"] == "none"
    assert call(mod, "STRESS_REGIME", datetime(2008, 10, 10)) == [["crisis"]]
    head, row = call(mod, "TECH_WARNING", 39731.0)                     # Excel serial of 2008-10-10
    w = dict(zip(head, row))
    assert w["new_selloff_probability"] == pytest.approx(r["warning_probability"])
    assert w["selloff_running"] is r["tech_selloff"]["in_progress"]
    assert w["running_since"] == datetime.fromisoformat(r["tech_selloff"]["since"])


def test_stale_inputs_name_a_series_that_stopped(market):
    from dataclasses import replace

    stress = market.stress.copy()
    stress.loc["2008-10-01":, "vix"] = np.nan
    m = replace(market, stress=stress)
    assert sheet.stale_inputs(m, pd.Timestamp("2008-10-10")) == ["vix (last 2008-09-30)"]


def test_history_window_and_columns(udfs, market):
    mod, _ = udfs
    out = call(mod, "BOND_STRESS_HISTORY", "2008-10-01", "2008-10-31", "index, regime")
    hist = signals.history(market, "2008-10-01", "2008-10-31")
    assert out[0] == ["date", "index", "regime"]
    assert len(out) - 1 == len(hist) == 23
    assert [r[1] for r in out[1:]] == pytest.approx(hist["index"].tolist())
    assert out[1][0] == datetime(2008, 10, 1) and out[-1][0] == datetime(2008, 10, 31)
    [[err]] = call(mod, "BOND_STRESS_HISTORY", "2008-10-31", "2008-10-01", xh.MISSING)
    assert err.startswith("#ERROR: to: 2008-10-01 is before from 2008-10-31")
    [[err]] = call(mod, "BOND_STRESS_HISTORY", "2008-10-01", xh.MISSING, "index, vol")
    assert "unknown column 'vol'" in err


def test_defensive_and_scores_equal_the_use_cases(udfs, market):
    mod, _ = udfs
    out = call(mod, "DEFENSIVE_ALTERNATIVES", "2008-10-10", 5.0)
    ref = signals.defensive_alternatives(market, signals.stress_result(market), "2008-10-10", top=5)
    assert out[0] == ["sector", "name", "score", "t_stat", "ci_low", "ci_high", "strength"]
    assert [r[0] for r in out[1:]] == [d["sector"] for d in ref]
    assert call(mod, "DEFENSIVE_ALTERNATIVES", "2008-10-10", 0.0)[0][0].startswith("#ERROR: n: expected a whole number")
    scores = call(mod, "SECTOR_SCORES", "2008-10-10")
    head = scores[0]
    assert head[0] == "sector" and head[-2:] == ["composite", "rank"]
    ranks = [r[-1] for r in scores[1:]]
    assert ranks == sorted(ranks) and ranks[0] == 1.0


def test_optimal_weights_equal_rotation_optimize(udfs, market):
    mod, _ = udfs
    nine = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")      # XLC, XLRE: no history in 2008
    cur = [["ticker", "weight"]] + [[tk, 1 / 9] for tk in nine]
    out = call(mod, "OPTIMAL_WEIGHTS", cur, "2008-10-10", [["tech_cap", 0.2]])
    from engine.optimize.limits import Limits

    ref = optimize_as_of(market, "2008-10-10", sheet.weights_from_rows(cur), Limits(tech_cap=0.2))
    assert out[0] == ["ticker", "current", "target", "benchmark", "change"]
    got = {r[0]: r for r in out[1:]}
    for tk, w in ref["weights"].items():
        assert got[tk][2] == pytest.approx(w, abs=1e-12)
        held = 1 / 9 if tk in nine else 0.0
        assert got[tk][1] == pytest.approx(held)
        assert got[tk][4] == pytest.approx(w - held, abs=1e-12)
    assert got["XLK"][2] <= 0.2 + 1e-6
    assert sum(r[2] for r in out[1:]) == pytest.approx(1.0, abs=1e-6)


def test_infeasible_limits_return_the_diagnosis_in_words(udfs):
    mod, _ = udfs
    out = call(mod, "OPTIMAL_WEIGHTS", [["XLK", 0.5], ["XLU", 0.5]], "2008-10-10",
               [["tech_cap", 0.05], ["tracking_error", 0.01]])
    assert out[0][0].startswith("#ERROR: The allocation limits cannot all hold")
    assert len(out) >= 2 and all(len(r) == 1 and isinstance(r[0], str) for r in out)
    assert call(mod, "ROTATION_ISERROR", out) == [[True]]


@pytest.mark.parametrize("rows,words", [
    ([["XLK", 0.5], ["XLU", 0.4]], "weights sum to 90.00%"),
    ([["XLQ", 1.0]], "current_weights row 1: unknown ticker 'XLQ'"),
    ([["XLK", "abc"]], "current_weights row 1: weight 'abc' is not a number"),
    ([["XLK", -0.1], ["XLU", 1.1]], "weight -0.1 is negative"),
    ([["XLK", 0.5], ["XLK", 0.5]], "current_weights row 2: XLK appears twice"),
])
def test_bad_weights_name_the_row(udfs, rows, words):
    mod, _ = udfs
    [[out]] = call(mod, "OPTIMAL_WEIGHTS", rows, "2008-10-10", xh.MISSING)
    assert out.startswith("#ERROR:") and words in out


def test_percent_weights_and_bad_limits(udfs):
    mod, _ = udfs
    nine = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")
    a = call(mod, "OPTIMAL_WEIGHTS", [[tk, "20%" if tk == "XLK" else 10.0] for tk in nine], "2008-10-10", xh.MISSING)
    b = call(mod, "OPTIMAL_WEIGHTS", [[tk, 0.2 if tk == "XLK" else 0.1] for tk in nine], "2008-10-10", xh.MISSING)
    assert a == b and not str(a[0][0]).startswith("#ERROR")
    [[err]] = call(mod, "OPTIMAL_WEIGHTS", xh.MISSING, "2008-10-10", [["tech_kap", 0.2]])
    assert "limits: tech_kap" in err and "unknown key" in err


def test_bond_stress_from_equals_the_pipeline_on_the_same_series(udfs, market):
    mod, _ = udfs
    s = market.stress.reindex(market.sessions).iloc[:700]
    dates = [["date"]] + [[d.to_pydatetime()] for d in s.index]
    col = lambda n: [[n]] + [[None if math.isnan(v) else float(v)] for v in s[n]]  # noqa: E731
    extra = [col(n) for n in ("t10y3m", "t10y2y", "move", "ted")]
    out = call(mod, "BOND_STRESS_FROM", dates, col("hy_oas"), col("ig_oas"), col("vix"), *extra)
    assert out[0] == ["date", "index", "percentile", "change_20d", "regime", "strength"]
    ref = signals.stress_result(market).daily.iloc[:700]
    got = pd.Series([np.nan if r[1] == "" else r[1] for r in out[1:]], index=s.index, dtype=float)   # empty cell
    pd.testing.assert_series_equal(got, ref["index"], check_names=False, rtol=1e-12)
    # point in time: the first 500 rows alone give the same first 500 values
    short = call(mod, "BOND_STRESS_FROM", dates[:501], col("hy_oas")[:501], col("ig_oas")[:501], col("vix")[:501],
                 *[e[:501] for e in extra])
    assert short[1:] == out[1:501]


def test_bond_stress_from_errors(udfs):
    mod, _ = udfs
    d = [[datetime(2020, 1, 1)], [datetime(2020, 1, 3)], [datetime(2020, 1, 2)]]
    v = [[1.0], [2.0], [3.0]]
    [[e]] = call(mod, "BOND_STRESS_FROM", d, v, v, v)
    assert e == "#ERROR: dates row 3: 2020-01-02 does not come after 2020-01-03"
    [[e]] = call(mod, "BOND_STRESS_FROM", d[:2], v[:2], v[:2], v[:2])
    assert "too few" in e
    [[e]] = call(mod, "BOND_STRESS_FROM", d, v, v, v, [["oas_xyz"], [1.0], [2.0], [3.0]])
    assert "unknown series 'oas_xyz'" in e
    [[e]] = call(mod, "BOND_STRESS_FROM", d, [[1.0, 2.0]] * 3, v, v)
    assert e.startswith("#ERROR: hy_oas: expected a one-column range")


def test_results_are_cached_per_data_version_and_arguments(udfs, monkeypatch, tmp_path):
    from udfs import runtime
    from usecases import sheet as sheet_mod

    mod, _ = udfs
    calls = []
    real = sheet_mod.regime
    monkeypatch.setattr(sheet_mod, "regime", lambda m, a: calls.append(a) or real(m, a))
    for _ in range(1000):
        assert call(mod, "STRESS_REGIME", "2001-09-17") == call(mod, "STRESS_REGIME", "2001-09-17")
    assert len(calls) == 1
    call(mod, "STRESS_REGIME", "2001-09-18")
    assert len(calls) == 2
    # no data at all: the error text, nothing cached under a version that does not exist
    monkeypatch.delenv("ROTATION_UDF_SOURCE")
    monkeypatch.setenv("ROTATION_STORE", str(tmp_path / "store.sqlite"))
    [[e]] = call(mod, "STRESS_REGIME", "2001-09-17")
    assert e.startswith("#ERROR: no data imported yet") and len(calls) == 2


def test_a_new_data_version_drops_the_cache(monkeypatch):
    from engine.errors import ArgumentError
    from udfs import runtime

    version, calls = ["v1"], []

    def f(x):
        calls.append(x)
        if x < 0:
            raise ArgumentError("x", "negative")
        return x * 2

    monkeypatch.setattr(runtime, "data_version", lambda: version[0])
    g = runtime.cached(f)
    assert [g(1), g(1), g(2)] == [2, 2, 4] and calls == [1, 2]
    with pytest.raises(ArgumentError):
        g(-1)
    with pytest.raises(ArgumentError):                       # the error is remembered too
        g(-1)
    assert calls == [1, 2, -1]
    version[0] = "v2"                                       # e.g. `rotation data import` changed the store
    assert g(1) == 2 and calls == [1, 2, -1, 1]
    h = runtime.cached(lambda rows: len(rows))
    assert h([[1, None], [2.5, "x"]]) == 2 == h(((1, None), (2.5, "x")))   # ranges are frozen into the key


def test_rotation_iserror(udfs):
    mod, _ = udfs
    assert call(mod, "ROTATION_ISERROR", "#ERROR: as_of: bad") == [[True]]
    assert call(mod, "ROTATION_ISERROR", 1.5) == [[False]]
    assert call(mod, "ROTATION_ISERROR", "calm") == [[False]]
    assert call(mod, "ROTATION_ISERROR", xh.MISSING) == [[False]]


def test_trades_backtest_and_alerts_equal_their_use_cases(udfs, market):
    from usecases.alerts import alert_list
    from usecases.backtest import run_backtest
    from usecases.trades import rebalance_trades

    mod, _ = udfs
    rng = [["ticker", "shares"], ["XLK", 10000], ["XLU", 5000], ["CASH", 100000]]
    out = call(mod, "REBALANCE_TRADES", rng, "2019-06-28", 2.0)
    ref = rebalance_trades(market, rng, "2019-06-28", step=2)
    assert out[0] == ["ticker", "side", "shares", "notional", "expected_cost_bps"]
    assert [r[:3] for r in out[1:]] == [[o["ticker"], o["side"], float(o["shares"])] for o in ref["orders"]]
    [[e]] = call(mod, "REBALANCE_TRADES", [["ticker", "shares"], ["QQQ", 5]], xh.MISSING, xh.MISSING)
    assert e.startswith("#ERROR:") and "QQQ" in e
    stats = call(mod, "BACKTEST_STATS", "spy", "2018-01-01", "2018-12-31", xh.MISSING)
    r = run_backtest(market, "spy", start=pd.Timestamp("2018-01-01"), end=pd.Timestamp("2018-12-31")).to_dict()
    got = {row[0]: row[1] for row in stats[1:]}
    assert stats[0] == ["metric", "value"] and got["strategy"] == "spy"
    assert got["total_return"] == pytest.approx(r["metrics"]["total_return"], rel=1e-12)
    [[e]] = call(mod, "BACKTEST_STATS", "nonsense", xh.MISSING, xh.MISSING, xh.MISSING)
    assert e.startswith("#ERROR: --strategy: expected one of")
    alerts = call(mod, "ALERTS", "2019-01-01")
    ref_a = alert_list(market, "2019-01-01")["alerts"]
    assert alerts[0] == ["kind", "date", "message"] and len(alerts) - 1 == len(ref_a)
    assert [a[0] for a in alerts[1:]] == [a["kind"] for a in ref_a]


@pytest.mark.parametrize("serial,words", [
    (131777.9, "dates: 3 rows are too few"),    # 2260-10-15, read as a date (was an internal error: Timedelta overflow)
    (200000, "dates row 3: expected a date between 1678 and 2261"),          # 2447: past what pandas can hold
    (60, "dates row 3: Excel serial 60 is 1900-02-29, a day that does not exist"),
    (0, "dates row 3: expected a date or an Excel date number (1 to 2958465)"),
])
def test_bond_stress_from_date_numbers_are_read_as_excel_reads_them(udfs, serial, words):
    """Excel date numbers in the dates range go through engine.dates' one serial reader: every one is
    either a date or a one-sentence error naming the row, never an internal error (found by the fuzz)."""
    mod, _ = udfs
    d = [[datetime(2020, 1, 1)], [datetime(2020, 1, 3)], [serial]]
    v = [[1.0], [2.0], [3.0]]
    [[e]] = call(mod, "BOND_STRESS_FROM", d, v, v, v)
    assert e.startswith("#ERROR: " + words) and "internal error" not in e
