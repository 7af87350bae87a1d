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
    w = replicate_window(win.to_numpy(float), rb.to_numpy(float), t, min_obs)
    return pd.Series(w, index=sector_returns.columns)


def replicate_window(R: np.ndarray, rb: np.ndarray, t=None, min_obs: int = 60) -> np.ndarray:
    """:func:`replicating_weights` on the window itself: ``R`` (rows x sectors, NaN before a sector
    exists) and ``rb`` (the benchmark's returns on the same rows). Weights per column (0 for a sector
    without a full window); ``t`` only names the date in the message."""
    full = ~np.isnan(R).any(axis=0) if len(R) else np.zeros(R.shape[1], bool)
    ok = ~np.isnan(rb)
    if ok.sum() < min_obs or not full.any():
        raise NoDataError(f"benchmark replication at {t}: need {min_obs} sessions of sector and benchmark returns")
    out = np.zeros(R.shape[1])
    out[full] = simplex_least_squares(R[ok][:, full], rb[ok])
    return out


def simplex_least_squares(R: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ||R w - y||^2 over w >= 0, sum w = 1: non-negative least squares (Lawson-Hanson, exact
    active set) with the budget as a heavily weighted extra row, then renormalized (the budget holds to
    ~1e-12 before renormalizing; tests compare with an independent cvxpy solve and with scipy's nnls)."""
    scale = max(float(np.sqrt((R * R).sum(axis=0).max())), 1e-12)
    big = 1e4 * scale
    A = np.vstack([R, np.full((1, R.shape[1]), big)])
    b = np.r_[y, big]
    w = nnls(A, b, maxiter=50 * R.shape[1])
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def nnls(A: np.ndarray, b: np.ndarray, maxiter: int | None = None) -> np.ndarray:
    """argmin ||A x - b||_2 over x >= 0 by Lawson and Hanson's active-set algorithm (Solving Least Squares
    Problems, 1974, ch. 23), in numpy: the same solution as ``scipy.optimize.nnls`` (tests compare them to
    1e-10) without importing scipy.optimize (0.3 s at every process start). ``A`` (m x n) is first reduced to
    its n x n triangular factor (A = QR, so ||A x - b|| = ||R x - Q'b|| up to a constant), so each inner
    least-squares solve is n x |P|. Raises ValueError when ``maxiter`` (default 3 n) inner steps do not suffice."""
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    m, n = A.shape
    if m > n:
        Q, A = np.linalg.qr(A)
        b = Q.T @ b
    maxiter = maxiter or 3 * n
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tol = 10.0 * max(m, n) * np.finfo(float).eps * max(np.abs(A).sum(axis=0).max(), 1e-300)
    grad = A.T @ (b - A @ x)
    it = 0
    while (~passive).any() and (np.where(passive, -np.inf, grad)).max() > tol:
        passive[int(np.argmax(np.where(passive, -np.inf, grad)))] = True
        while True:
            it += 1
            if it > maxiter:
                raise ValueError(f"nnls: no solution within {maxiter} iterations")
            s = np.zeros(n)
            s[passive] = np.linalg.lstsq(A[:, passive], b, rcond=None)[0]
            if (s[passive] > 0).all():
                x = s
                break
            neg = passive & (s <= 0)
            alpha = np.min(x[neg] / (x[neg] - s[neg]))
            x = x + alpha * (s - x)
            passive &= x > tol
            x[~passive] = 0.0
        grad = A.T @ (b - A @ x)
    return x
