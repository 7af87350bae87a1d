"""Walk-forward comparison: drift, costs and no look-ahead."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.optimize.compare import _drifted, compare
from engine.optimize.expected import expected_returns
from engine.optimize.limits import Limits

TK = ["XLB", "XLE", "XLK", "XLP", "XLU", "XLV"]


def market(n=700, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2012-01-02", periods=n)
    r = pd.DataFrame(rng.normal(0.0003, 0.011, (n, len(TK))) + rng.normal(0, 0.007, (n, 1)), index=idx, columns=TK)
    return r, r.mean(axis=1)


def momentum(t, past):
    assert past.index[-1] <= t
    return expected_returns((1 + past.iloc[-126:]).prod() - 1, past.iloc[-252:].std() * np.sqrt(252))


def test_drift_matches_buy_and_hold():
    w = pd.Series([0.5, 0.3], index=["a", "b"])
    r = np.array([[0.10, -0.05], [0.02, 0.01]])
    value = np.array([0.5, 0.3]) * (1 + r).prod(axis=0)
    cash = 0.2
    np.testing.assert_allclose(_drifted(w, r).to_numpy(), value / (value.sum() + cash))


def test_compare_side_by_side_and_no_lookahead():
    r, spy = market()
    lim = Limits(tech_cap=0.3, sector_max=0.4, turnover=0.2, tracking_error=0.08, defensive_floor=0.0)
    full = compare(r, spy, momentum, lim)
    assert list(full.columns) == ["mean-variance", "allocator"]
    assert full.loc["turnover_per_year", "allocator"] <= 12 * 0.2 + 1e-9
    # linear costs only (no ADV given): cost = bps x sum|trade| = 2 x bps x one-way turnover
    for col in full.columns:
        assert full.loc["cost_bps_per_year", col] == pytest.approx(
            2 * lim.cost_bps * full.loc["turnover_per_year", col], rel=1e-6)
    assert "ex-post" in full.attrs["note"]
    # Truncating the data after a date changes nothing before it: the net daily returns of a run on
    # data cut at t equal the full run's up to the day before t (t itself may hold an extra rebalance).
    cut = r.index[500]
    short = compare(r.loc[:cut], spy.loc[:cut], momentum, lim)
    a, b = short.attrs["daily"], full.attrs["daily"]
    common = a.index[a.index < cut]
    assert len(common) > 200
    pd.testing.assert_frame_equal(a.loc[common], b.loc[common], rtol=1e-9, atol=1e-12)


def test_metrics_agree_with_empyrical():
    """Sharpe, volatility and CAGR of both portfolios equal empyrical-reloaded's on the same daily returns;
    the ex-post tracking error is the annualized sd of the active daily return."""
    empyrical = pytest.importorskip("empyrical")
    r, spy = market(seed=3)
    full = compare(r, spy, momentum, Limits(tech_cap=0.3, sector_max=0.4, turnover=0.2, tracking_error=0.08,
                                            defensive_floor=0.0))
    daily = full.attrs["daily"]
    # a different benchmark series changes no portfolio's own metrics
    alone = compare(r, spy * 0.0, momentum, Limits(tech_cap=0.3, sector_max=0.4, turnover=0.2,
                                                    tracking_error=0.08, defensive_floor=0.0))
    for col in full.columns:
        x = daily[col].dropna()
        assert full.loc["sharpe", col] == pytest.approx(empyrical.sharpe_ratio(x), rel=1e-9)
        assert full.loc["annual_volatility", col] == pytest.approx(empyrical.annual_volatility(x), rel=1e-9)
        assert full.loc["annual_return", col] == pytest.approx(empyrical.annual_return(x), rel=1e-9)
        active = (x - spy.reindex(x.index)).dropna()
        assert full.loc["tracking_error_ex_post", col] == pytest.approx(active.std(ddof=1) * np.sqrt(252), rel=1e-9)
        assert alone.loc["sharpe", col] == pytest.approx(full.loc["sharpe", col], rel=1e-12)
