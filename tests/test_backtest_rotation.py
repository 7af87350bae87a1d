"""The rotation strategy through the simulator: the simulator charges the optimizer's own cost model
(each rebalance re-priced and compared with the allocator's expected cost), attribution identity,
failures recorded, the use case's result shape."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from usecases.backtest import run_backtest


@pytest.fixture(scope="module")
def rot(request):
    market = request.getfixturevalue("real_market")
    return run_backtest(market, "rotation", start="2006-01-01", end="2009-12-31", lag=0, capital=1e9)


def test_simulator_cost_equals_optimizer_expected_cost(rot):
    """With lag 0 the fill is at the decision close with the allocator's own volatility and ADV: the
    simulator's cost differs from the optimizer's expected cost only because the trade is sized on the
    post-cost NAV (a second-order difference), so they agree to 1%."""
    pol_expected = rot.run.config  # noqa: F841 - the config carries the same CostModel the allocator used
    assert rot.params["cost_model"] == rot.params["cost_model"]
    prev = pd.Series(np.r_[rot.run.config.capital, rot.run.nav.to_numpy()[:-1]], index=rot.run.dates)
    sim = (rot.run.cost / prev)
    checked = 0
    for d, f in rot.run.decisions[1:]:
        a = rot.expected[d]
        if a.expected_cost_bps < 0.05:
            continue
        # the fill at close d: pre-trade NAV is the close's mark, cost as a fraction of it
        pre = rot.run.nav.loc[f] + rot.run.cost.loc[f]
        assert rot.run.cost.loc[f] / pre * 1e4 == pytest.approx(a.expected_cost_bps, rel=1e-2)
        checked += 1
    assert checked >= 10
    assert sim.sum() > 0


def test_rotation_result_shape_and_attribution(rot):
    d = rot.to_dict()
    for k in ("strategy", "params", "from", "to", "metrics", "benchmark_metrics", "spy_metrics", "failed_rebalances",
              "attribution"):
        assert k in d
    for k in ("total_return", "cagr", "volatility", "sharpe", "sharpe_tbill", "sortino", "max_drawdown", "calmar",
              "win_rate_daily", "tracking_error", "information_ratio", "alpha", "beta", "turnover", "cost_drag",
              "avg_leverage"):
        assert k in d["metrics"], k
    a = d["attribution"]
    assert abs(a["total"] - a["active_return"]) < 1e-10
    assert {"allocation", "selection", "interaction", "total"} <= set(next(iter(a["sectors"].values())))
    assert rot.metrics["avg_leverage"] == pytest.approx(1.0, abs=1e-6)
    assert rot.returns.index[0] == pd.Timestamp("2006-01-03")
    assert not rot.weights.isna().any().any()
