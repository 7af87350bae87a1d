"""The book and the walk-forward loop: a hand-computed two-asset case, identities, timing and lag."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest_helpers import Fixed, tiny_market
from engine.backtest.book import Book
from engine.backtest.simulate import LOOK_AHEAD, BacktestConfig, arrays_for, run, vix_multiplier
from engine.costs import CostModel

A = [100.0, 110.0, 99.0, 99.0, 108.9]
B = [50.0, 50.0, 55.0, 44.0, 44.0]


def test_two_assets_five_sessions_by_hand():
    """Leverage 1.5 from cash at session 1, 10 bps, T-bill 2.52% (1e-4 a session), borrowing spread
    25.2 bps (1e-5 a session); rebalance to 100% A at session 3. Every number below by hand."""
    m = tiny_market({"A": A, "B": B}, rf=2.52)
    c = 1e-3
    book = Book(arrays_for(m, ["A", "B"]), 0, 1000.0, CostModel(half_spread_bps=10.0, impact_eta=0.0),
                financing_spread_bps=25.2)
    book.fill(1, np.array([0.75, 0.75]))
    V1 = 1000.0 * (1 + 1e-4)                       # one session of T-bill on the opening cash
    Vp = V1 / (1 + 1.5 * c)                        # V' = V1 - c * 1.5 V'
    shA, shB, cash1 = 0.75 * Vp / 110, 0.75 * Vp / 50, -0.5 * Vp
    assert book.nav[1] == pytest.approx(Vp, rel=1e-14)
    assert book.cost[1] == pytest.approx(V1 - Vp, rel=1e-12)
    book.advance_to(2)
    cash2 = cash1 * (1 + 1e-4 + 1e-5)              # borrowing pays the bill plus the spread
    assert book.nav[2] == pytest.approx(shA * 99 + shB * 55 + cash2, rel=1e-14)
    book.fill(3, np.array([1.0, 0.0]))
    cash3 = cash2 * (1 + 1.1e-4)
    V3 = shA * 99 + shB * 44 + cash3
    hA, hB = shA * 99, shB * 44
    Vq = (V3 + c * (hA - hB)) / (1 + c)            # V' = V3 - c (|V' - hA| + hB), V' > hA
    assert book.pretrade[3] == pytest.approx(V3, rel=1e-14)
    assert book.nav[3] == pytest.approx(Vq, rel=1e-13)
    book.advance_to(4)
    assert book.nav[4] == pytest.approx(Vq / 99 * 108.9, rel=1e-13)
    assert book.cash[4] == pytest.approx(0.0, abs=1e-9)
    # identities at every session: NAV = cash + shares . price, and cash flows add up
    for s in range(5):
        assert book.nav[s] == pytest.approx(book.cash[s] + book.shares[s] @ book.px[s], rel=1e-13)


def test_cost_fixed_point_equals_cost_model_with_impact():
    m = tiny_market({"A": A, "B": B})
    a = arrays_for(m, ["A", "B"])
    a.sigma = np.full_like(a.price, 0.02)
    a.adv = np.full_like(a.price, 1e5)
    cm = CostModel(commission_per_share=0.01, half_spread_bps=3.0, impact_eta=0.5, impact_exponent=0.6)
    book = Book(a, 0, 1e4, cm)
    cost = book.fill(1, np.array([0.6, 0.4]))
    orders = book.shares[1] * book.px[1]                  # from cash
    assert cost == pytest.approx(cm.dollars(orders, a.raw[1], a.sigma[1], a.adv[1]).sum(), rel=1e-12)
    assert book.nav[1] == pytest.approx(1e4 - cost, rel=1e-14)


def _cfg(m, **kw):
    return BacktestConfig(start=m.sessions[1], end=m.sessions[-1], cost_model=CostModel(half_spread_bps=0, impact_eta=0),
                          capital=1000.0, **kw)


def test_lag_one_fills_the_session_after_the_decision_and_sees_only_the_past():
    px = {"A": list(100 * np.cumprod(np.r_[1, np.full(59, 1.01)])), "B": [50.0] * 60}
    m = tiny_market(px)
    pol = Fixed({"A": 1.0, "B": 0.0})
    r = run(m, pol, _cfg(m, schedule="every", every=10))
    d0, f0 = r.decisions[0]
    assert d0 == m.sessions[0] and f0 == m.sessions[1]          # starts invested: decided before D, fills on D
    assert r.returns.iloc[0] == pytest.approx(0.0)               # the fill close earns nothing that day
    assert r.returns.iloc[1] == pytest.approx(0.01, rel=1e-12)
    for t, last in pol.seen:
        assert last == t                                         # the view ends at the decision session
    assert all(f == m.sessions[m.sessions.get_loc(d) + 1] for d, f in r.decisions)
    r0 = run(m, Fixed({"A": 1.0, "B": 0.0}), _cfg(m, execution_lag=0))
    assert r0.config.timing_note == LOOK_AHEAD
    assert r0.returns.iloc[0] == pytest.approx(0.01, rel=1e-12)   # lag 0 earns the first session: look-ahead


def test_drift_between_rebalances_and_turnover():
    px = {"A": [100, 110, 121, 133.1, 146.41, 161.051], "B": [100.0] * 6}
    m = tiny_market(px)
    r = run(m, Fixed({"A": 0.5, "B": 0.5}), _cfg(m, schedule="every", every=100))
    w = r.weights["A"]
    # shares are held: the weight of A drifts up as it outperforms, no rebalance in between
    assert w.iloc[2] == pytest.approx(0.5 * 1.21 / (0.5 * 1.21 + 0.5), rel=1e-12)
    assert r.turnover.iloc[0] == pytest.approx(0.5) and r.turnover.iloc[1:].sum() == 0


def test_leverage_vix_overlay_and_failures():
    m = tiny_market({"A": A, "B": B}, vix=[12.0, 12.0, 25.0, 35.0, 16.0])
    assert [vix_multiplier(v) for v in (12, 15, 19.9, 29.9, 30, np.nan)] == [1.2, 1.0, 1.0, 0.8, 0.6, 1.0]
    r = run(m, Fixed({"A": 0.5, "B": 0.5}), _cfg(m, leverage=1.5, vix_overlay=True))
    assert r.leverage.iloc[0] == pytest.approx(1.8)               # 1.5 x 1.2 at VIX 12
    assert r.weights["cash"].iloc[0] == pytest.approx(-0.8)

    class Failing(Fixed):
        def target(self, view, t, current):
            from engine.errors import InfeasibleError
            raise InfeasibleError("turnover 0% cannot hold", conflicts=["turnover"])
    r = run(m, Failing({"A": 1.0, "B": 0.0}), _cfg(m))
    assert r.failed and r.failed[0].conflicts == ["turnover"] and r.failed[0].date == m.sessions[0]
    assert (r.weights["cash"] == 1.0).all()                      # the book is kept (all cash)


def test_every_session_identities_real_market(real_market):
    from engine.backtest.policies import Momentum
    uni = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "TLT"]
    cfg = BacktestConfig(start=pd.Timestamp("2007-01-01"), end=pd.Timestamp("2010-12-31"), leverage=1.3)
    r = run(real_market, Momentum(uni), cfg)
    w = r.weights
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)  # holdings + cash = NAV every session
    # NAV(t) = NAV(t-1) * (1 + sum bod_w * r + cash_w * r_cash) - cost(t)
    prev = r.nav.shift(1).fillna(cfg.capital)
    gross = (r.bod_weights.drop(columns="cash") * r.asset_returns.fillna(0)).sum(axis=1) \
        + r.bod_weights["cash"] * r.cash_return
    np.testing.assert_allclose(r.nav, prev * (1 + gross) - r.cost, rtol=1e-12)
