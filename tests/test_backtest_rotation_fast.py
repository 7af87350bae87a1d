"""The rotation policy's positional path (arrays of the whole market computed once, read by position)
gives the same decisions as the market.asof(t) path, is point in time (truncating or altering every
input after t leaves the backtest up to t unchanged), and is deterministic from one run to the next
(the compiled allocator is shared, its solver is not)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.rotation import Rotation
from engine.backtest.simulate import BacktestConfig, run
from engine.optimize.limits import Limits
from engine.universe import SECTORS
from pit_helpers import altered_after


def _signals(market):
    """Fixed causal-looking inputs: a regime that alternates calm/stress by quarter, scores from a seed."""
    s = market.sessions
    regimes = pd.Series(np.where((s.quarter % 2) == 0, "stress", "calm"), index=s)
    rng = np.random.default_rng(1)
    comp = pd.DataFrame(rng.normal(size=(len(s), len(SECTORS))), index=s, columns=list(SECTORS))
    return regimes, comp


def _run(market, cfg, regimes, comp, **kw):
    lim = Limits(turnover=0.2)
    return run(market, Rotation(list(SECTORS), lim, regimes, comp, **kw), cfg)


@pytest.fixture(scope="module")
def setup(real_market):
    regimes, comp = _signals(real_market)
    cfg = BacktestConfig(start=pd.Timestamp("2007-01-01"), end=pd.Timestamp("2009-12-31"),
                         cost_model=Limits().cost_model())
    return real_market, cfg, regimes, comp, _run(real_market, cfg, regimes, comp)


def test_positional_path_equals_asof_path(setup):
    market, cfg, regimes, comp, fast = setup
    slow = _run(market, replace(cfg, positional=False), regimes, comp)
    pd.testing.assert_series_equal(fast.returns, slow.returns, check_exact=True)
    pd.testing.assert_frame_equal(fast.weights, slow.weights, check_exact=True)
    assert [f.to_dict() for f in fast.failed] == [f.to_dict() for f in slow.failed]
    assert len(fast.decisions) >= 30


def test_two_runs_in_a_row_are_identical(setup):
    market, cfg, regimes, comp, fast = setup
    again = _run(market, cfg, regimes, comp)
    pd.testing.assert_series_equal(fast.returns, again.returns, check_exact=True)
    pd.testing.assert_frame_equal(fast.trades, again.trades, check_exact=True)


def test_truncation_and_alteration_after_t(setup):
    market, cfg, regimes, comp, full = setup
    t = pd.Timestamp("2008-09-30")
    cut = _run(market.asof(t), replace(cfg, end=t), regimes, comp)
    alt = _run(altered_after(market, t), cfg, regimes, comp)
    pd.testing.assert_series_equal(full.returns.loc[:t], cut.returns.loc[:t], check_exact=True)
    pd.testing.assert_series_equal(full.returns.loc[:t], alt.returns.loc[:t], check_exact=True)
    pd.testing.assert_frame_equal(full.weights.loc[:t], alt.weights.loc[:t], check_exact=True)
    assert not full.returns.loc[t:].iloc[1:].equals(alt.returns.loc[t:].iloc[1:])   # the alteration bites after t


@pytest.mark.slow
def test_signals_and_references_are_computed_once_per_market_and_end(real_market, monkeypatch):
    """A sweep's configurations share the stress stage, the composite scores and the benchmark/SPY
    runs (cached per market object and end date); the cached results equal an uncached run's."""
    from usecases import backtest, signals

    calls = []
    real = signals.stress_result
    monkeypatch.setattr(signals, "stress_result", lambda *a, **k: calls.append(1) or real(*a, **k))
    m = replace(real_market)                     # a market object of its own: nothing cached yet
    kw = dict(start="2007-01-01", end="2008-12-31")
    a = backtest.run_backtest(m, "rotation", leverage=1.0, **kw)
    b = backtest.run_backtest(m, "rotation", leverage=0.9, **kw)
    c = backtest.run_backtest(m, "rotation-nosignal", **kw)
    assert len(calls) == 1
    assert b.benchmark is a.benchmark and c.spy is a.spy
    fresh = backtest.run_backtest(replace(real_market), "rotation", leverage=0.9, **kw)
    assert len(calls) == 2
    pd.testing.assert_series_equal(b.returns, fresh.returns, check_exact=True)
    pd.testing.assert_series_equal(b.benchmark.returns, fresh.benchmark.returns, check_exact=True)
