"""Point in time: truncating or altering data after t leaves the backtest up to t unchanged;
the vectorised momentum path equals the market.asof(t) path; determinism."""
from __future__ import annotations

import pandas as pd
from dataclasses import replace

from engine.backtest.policies import Momentum
from engine.backtest.simulate import BacktestConfig, decisions_for, run, window
from pit_helpers import altered_after

UNI = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "TLT"]


def test_truncation_and_alteration_after_t(real_market):
    t = pd.Timestamp("2012-06-29")
    cfg = BacktestConfig(start=pd.Timestamp("2008-01-01"), end=pd.Timestamp("2014-12-31"), leverage=1.2,
                         vix_overlay=True)
    full = run(real_market, Momentum(UNI), cfg)
    cut = run(real_market.asof(t), Momentum(UNI), replace(cfg, end=t))
    alt = run(altered_after(real_market, t), Momentum(UNI), cfg)
    # up to t: identical; the decision at t fills after t, so only sessions <= t are compared
    pd.testing.assert_series_equal(full.returns.loc[:t], cut.returns.loc[:t])
    pd.testing.assert_series_equal(full.returns.loc[:t], alt.returns.loc[:t])
    pd.testing.assert_frame_equal(full.weights.loc[:t], alt.weights.loc[:t])
    assert not full.returns.loc[t:].iloc[1:].equals(alt.returns.loc[t:].iloc[1:])   # the alteration bites after t


def test_vectorised_momentum_equals_asof_path_and_is_deterministic(real_market):
    cfg = BacktestConfig(start=pd.Timestamp("2003-01-01"), end=pd.Timestamp("2019-12-31"))
    pol = Momentum(UNI)
    i0, i1 = window(real_market.sessions, cfg.start, cfg.end)
    fast = run(real_market, pol, cfg, targets=pol.targets_at(real_market.prices,
                                                             decisions_for(real_market.sessions, cfg, i0, i1)))
    slow = run(real_market, pol, cfg)
    pd.testing.assert_series_equal(fast.returns, slow.returns, check_exact=True)
    again = run(real_market, pol, cfg)
    pd.testing.assert_series_equal(slow.returns, again.returns, check_exact=True)
    pd.testing.assert_frame_equal(slow.trades, again.trades)
    # TLT is eligible only once it has lookback + 1 prices (it starts 2002-07-30)
    first_tlt = real_market.prices["TLT"].first_valid_index()
    held = slow.weights["TLT"][slow.weights["TLT"] > 0]
    assert held.empty or held.index[0] > real_market.sessions[real_market.sessions.get_loc(first_tlt) + 126]
