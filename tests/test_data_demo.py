"""The synthetic demo market: deterministic, labelled, realistic enough to exercise every stage."""
from __future__ import annotations

import numpy as np

from engine.data.assemble import data_digest
from engine.data.demo import demo_market
from engine.universe import DEMO_LABEL, PRICE_TICKERS, STRESS_SERIES


def test_same_seed_identical_data_other_seed_differs(demo):
    again = demo_market(7)
    assert data_digest(again) == data_digest(demo)
    assert data_digest(demo_market(8)) != data_digest(demo)


def test_label_and_series(demo):
    assert demo.label == DEMO_LABEL and demo.is_demo
    assert set(PRICE_TICKERS) <= set(demo.prices.columns)
    assert set(STRESS_SERIES) <= set(demo.stress.columns)
    assert {"stlfsi4", "nfci", "usrecd"} <= set(demo.reference.columns)
    assert demo.prices.loc[:"2015-10-07", "XLRE"].isna().all() and demo.prices["XLRE"].iloc[-1] > 0


def test_realistic_volatility_and_correlation(demo):
    r = np.log(demo.prices).diff()
    vol = r.std() * np.sqrt(252)
    assert 0.15 < vol["SPY"] < 0.25 and vol["XLK"] > vol["SPY"] > vol["XLP"]
    corr = r.corr()["SPY"]
    assert corr[["XLK", "XLI", "XLY", "XLF"]].min() > 0.75 and corr["XLU"] < 0.7


def test_credit_leads_equity_drawdowns_and_calm_periods(demo):
    hy = demo.stress["hy_oas"]
    spy = demo.prices["SPY"]
    dd = spy / spy.cummax() - 1
    # at least three stress episodes: HY OAS above 6% in three separate years
    assert hy[hy > 6].index.year.nunique() >= 3
    # most of the time is calm
    assert (hy < 4.5).mean() > 0.6
    # spreads move first: the HY change over the 35 sessions ending at t correlates with the SPY drawdown
    # change over the *next* 35 sessions more than with the past 35 sessions
    d_hy = hy.diff(35)
    fwd_dd = dd.shift(-35) - dd
    past_dd = dd - dd.shift(35)
    assert d_hy.corr(fwd_dd) < -0.2
    assert d_hy.corr(fwd_dd) < d_hy.corr(past_dd)
