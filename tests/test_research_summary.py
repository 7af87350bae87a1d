"""Sweep summary metrics equal empyrical-reloaded (random series and a momentum sweep on real data)."""
from __future__ import annotations

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from engine.research.summary import KEYS, summarize


def _check(r: np.ndarray, b: np.ndarray, rf: np.ndarray) -> None:
    m = summarize(r, benchmark=b, rf=rf)
    for j in range(r.shape[1]):
        x = r[:, j]
        assert m["cagr"][j] == pytest.approx(ep.annual_return(x), abs=1e-10)
        assert m["volatility"][j] == pytest.approx(ep.annual_volatility(x), abs=1e-10)
        assert m["sharpe"][j] == pytest.approx(ep.sharpe_ratio(x), abs=1e-10)
        assert m["sharpe_tbill"][j] == pytest.approx(ep.sharpe_ratio(x, risk_free=rf), abs=1e-10)
        assert m["sortino"][j] == pytest.approx(ep.sortino_ratio(x), abs=1e-10)
        assert m["max_drawdown"][j] == pytest.approx(ep.max_drawdown(x), abs=1e-10)
        assert m["calmar"][j] == pytest.approx(ep.calmar_ratio(x), abs=1e-10)
        a, be = ep.alpha_beta(x, b)
        assert m["alpha"][j] == pytest.approx(a, abs=1e-10) and m["beta"][j] == pytest.approx(be, abs=1e-10)
        assert m["tracking_error"][j] == pytest.approx(ep.annual_volatility(x - b), abs=1e-10)
        assert m["information_ratio"][j] == pytest.approx(ep.excess_sharpe(x, b) * np.sqrt(252), abs=1e-10)
        assert m["total_return"][j] == pytest.approx(ep.cum_returns_final(x), abs=1e-10)


def test_summary_equals_empyrical_on_random_series():
    rng = np.random.default_rng(8)
    b = rng.normal(0.0003, 0.011, 1500)
    r = 0.8 * b[:, None] + rng.normal(0.0001, 0.006, (1500, 5))
    _check(r, b, np.full(1500, 0.02 / 252))
    assert set(summarize(r)) == set(KEYS)


@pytest.mark.realdata
def test_summary_equals_empyrical_on_a_real_momentum_sweep(real_market):
    from engine.research.momentum import momentum_sweep

    m = real_market
    uni = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "TLT"]
    res = momentum_sweep(m.prices[uni], m.stress["dgs3mo"], lookback=[63, 126, 252], leverage=1.25,
                         start="2005-01-01", end="2019-12-31")
    spy = m.prices["SPY"].pct_change().reindex(res.returns.index).to_numpy()
    rf = (m.stress["dgs3mo"].ffill().shift(1) / 100 / 252).reindex(res.returns.index).to_numpy()
    _check(res.returns.to_numpy(), spy, rf)
