"""The vectorised momentum sweep against the backtester (engine.backtest through usecases.backtest):
each configuration's daily returns and metrics equal the simulator's (same lag, costs, leverage,
financing and VIX conventions)."""
from __future__ import annotations

import numpy as np
import pytest

from usecases.backtest import run_backtest
from usecases.sweep import run_sweep

CONFIGS = [{"lookback": 126, "leverage": 1.0}, {"lookback": 63, "leverage": 1.5},
           {"lookback": 134, "leverage": 1.25, "vix_overlay": True}]
SHARED = ("total_return", "cagr", "annual_return", "volatility", "sharpe", "sharpe_tbill", "sortino", "max_drawdown",
          "calmar", "win_rate_daily", "tracking_error", "information_ratio", "alpha", "beta", "turnover", "cost_drag",
          "avg_leverage", "tracking_error_benchmark", "information_ratio_benchmark")


def _compare(market, start, end):
    res = run_sweep(market, "momentum", {"lookback": [126, 63, 134], "leverage": [1.0, 1.5, 1.25],
                                         "vix_overlay": [False, True]}, start=start, end=end)
    for cfg in CONFIGS:
        full = {"vix_overlay": False, **cfg}
        i = next(k for k, r in enumerate(res["rows"]) if all(r[p] == v for p, v in full.items()))
        bt = run_backtest(market, "momentum", start=start, end=end, **cfg)
        mine = res["returns"][i]
        assert mine.index.equals(bt.returns.index)
        np.testing.assert_allclose(mine.to_numpy(), bt.returns.to_numpy(), rtol=0, atol=1e-10)
        for k in SHARED:
            assert res["rows"][i][k] == pytest.approx(bt.metrics[k], rel=1e-9, abs=1e-10), k


def test_vectorised_sweep_equals_the_simulator_on_the_demo_market(demo):
    _compare(demo, "2012-01-01", "2016-12-31")


@pytest.mark.realdata
@pytest.mark.slow
def test_vectorised_sweep_equals_the_simulator_on_real_data(real_market):
    _compare(real_market, "2005-01-01", "2019-12-31")
