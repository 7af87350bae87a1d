"""Shrunk covariance of daily sector returns from a window ending at ``t`` (annualized x 252).

Estimators:
- ``ledoit_wolf_identity``: Ledoit-Wolf (2004, "A well-conditioned estimator...") shrinkage to
  ``mu * I`` with ``mu = trace(S)/p``; same formula as ``sklearn.covariance.LedoitWolf``.
- ``ledoit_wolf_constant_corr``: Ledoit-Wolf (2004, "Honey, I shrunk the sample covariance matrix")
  shrinkage to the constant-correlation target.
- ``ewma``: exponentially weighted (RiskMetrics style, zero mean) with a half-life in sessions.

Sectors that did not trade over the whole window (XLRE before 2015-10, XLC before 2018-06, or any
column with a NaN in the window) are *excluded*: their row and column are 0 and they are listed in
``excluded``; the allocator holds them at weight 0. They never turn the other entries into NaN.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, NoDataError

log = logging.getLogger(__name__)
PERIODS_PER_YEAR = 252
METHODS = ("ledoit_wolf_constant_corr", "ledoit_wolf_identity", "ewma")


@dataclass(frozen=True)
class RiskModel:
    """Annualized covariance over every ticker of the input (excluded tickers: zero row/column).

    ``factor`` is an n x n matrix with ``factor @ factor.T == cov`` (Cholesky of the investable block,
    zero-padded), which the allocator uses for tracking error and risk in DPP form.
    """

    cov: pd.DataFrame
    investable: tuple[str, ...]
    excluded: tuple[str, ...]
    shrinkage: float | None
    method: str
    asof: pd.Timestamp | None
    n_obs: int

    @property
    def factor(self) -> np.ndarray:
        return cholesky_factor(self.cov.to_numpy())

    @property
    def daily_vol(self) -> pd.Series:
        """Daily volatility per ticker (annualized variance / 252, square-rooted); 0 for excluded."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy()) / PERIODS_PER_YEAR), index=self.cov.index)


try:                 # the gufunc np.linalg.cholesky calls: at 11 x 11 most of its cost is the wrapper
    from numpy.linalg._umath_linalg import cholesky_lo as _cholesky_lo
except ImportError:  # pragma: no cover - another numpy layout
    _cholesky_lo = None


def _cholesky(a: np.ndarray) -> np.ndarray:
    """np.linalg.cholesky(a) (lower), the same values; a matrix it cannot factor still raises LinAlgError."""
    if _cholesky_lo is not None and a.dtype == np.float64:
        with np.errstate(all="ignore"):
            L = _cholesky_lo(a)
        if not np.isnan(L).any():
            return L
    return np.linalg.cholesky(a)


def cholesky_factor(cov: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L L' = cov for a PSD matrix whose zero rows mark excluded assets.

    The non-zero block is factored by Cholesky (with a tiny diagonal jitter if it is only
    semi-definite); zero rows/columns stay zero.
    """
    cov = np.asarray(cov, dtype=float)
    n = cov.shape[0]
    keep = cov.diagonal() > 0
    if keep.all():
        try:
            return _cholesky(cov)
        except np.linalg.LinAlgError:
            pass                         # semi-definite: the jittered factor below
    L = np.zeros((n, n))
    if keep.any():
        block = cov[np.ix_(keep, keep)]
        try:
            Lb = _cholesky(block)
        except np.linalg.LinAlgError:
            jitter = 1e-12 * max(np.trace(block) / block.shape[0], 1e-12)
            Lb = np.linalg.cholesky(block + jitter * np.eye(block.shape[0]))
        L[np.ix_(keep, keep)] = Lb
    return L


def ledoit_wolf_identity(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf shrinkage to ``trace(S)/p * I``. ``x``: T x p returns, no NaN. Returns (cov, shrinkage).

    Sample covariance uses 1/T after demeaning (as sklearn does), so the result equals
    ``sklearn.covariance.LedoitWolf().fit(x).covariance_``.
    """
    x = np.asarray(x, dtype=float)
    t, p = x.shape
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / t
    mu = np.trace(s) / p
    delta = ((s - mu * np.eye(p)) ** 2).sum() / p
    x2 = xc ** 2
    beta = ((x2.T @ x2).sum() / t - (s ** 2).sum()) / (p * t)
    beta = min(beta, delta)
    shrink = 0.0 if delta == 0 else beta / delta
    return (1 - shrink) * s + shrink * mu * np.eye(p), float(shrink)


def ledoit_wolf_constant_corr(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf (2004) shrinkage to the constant-correlation target. ``x``: T x p, no NaN.

    Target F: F_ii = s_ii, F_ij = rbar sqrt(s_ii s_jj) with rbar the average sample correlation.
    Intensity delta = max(0, min(1, (pi - rho) / gamma / T)) with pi, rho, gamma as in the paper.
    Returns (cov, delta).
    """
    x = np.asarray(x, dtype=float)
    t, p = x.shape
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / t
    var = np.diag(s)
    sd = np.sqrt(var)
    corr = s / np.outer(sd, sd)
    rbar = (corr.sum() - p) / (p * (p - 1)) if p > 1 else 0.0
    f = rbar * np.outer(sd, sd)
    np.fill_diagonal(f, var)
    y = xc ** 2
    pi_mat = y.T @ y / t - s ** 2
    pi_hat = pi_mat.sum()
    # theta_ii,ij = (1/T) sum_t (x_i^2 - s_ii)(x_i x_j - s_ij)
    theta = (xc ** 3).T @ xc / t - var[:, None] * s
    np.fill_diagonal(theta, 0.0)
    rho_off = rbar * ((np.outer(1 / sd, sd) * theta).sum())
    rho_hat = np.trace(pi_mat) + rho_off
    gamma_hat = ((f - s) ** 2).sum()
    if gamma_hat <= 0:
        return s, 0.0
    kappa = (pi_hat - rho_hat) / gamma_hat
    delta = float(max(0.0, min(1.0, kappa / t)))
    return delta * f + (1 - delta) * s, delta


def ewma_covariance(x: np.ndarray, halflife: float = 63.0) -> np.ndarray:
    """Exponentially weighted covariance (zero mean), weights 0.5**(age/halflife) normalized to 1.

    ``x``: T x p returns in time order (last row = most recent), no NaN.
    """
    x = np.asarray(x, dtype=float)
    t = x.shape[0]
    age = np.arange(t - 1, -1, -1, dtype=float)
    w = 0.5 ** (age / halflife)
    w /= w.sum()
    return (x * w[:, None]).T @ x


def risk_model(returns: pd.DataFrame, t=None, window: int = 252, method: str = "ledoit_wolf_constant_corr",
               halflife: float = 63.0, min_obs: int = 60) -> RiskModel:
    """Annualized shrunk covariance from the ``window`` daily returns ending at ``t`` (inclusive).

    ``returns``: date x ticker simple daily returns (NaN where a ticker did not trade). Only rows dated
    at or before ``t`` are used (no look-ahead). A ticker with any NaN in the window is excluded
    (zero row/column). Raises NoDataError if fewer than ``min_obs`` rows are available, ArgumentError
    for an unknown method or window.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    if window < 2 or min_obs < 2:
        raise ArgumentError("window", f"expected at least 2 sessions, got window={window}, min_obs={min_obs}")
    past = returns.loc[:pd.Timestamp(t)] if t is not None else returns
    win = past.iloc[-window:]
    return risk_model_window(win.to_numpy(dtype=float), list(returns.columns), t, method, halflife, min_obs,
                             pd.Timestamp(win.index[-1]) if len(win) else None)


def risk_model_window(vals: np.ndarray, tickers: list[str], t=None, method: str = "ledoit_wolf_constant_corr",
                      halflife: float = 63.0, min_obs: int = 60, asof=None) -> RiskModel:
    """:func:`risk_model` on the window itself: ``vals`` (rows x tickers, the returns of the window, oldest
    first; NaN where a ticker did not trade). For callers that slice one array by position (backtests);
    ``t`` only names the date in messages, ``asof`` is recorded."""
    cov, full_cols, shrink = covariance_window(vals, method, halflife, min_obs, t)
    investable = [c for c, ok in zip(tickers, full_cols) if ok]
    excluded = [c for c, ok in zip(tickers, full_cols) if not ok]
    full = pd.DataFrame(cov, index=tickers, columns=tickers)
    if excluded:
        log.info("covariance at %s: excluded (no full window) %s", t, ", ".join(excluded))
    return RiskModel(full, tuple(investable), tuple(excluded), shrink, method, asof, len(vals))


def covariance_window(vals: np.ndarray, method: str = "ledoit_wolf_constant_corr", halflife: float = 63.0,
                      min_obs: int = 60, t=None) -> tuple[np.ndarray, np.ndarray, float | None]:
    """The arrays of :func:`risk_model_window`: ``(annualized covariance n x n with zero rows/columns for the
    excluded, investable mask, shrinkage)``, without building the DataFrame (the per-rebalance path)."""
    vals = np.asarray(vals, dtype=float)
    n = vals.shape[1]
    full_cols = (~np.isnan(vals)).all(axis=0) if len(vals) else np.zeros(n, bool)
    if len(vals) < min_obs or not full_cols.any():
        raise NoDataError(f"covariance at {t}: need at least {min_obs} sessions of returns with every sector "
                          f"present, found {len(vals)} rows and {int(full_cols.sum())} complete sectors")
    x = np.ascontiguousarray(vals[:, full_cols])     # the layout pandas handed over: BLAS sums in the same order
    shrink = None
    if method == "ledoit_wolf_identity":
        c, shrink = ledoit_wolf_identity(x)
    elif method == "ledoit_wolf_constant_corr":
        c, shrink = ledoit_wolf_constant_corr(x)
    else:
        c = ewma_covariance(x, halflife)
    mat = np.zeros((n, n))
    mat[np.ix_(full_cols, full_cols)] = c * PERIODS_PER_YEAR
    return mat, full_cols, shrink
