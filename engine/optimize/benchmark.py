"""Benchmark weights over the sector ETFs.

SPY is not one of the allocator's assets, so the tracking-error benchmark is the long-only,
fully invested sector portfolio that replicates SPY best over the past ``window`` sessions
(constrained least squares of SPY's daily returns on the sectors' daily returns, data up to t only).
For the 11 SPDR sectors this recovers weights close to the S&P 500's sector capitalization weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import NoDataError


def replicating_weights(sector_returns: pd.DataFrame, benchmark_returns: pd.Series, t=None,
                        window: int = 252, min_obs: int = 60) -> pd.Series:
    """Weights w >= 0, sum 1, minimizing ||R w - r_b||^2 over the ``window`` sessions ending at ``t``.

    ``sector_returns``: date x sector daily returns (NaN before a sector exists: such a sector gets 0).
    Returns a Series over all sector columns. Raises NoDataError with fewer than ``min_obs`` rows.
    """
    past = sector_returns.loc[:pd.Timestamp(t)] if t is not None else sector_returns
    win = past.iloc[-window:]
    rb = benchmark_returns.reindex(win.index)
    full = win.notna().all(axis=0).to_numpy()
    cols = list(win.columns[full])
    ok = rb.notna().to_numpy()
    if ok.sum() < min_obs or not cols:
        raise NoDataError(f"benchmark replication at {t}: need {min_obs} sessions of sector and benchmark returns")
    w = simplex_least_squares(win.to_numpy(float)[ok][:, full], rb.to_numpy(float)[ok])
    out = pd.Series(0.0, index=sector_returns.columns)
    out[cols] = w
    return out


def simplex_least_squares(R: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ||R w - y||^2 over w >= 0, sum w = 1: non-negative least squares (Lawson-Hanson, exact
    active set) with the budget as a heavily weighted extra row, then renormalized (the budget holds to
    ~1e-12 before renormalizing; tests compare with an independent cvxpy solve)."""
    from scipy.optimize import nnls

    scale = max(float(np.sqrt((R * R).sum(axis=0).max())), 1e-12)
    big = 1e4 * scale
    A = np.vstack([R, np.full((1, R.shape[1]), big)])
    b = np.r_[y, big]
    w, _ = nnls(A, b, maxiter=50 * R.shape[1])
    w = np.clip(w, 0.0, None)
    return w / w.sum()
