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


def replicate_window(R: np.ndarray, rb: np.ndarray, t=None, min_obs: int = 60,
                     start: np.ndarray | None = None) -> np.ndarray:
    """:func:`replicating_weights` on the window itself: ``R`` (rows x sectors, NaN before a sector
    exists) and ``rb`` (the benchmark's returns on the same rows). Weights per column (0 for a sector
    without a full window); ``t`` only names the date in the message; ``start``: an optional guess of the
    support per column (the previous window's ``w > 0``), which only saves iterations."""
    full = ~np.isnan(R).any(axis=0) if len(R) else np.zeros(R.shape[1], bool)
    ok = ~np.isnan(rb)
    if ok.sum() < min_obs or not full.any():
        raise NoDataError(f"benchmark replication at {t}: need {min_obs} sessions of sector and benchmark returns")
    out = np.zeros(R.shape[1])
    out[full] = simplex_least_squares(R[ok][:, full], rb[ok], None if start is None else np.asarray(start)[full])
    return out


def simplex_least_squares(R: np.ndarray, y: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """argmin ||R w - y||^2 over w >= 0, sum w = 1: non-negative least squares with the budget as a heavily
    weighted extra row (weight ``big`` = 1e4 x the largest column norm), then renormalized (the budget holds
    to ~1e-12 before renormalizing). ``start``: an optional guess of the support (bool per column, e.g. the
    previous window's ``w > 0``); the optimum is unique, so it only saves iterations. Tests compare the
    result with an independent cvxpy solve and with the former implementation through
    ``scipy.optimize.nnls`` (to 1e-10, random and real windows, with and without a start); see
    :func:`_nnls_budget`."""
    R, y = np.asarray(R, dtype=float), np.asarray(y, dtype=float)
    scale = max(float(np.sqrt((R * R).sum(axis=0).max())), 1e-12)
    w = _nnls_budget(R.T @ R, R.T @ y, 1e4 * scale, 50 * R.shape[1], start)
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def _nnls_budget(G: np.ndarray, c: np.ndarray, big: float, maxiter: int, start=None) -> np.ndarray:
    """Lawson and Hanson's NNLS active-set algorithm (Solving Least Squares Problems, 1974, ch. 23) for
    min ||R x - y||^2 + big^2 (1'x - 1)^2 over x >= 0, from ``G = R'R`` and ``c = R'y``, in numpy (no
    scipy.optimize import: 0.3 s at every process start). Each passive-set least-squares solve is written as
    the bordered system [[G_PP, 1], [1', -1/big^2]] [x_P; m] = [c_P; 1] with m = big^2 (1'x_P - 1), which is
    the same normal equation without squaring ``big`` into the conditioning; the gradient is
    c - G x - m 1. A ``start`` support whose solution is positive is taken as the initial passive set
    (a valid state of the algorithm); otherwise it starts from x = 0. Raises ValueError when ``maxiter``
    inner steps do not suffice."""
    n = len(c)
    inv_b2 = 1.0 / (big * big)
    tol = 10.0 * n * np.finfo(float).eps * max(float(np.abs(G).max()), float(np.abs(c).max()), 1e-300)
    x, passive, m = np.zeros(n), np.zeros(n, dtype=bool), -big * big       # at x = 0: m = -big^2
    if start is not None and np.any(start):
        s, ms = _bordered_solve(G, c, np.asarray(start, dtype=bool), inv_b2)
        if (s[start] > 0).all():
            x, passive, m = s, np.asarray(start, dtype=bool).copy(), ms
    grad = c - G @ x - m
    it = 0
    while not passive.all():
        j = int(np.argmax(np.where(passive, -np.inf, grad)))
        if grad[j] <= tol:
            break
        passive[j] = True
        while True:
            it += 1
            if it > maxiter:
                raise ValueError(f"nnls: no solution within {maxiter} iterations")
            s, m = _bordered_solve(G, c, passive, inv_b2)
            if (s[passive] > 0).all():
                x = s
                break
            neg = passive & (s <= 0)
            alpha = np.min(x[neg] / (x[neg] - s[neg]))
            x = x + alpha * (s - x)
            passive &= x > 0
            x[~passive] = 0.0
        grad = c - G @ x - m
    return x


def _bordered_solve(G: np.ndarray, c: np.ndarray, passive: np.ndarray, inv_b2: float):
    """(x with x_P the least-squares solution on the passive set and 0 elsewhere, m = big^2 (1'x - 1))."""
    idx = np.flatnonzero(passive)
    k = len(idx)
    K = np.ones((k + 1, k + 1))
    K[:k, :k] = G[idx][:, idx]
    K[k, k] = -inv_b2
    rhs = np.ones(k + 1)
    rhs[:k] = c[idx]
    sol = np.linalg.solve(K, rhs)
    x = np.zeros(len(c))
    x[idx] = sol[:k]
    return x, float(sol[k])
