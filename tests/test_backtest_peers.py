"""Cross-check with bt on identical rules (small and fast): the same target weights, no costs, no
financing; bt fills at the bar it is given, so the targets are placed on our fill sessions (lag 1)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from engine.backtest.policies import Momentum
from engine.backtest.simulate import BacktestConfig, arrays_for, decisions_for, run, window
from engine.costs import CostModel

SEC = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]


def test_momentum_equals_bt_without_costs(real_market):
    bt = pytest.importorskip("bt")
    m = real_market
    cfg = BacktestConfig(start=pd.Timestamp("2008-01-01"), end=pd.Timestamp("2011-12-31"), capital=1e6,
                         cost_model=CostModel(half_spread_bps=0.0, impact_eta=0.0))
    pol = Momentum(SEC, lookback=63, top=3)
    arr = arrays_for(m, SEC)
    arr.rf = np.zeros_like(arr.rf)
    i0, i1 = window(m.sessions, cfg.start, cfg.end)
    r = run(m, pol, cfg, arrays=arr, targets=pol.targets_at(m.prices, decisions_for(m.sessions, cfg, i0, i1)))
    fills = [f for _, f in r.decisions]
    w = r.weights.loc[fills, SEC]
    px = m.prices[SEC].loc[m.sessions[i0 - 1]:m.sessions[i1]]
    w = w.reindex(px.index)

    class WeighFrame(bt.Algo):
        def __call__(self, target):
            if target.now in w.index and w.loc[target.now].notna().all():
                target.temp["weights"] = w.loc[target.now].to_dict()
                return True
            return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bt.run(bt.Backtest(bt.Strategy("m", [WeighFrame(), bt.algos.Rebalance()]), px, initial_capital=1e6,
                                 integer_positions=False, progress_bar=False))
    theirs = res.prices.iloc[:, 0].pct_change().reindex(r.returns.index).fillna(0.0)
    assert len(fills) >= 40
    np.testing.assert_allclose(r.returns.to_numpy(), theirs.to_numpy(), atol=1e-12)
