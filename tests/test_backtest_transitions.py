"""Multi-step rebalances in the simulator: a hand case (two assets, a three-step path one session
apart, no costs), the transition window, supersession by the next decision, and tracking error split
into transition and other sessions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest_helpers import tiny_market
from engine.backtest.attribution import split_tracking_error
from engine.backtest.simulate import BacktestConfig, run
from engine.costs import CostModel

ZERO = CostModel(half_spread_bps=0.0, impact_eta=0.0)


class Stepped:
    """From all A to all B in ``n`` equal steps ``step_sessions`` apart, decided at every decision."""

    steps = "path"

    def __init__(self, n=3, step_sessions=1):
        self.tickers, self.name, self.n, self.step_sessions = ["A", "B"], "stepped", n, step_sessions
        self.decided = []

    def target(self, view, t, current):
        self.decided.append(t)
        return pd.Series({"A": 0.0, "B": 1.0})

    def path_at(self, t):
        if t == self.decided[0]:
            return None                          # the opening decision funds in one go
        start = np.array([1.0, 0.0]) if len(self.decided) == 2 else None
        if start is None:
            return None
        return [start + (k / self.n) * (np.array([0.0, 1.0]) - start) for k in range(1, self.n + 1)]


class Opening(Stepped):
    def target(self, view, t, current):
        self.decided.append(t)
        return pd.Series({"A": 1.0, "B": 0.0}) if len(self.decided) == 1 else pd.Series({"A": 0.0, "B": 1.0})


def test_three_steps_one_session_apart_by_hand():
    """Sessions 0..9; decisions every 4 sessions (0 opening, 4, 8), lag 1. Opening: all A at session 1.
    Decision at 4: path 2/3 A + 1/3 B at 5, 1/3 + 2/3 at 6, all B at 7 (weights of NAV at each close)."""
    A = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109.0]
    B = [50, 50, 51, 52, 53, 54, 55, 56, 57, 58.0]
    m = tiny_market({"A": A, "B": B})
    cfg = BacktestConfig(start=m.sessions[1], end=m.sessions[9], schedule="every", every=4, cost_model=ZERO,
                         capital=1000.0)
    r = run(m, Opening(3, 1), cfg)
    w = r.weights
    assert w.loc[m.sessions[1], "A"] == pytest.approx(1.0)
    for s, a in ((5, 2 / 3), (6, 1 / 3), (7, 0.0)):
        assert w.loc[m.sessions[s], "A"] == pytest.approx(a, abs=1e-12)
        assert w.loc[m.sessions[s], "B"] == pytest.approx(1 - a, abs=1e-12)
    # NAV by hand: all A from session 1 (1000 at 101), then the steps
    nav4 = 1000.0 / 101 * 105          # at session 5's close, before its step
    sh_a, sh_b = nav4 * 2 / 3 / 105, nav4 / 3 / 54
    nav6 = sh_a * 106 + sh_b * 55
    assert r.nav.loc[m.sessions[6]] == pytest.approx(nav6, rel=1e-13)
    assert r.transitions == [(m.sessions[5], m.sessions[7])]
    assert [f for _, f in r.decisions] == [m.sessions[s] for s in (1, 5, 6, 7, 9)]


def test_a_new_decision_supersedes_the_steps_not_made():
    A = [100.0 + i for i in range(12)]
    B = [50.0 + i for i in range(12)]
    m = tiny_market({"A": A, "B": B})
    cfg = BacktestConfig(start=m.sessions[1], end=m.sessions[11], schedule="every", every=4, cost_model=ZERO)
    r = run(m, Opening(n=6, step_sessions=1), cfg)       # six steps from 5 would end at 10; the decision at 8 cuts it
    assert r.transitions == [(m.sessions[5], m.sessions[8])]
    assert r.weights.loc[m.sessions[9], "B"] == pytest.approx(1.0)     # the decision at 8 fills at 9, in one go


def test_split_tracking_error_inside_and_outside():
    idx = pd.bdate_range("2020-01-01", periods=8)
    active = pd.Series([0.01, -0.01, 0.02, -0.02, 0.0, 0.0, 0.001, -0.001], index=idx)
    mask = pd.Series([False, False, True, True, True, False, False, False], index=idx)
    out = split_tracking_error(active, mask)
    assert out["transition"] == pytest.approx(np.std([0.02, -0.02, 0.0], ddof=1) * np.sqrt(252))
    assert out["other"] == pytest.approx(np.std([0.01, -0.01, 0.0, 0.001, -0.001], ddof=1) * np.sqrt(252))
    assert out["transition_sessions"] == 3 and out["other_sessions"] == 5


@pytest.mark.slow
def test_rotation_backtest_in_steps_reports_tracking_error_by_window(real_market):
    """`rotation` with --steps 3: every rebalance after the opening one is made in three fills
    liquidity_days sessions apart, each within the per-step turnover limit; the transition mask covers
    first to last step, and the two tracking errors are those of the active return on and off it."""
    from engine.optimize.limits import Limits
    from usecases.backtest import run_backtest

    r = run_backtest(real_market, "rotation", start="2007-01-01", end="2008-12-31", steps=3)
    mask = r.transition_mask
    assert mask.dtype == bool and mask.index.equals(r.returns.index)
    assert len(r.run.transitions) >= 20
    for first, last in r.run.transitions:
        assert (last - first).days >= 14                         # three fills five sessions apart
        assert mask.loc[first:last].all()
    assert int(mask.sum()) == r.metrics["transition_sessions"]
    active = r.returns - r.benchmark.returns
    assert r.metrics["tracking_error_transition"] == pytest.approx(active[mask].std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert r.metrics["tracking_error_outside"] == pytest.approx(active[~mask].std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert r.run.turnover.iloc[1:].max() <= Limits().turnover + 0.01   # per step (the opening fill funds from cash)
    d = r.to_dict()
    assert d["metrics"]["tracking_error_transition"] is not None and d["params"]["steps"] == 3
