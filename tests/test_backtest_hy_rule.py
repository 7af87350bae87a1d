"""The HY-change baseline rule (engine/backtest/hy_rule.py): hand-computed z-score and tilt, the
decision at t unchanged by data after t (FRED read at its publication lag), and the registered strategy."""
import numpy as np
import pandas as pd
import pytest

from backtest_helpers import Fixed, tiny_market
from engine.backtest.hy_rule import HYRule, hy_change_z, tilt
from engine.backtest.simulate import BacktestConfig, run

W = {"XLK": 0.30, "XLU": 0.05, "XLP": 0.10, "XLV": 0.15, "XLF": 0.40}


def test_z_score_by_hand():
    rng = np.random.default_rng(0)
    hy = pd.Series(4 + np.cumsum(rng.normal(0, 0.05, 400)))
    c = hy.to_numpy()[20:] - hy.to_numpy()[:-20]          # 20-session changes
    last = c[-252:]
    expect = (last[-1] - last.mean()) / last.std(ddof=1)
    assert hy_change_z(hy) == pytest.approx(expect, rel=1e-12)
    assert np.isnan(hy_change_z(hy.iloc[:271]))            # 251 changes: no full window yet
    assert np.isfinite(hy_change_z(hy.iloc[:272]))


def test_tilt_by_hand():
    w = tilt(pd.Series(W))
    assert w["XLK"] == pytest.approx(0.20) and w["XLF"] == pytest.approx(0.40)
    for t, v in (("XLU", 0.05), ("XLP", 0.10), ("XLV", 0.15)):
        assert w[t] == pytest.approx(v + 0.1 / 3)
    small = tilt(pd.Series({"XLK": 0.04, "XLU": 0.96}))    # only what XLK holds can move
    assert small["XLK"] == 0 and small["XLU"] == pytest.approx(0.96 + 0.04 / 3)
    assert small.sum() == pytest.approx(1.0)


def _market(n=400, jump_at=None):
    hy = np.full(n, 4.0) + 0.001 * np.sin(np.arange(n))     # quiet spread
    if jump_at is not None:
        hy[jump_at:] += 1.0                                 # a 100 bp widening published at jump_at
    m = tiny_market({k: list(100 + np.arange(n) * 0.01) for k in W})
    stress = m.stress.assign(hy_oas=hy)
    from dataclasses import replace
    return replace(m, stress=stress)


def test_rule_fires_only_on_published_widening_and_ignores_the_future():
    m = _market(jump_at=350)
    pol = HYRule(Fixed(W))
    t_before, t_at = m.sessions[349], m.sessions[350]
    assert pol.target(m.asof(t_before), t_before, None)["XLK"] == pytest.approx(0.30)     # not yet published
    w = pol.target(m.asof(t_at), t_at, None)
    assert pol.signals[t_at] > 1 and w["XLK"] == pytest.approx(0.20) and w["XLU"] == pytest.approx(0.05 + 0.1 / 3)
    # the same decision with data after t altered (a huge later spike) or cut off
    alt = _market(jump_at=350)
    alt.stress.loc[alt.sessions[351]:, "hy_oas"] = 50.0
    assert HYRule(Fixed(W)).target(alt.asof(t_at), t_at, None).equals(w)
    off = HYRule(Fixed(W), use_signal=False).target(m.asof(t_at), t_at, None)
    assert off["XLK"] == pytest.approx(0.30)


def test_backtest_fills_the_tilt_exactly_when_z_exceeds_one():
    """Each decision d fills at d + 1 with XLK at 20% when z_d > 1 and at the base 30% otherwise; the
    widening published at session 350 fires the rule there (z about 16)."""
    m = _market(jump_at=350)
    cfg = BacktestConfig(start=m.sessions[300], end=m.sessions[-1], execution_lag=1, schedule="every", every=10)
    pol = HYRule(Fixed(W))
    w = run(m, pol, cfg).weights["XLK"]
    assert pol.signals[m.sessions[350]] > 10
    for d, z in pol.signals.items():
        p = m.sessions.get_loc(d) + 1
        if m.sessions[p] in w.index:
            assert w.loc[m.sessions[p]] == pytest.approx(0.20 if z > 1 else 0.30, abs=1e-3), (d, z)


def test_registered_strategy_runs_on_the_demo(demo):
    from usecases.backtest import run_backtest

    a = run_backtest(demo, "hy-rule", start="2015-01-01")
    b = run_backtest(demo, "hy-rule-nosignal", start="2015-01-01")
    assert a.strategy == "hy-rule" and a.run.config.cost_model == b.run.config.cost_model
    assert len(a.returns) == len(b.returns) > 100
