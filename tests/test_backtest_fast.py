"""The fast paths equal the slow references to 1e-10: the vectorised fills (all at once, linear costs)
against the session loop, and the vectorised momentum targets against the per-decision ``target``."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.policies import EqualWeight, Momentum
from engine.backtest.simulate import BacktestConfig, decisions_for, run, window
from engine.costs import CostModel

UNI = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "TLT", "XLRE"]
CASES = [
    dict(),
    dict(execution_lag=0),
    dict(execution_lag=3, leverage=1.6, financing_spread_bps=75.0, vix_overlay=True),
    dict(leverage=0.7, schedule="weekly",
         cost_model=CostModel(commission_bps=2.0, commission_per_share=0.01, half_spread_bps=7.0, impact_eta=0.0)),
    dict(schedule="every", every=10, cost_model=CostModel(half_spread_bps=0.0, impact_eta=0.0)),
]


def _both(m, pol, **kw):
    cfg = BacktestConfig(start=pd.Timestamp("2013-01-01"), end=pd.Timestamp("2017-06-30"), **kw)
    i0, i1 = window(m.sessions, cfg.start, cfg.end)
    tg = pol.targets_at(m.prices, decisions_for(m.sessions, cfg, i0, i1))
    return run(m, pol, cfg, targets=tg), run(m, pol, cfg, targets=tg, vectorised=False)


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("policy", ["momentum", "equal"])
def test_vectorised_fills_equal_the_session_loop(real_market, policy, kw):
    pol = Momentum(UNI, lookback=63, top=3) if policy == "momentum" else EqualWeight(UNI)
    fast, slow = _both(real_market, pol, **kw)
    assert len(fast.decisions) == len(slow.decisions) > 10
    assert fast.decisions == slow.decisions
    np.testing.assert_allclose(fast.cost.to_numpy() / 1e9, slow.cost.to_numpy() / 1e9, rtol=0, atol=1e-10)
    for name in ("returns", "turnover", "leverage", "cash_return"):
        np.testing.assert_allclose(getattr(fast, name).to_numpy(), getattr(slow, name).to_numpy(), rtol=0, atol=1e-10,
                                   err_msg=name)
    np.testing.assert_allclose(fast.nav.to_numpy() / 1e9, slow.nav.to_numpy() / 1e9, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast.weights.to_numpy(), slow.weights.to_numpy(), rtol=0, atol=1e-10)
    pd.testing.assert_frame_equal(fast.trades.drop(columns=["dollars", "weight"]), slow.trades.drop(columns=["dollars", "weight"]))
    np.testing.assert_allclose(fast.trades["dollars"].to_numpy() / 1e9, slow.trades["dollars"].to_numpy() / 1e9,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast.trades["weight"].to_numpy(), slow.trades["weight"].to_numpy(), rtol=0, atol=1e-10)
    assert (fast.cost > 0).any() or kw.get("cost_model") is not None


def test_vectorised_momentum_targets_equal_target(real_market):
    m = real_market
    pol = Momentum(UNI, lookback=126, top=4)
    pos = list(range(100, len(m.sessions), 37))
    fast = pol.targets_at(m.prices, pos)
    assert len(fast) > 50
    for p in pos:
        t = m.sessions[p]
        try:
            slow = pol.target(m.asof(t), t, None).to_numpy()
        except Exception:
            assert p not in fast
            continue
        np.testing.assert_array_equal(fast[p], slow)


def test_last_valid_equals_ffill_last_row():
    from engine.backtest.rotation import _last_valid

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 300):
        a = rng.normal(size=(n, 5))
        a[rng.random((n, 5)) < 0.6] = np.nan
        a[:, 3] = np.nan
        f = pd.DataFrame(a, columns=list("abcde"))
        np.testing.assert_array_equal(_last_valid(f).to_numpy(), f.ffill().iloc[-1].to_numpy())


def test_asof_reference_cut_equals_per_series_where(real_market):
    """Market.asof cuts each reference series at its availability lag in one array pass: the same values
    as cutting each series with Series.where, and nothing published after t survives."""
    m = real_market
    for t in (pd.Timestamp("2008-09-15"), pd.Timestamp("2019-06-28")):
        v = m.asof(t)
        pos = m.sessions.searchsorted(t, side="right") - 1
        ref = m.reference.loc[:t]
        for c in ref.columns:
            p = pos - m.lags.get(c, 0)
            lim = m.sessions[p] if p >= 0 else pd.Timestamp.min
            pd.testing.assert_series_equal(v.reference[c], ref[c].where(ref.index <= lim), check_names=False)


def test_gross_many_equals_gross():
    from engine.backtest.simulate import _gross, _gross_many

    vix = np.array([np.nan, np.inf, -np.inf, 0.0, 14.99, 15.0, 19.99, 20.0, 29.99, 30.0, 80.0])
    for overlay in (False, True):
        cfg = BacktestConfig(start=pd.Timestamp("2010-01-01"), end=pd.Timestamp("2011-01-01"), leverage=1.3,
                             vix_overlay=overlay)
        np.testing.assert_array_equal(_gross_many(cfg, vix), [_gross(cfg, v) for v in vix])
