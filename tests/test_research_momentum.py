"""Vectorised momentum sweep: a hand-worked book, an independent shares-and-cash loop, point in time."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import ArgumentError
from engine.research.momentum import decision_positions, momentum_sweep, vix_scale


def _hand_market():
    idx = pd.DatetimeIndex(["2020-01-28", "2020-01-29", "2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04"],
                           name="date")
    prices = pd.DataFrame({"A": [100, 101, 102, 100, 99, 100], "B": [50, 49, 51, 52, 53, 52]}, index=idx, dtype=float)
    return prices, pd.Series(2.0, index=idx)


def test_hand_worked_two_asset_book_with_lag_costs_leverage_and_financing():
    prices, tbill = _hand_market()
    res = momentum_sweep(prices, tbill, lookback=1, top=1, leverage=1.5, cost_bps=10, start="2020-01-30")
    c, r = 1e-3, 0.02 / 252
    # decision 01-29 (the session before the start): A up 1%, B down 2% -> 150% A, -50% cash; fill 01-30
    v2 = 1 + r
    vp2 = v2 / (1 + 1.5 * c)
    nav3 = 1.5 * vp2 * 100 / 102 - 0.5 * vp2 * (1 + r)
    # decision 01-31 (month end): A -1.96%, B +1.96% -> switch to B, fill 02-03
    h_a = 1.5 * vp2 * 99 / 102
    v4 = h_a - 0.5 * vp2 * (1 + r) ** 2
    vp4 = (v4 - c * h_a) / (1 + 1.5 * c)
    nav5 = 1.5 * vp4 * 52 / 53 - 0.5 * vp4 * (1 + r)
    nav = np.array([vp2, nav3, vp4, nav5])
    expected = nav / np.concatenate([[1.0], nav[:-1]]) - 1
    assert list(res.returns.index.strftime("%m-%d")) == ["01-30", "01-31", "02-03", "02-04"]
    np.testing.assert_allclose(res.returns[0].to_numpy(), expected, rtol=0, atol=1e-15)
    assert res.cost[0].iloc[0] == pytest.approx((v2 - vp2) / 1.0, abs=1e-15)        # of the previous NAV
    assert res.cost[0].iloc[2] == pytest.approx((v4 - vp4) / nav3, abs=1e-15)
    assert res.turnover[0].iloc[2] == pytest.approx((h_a + 1.5 * vp4) / 2 / v4, abs=1e-15)   # one way
    assert res.leverage[0].iloc[1] == pytest.approx(1.5 * vp2 * 100 / 102 / nav3, abs=1e-15)


def _reference(prices, tbill, lookback, top, leverage, cost_bps, start, end, lag=1, spread=0.0):
    """An independent day-by-day loop over shares and cash (no vectorisation)."""
    s = prices.index
    p = prices.to_numpy(float)
    rate = tbill.reindex(s).ffill().fillna(0).to_numpy() / 100 / 252
    first = max(int(s.searchsorted(pd.Timestamp(start))), lag)
    last = int(s.searchsorted(pd.Timestamp(end), side="right")) - 1
    month_end = [i for i in range(len(s)) if i == len(s) - 1 or s[i + 1].month != s[i].month]
    decisions = {first - lag} | {i for i in month_end if first < i + lag <= last}
    fills = {d + lag: d for d in decisions}
    shares, cash, nav_prev, out = np.zeros(p.shape[1]), 1.0, 1.0, []
    for t in range(first, last + 1):
        cash *= 1 + rate[t - 1] + (spread / 252 if cash < 0 else 0)
        px = np.nan_to_num(p[t])
        v = float(shares @ px + cash)
        if t in fills:
            d = fills[t]
            score = {j: p[d, j] / p[d - lookback, j] - 1 for j in range(p.shape[1])
                     if d - lookback >= 0 and np.isfinite(p[d - lookback, j]) and np.isfinite(p[d, j])}
            best = sorted(score, key=lambda j: (-score[j], j))[:top]
            w = np.zeros(p.shape[1]); w[best] = leverage / top
            h = shares * px
            vp = v
            for _ in range(100):   # fixed point V' = V - c sum|w V' - h|
                vp = v - cost_bps / 1e4 * np.abs(w * vp - h).sum()
            shares = np.divide(w * vp, px, out=np.zeros_like(w), where=px > 0)
            cash = vp - float(shares @ px)
            v = vp
        out.append(v / nav_prev - 1)
        nav_prev = v
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_independent_shares_and_cash_loop(seed):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2001-01-01", periods=400, name="date")
    rets = rng.normal(0.0004, 0.012, (400, 6))
    prices = pd.DataFrame(100 * np.cumprod(1 + rets, axis=0), index=idx, columns=list("ABCDEF"))
    prices.iloc[:150, 5] = np.nan                     # F lists later
    tbill = pd.Series(np.linspace(1.0, 5.0, 400), index=idx)
    lookbacks, levs = [5, 21, 63, 100], [1.0, 1.25, 0.8, 2.0]
    res = momentum_sweep(prices, tbill, lookback=lookbacks, top=2, leverage=levs, cost_bps=10,
                         spread=0.01, start="2001-05-01", end="2002-06-28")
    for j, (lb, lev) in enumerate(zip(lookbacks, levs)):
        ref = _reference(prices, tbill, lb, 2, lev, 10, "2001-05-01", "2002-06-28", spread=0.01)
        np.testing.assert_allclose(res.returns[j].to_numpy(), ref, rtol=0, atol=1e-13)


def test_point_in_time_altering_prices_after_t_changes_nothing_up_to_t():
    rng = np.random.default_rng(4)
    idx = pd.bdate_range("2003-01-01", periods=300, name="date")
    prices = pd.DataFrame(100 * np.cumprod(1 + rng.normal(0, 0.01, (300, 4)), axis=0), index=idx, columns=list("ABCD"))
    base = momentum_sweep(prices, lookback=[10, 40], start="2003-03-01")
    cut = idx[200]
    altered = prices.copy()
    altered.loc[altered.index > cut] *= rng.uniform(0.5, 1.5, (99, 4))
    other = momentum_sweep(altered, lookback=[10, 40], start="2003-03-01")
    pd.testing.assert_frame_equal(base.returns.loc[:cut], other.returns.loc[:cut])
    truncated = momentum_sweep(prices.loc[:cut], lookback=[10, 40], start="2003-03-01")
    pd.testing.assert_frame_equal(base.returns.loc[:cut], truncated.returns)


def test_vix_overlay_and_trend_filter():
    assert vix_scale(np.array([12, 15, 19.9, 25, 30, 45, np.nan])).tolist() == [1.2, 1.0, 1.0, 0.8, 0.6, 0.6, 1.0]
    idx = pd.bdate_range("2004-01-01", periods=120, name="date")
    prices = pd.DataFrame({"A": np.linspace(100, 130, 120), "B": np.linspace(100, 110, 120)}, index=idx)
    vix = pd.Series(np.where(np.arange(120) < 60, 12.0, 35.0), index=idx)
    falling = pd.Series(np.linspace(200, 100, 120), index=idx)
    res = momentum_sweep(prices, vix=vix, spy=falling, lookback=5, top=1, leverage=1.0, vix_overlay=[True, False, False],
                         trend=[0, 0, 20], cost_bps=0, start="2004-02-02")
    lev = res.leverage
    assert lev[0].loc["2004-02-03"] == pytest.approx(1.2, rel=0.05)        # calm VIX: 1.2x
    assert lev[0].iloc[-1] == pytest.approx(0.6, rel=0.05)                 # VIX 35 at the last decision: 0.6x
    assert lev[1].iloc[-1] == pytest.approx(1.0, rel=0.05)
    assert (lev[2].iloc[25:] == 0).all() and (res.returns[2].iloc[25:] == 0).all()   # SPY below its mean: cash


def test_decisions_are_month_ends_and_arguments_are_checked():
    s = pd.bdate_range("2020-01-01", "2020-04-30")
    dec = decision_positions(s, first_fill=10, last=len(s) - 1, lag=1)
    assert [s[i].strftime("%m-%d") for i in dec] == ["01-14", "01-31", "02-28", "03-31"]
    prices, _ = _hand_market()
    with pytest.raises(ArgumentError, match="lookback"):
        momentum_sweep(prices, lookback=[0, 5])
    with pytest.raises(ArgumentError, match="one per configuration"):
        momentum_sweep(prices, lookback=[3, 5], leverage=[1.0, 1.0, 1.0])
    with pytest.raises(ArgumentError, match="leverage"):
        momentum_sweep(prices, lookback=3, leverage=-1.0)
