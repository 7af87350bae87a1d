"""Benchmark weights over the sector ETFs.

SPY is not one of the allocator's assets, so the tracking-error benchmark is the long-only,
fully invested sector portfolio that replicates SPY best over the past ``window`` sessions
(constrained least squares of SPY's daily returns on the sectors' daily returns, data up to t only).
For the 11 SPDR sectors this recovers weights close to the S&P 500's sector capitalization weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from engine.errors import NoDataError


def replicating_weights(sector_returns: pd.DataFrame, benchmark_returns: pd.Series, t=None,
                        window: int = 252, min_obs: int = 60) -> pd.Series:
    """Weights w >= 0, sum 1, minimizing ||R w - r_b||^2 over the ``window`` sessions ending at ``t``.

    ``sector_returns``: date x sector daily returns (NaN before a sector exists: such a sector gets 0).
    Returns a Series over all sector columns. Raises NoDataError with fewer than ``min_obs`` rows.
    """
    past = sector_returns.loc[:pd.Timestamp(t)] if t is not None else sector_returns
    rb = benchmark_returns.reindex(past.index)
    win = past.iloc[-window:]
    rb = rb.iloc[-window:]
    cols = [c for c in win.columns if win[c].notna().all()]
    ok = rb.notna()
    if ok.sum() < min_obs or not cols:
        raise NoDataError(f"benchmark replication at {t}: need {min_obs} sessions of sector and benchmark returns")
    R = win.loc[ok, cols].to_numpy(float)
    y = rb[ok].to_numpy(float)
    n = len(cols)
    G, h = R.T @ R, R.T @ y
    res = minimize(lambda w: w @ G @ w - 2 * h @ w, np.full(n, 1.0 / n), jac=lambda w: 2 * (G @ w - h),
                   bounds=[(0.0, 1.0)] * n, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                                          "jac": lambda w: np.ones(n)}],
                   method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    w = np.clip(res.x, 0.0, None)
    w = w / w.sum()
    out = pd.Series(0.0, index=sector_returns.columns)
    out[cols] = w
    return out
