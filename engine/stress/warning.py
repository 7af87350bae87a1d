"""Early warning: walk-forward ridge logistic regression of "an event starts in 20-60 sessions".

Refit schedule: the first session of each calendar month (or week). A fit on session f uses only the
rows s <= f - horizon_max whose label is therefore known at f, and only when at least ``min_train``
such rows with ``min_positive`` positives exist. The probability at t comes from the latest fit made
on or before t, applied to the features at t. Features are standardized with the training rows'
mean and sd; the L2 penalty applies to the standardized slopes, not to the intercept. Each refit starts
Newton at the previous refit's optimum written on the new standardization (a warm start: about half the
steps; the ridge objective is strictly convex, so the answer is the same: probabilities within 3e-9 of fits
started at zero on ../shared/data, tests/test_warning_irls.py).
"""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from engine.stress.config import WarningConfig

log = logging.getLogger(__name__)


class LogisticConvergenceWarning(UserWarning):
    """The Newton/IRLS fit stopped at ``max_iter`` (or on a stalled line search) before converging."""


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 0.0, max_iter: int = 50,
                 tol: float = 1e-10, beta0: np.ndarray | None = None) -> np.ndarray:
    """Ridge logistic regression by Newton/IRLS. ``x``: (n, k) without intercept, ``y``: (n,) in {0,1}.

    Returns coefficients (k+1,) with the intercept first. Minimises
    ``-sum(y log p + (1-y) log(1-p)) + ridge/2 * ||beta[1:]||^2`` -- the objective of scikit-learn's
    ``LogisticRegression(C=1/ridge)`` (intercept unpenalised); tests/test_warning_irls.py shows both agree
    to 1e-8 and statsmodels' ``Logit`` too when ridge = 0. Emits ``LogisticConvergenceWarning`` when it
    does not converge (see :func:`fit_logistic_info`).
    """
    beta, converged, n_iter = fit_logistic_info(x, y, ridge, max_iter, tol, beta0)
    if not converged:
        warnings.warn(f"ridge logistic fit did not converge in {n_iter} Newton steps (ridge={ridge}); "
                      "the coefficients are the last iterate", LogisticConvergenceWarning, stacklevel=2)
    return beta


def fit_logistic_info(x: np.ndarray, y: np.ndarray, ridge: float = 0.0, max_iter: int = 50,
                      tol: float = 1e-10, beta0: np.ndarray | None = None) -> tuple[np.ndarray, bool, int]:
    """As :func:`fit_logistic`, returning ``(beta, converged, newton_steps)``. Converged means the last
    Newton step (or the objective's relative change) fell below ``tol``. ``beta0``: the starting point
    (default 0; the objective is strictly convex with a ridge, so the start changes the steps, not the answer)."""
    n, k = x.shape
    a = np.column_stack([np.ones(n), x])
    beta = np.zeros(k + 1) if beta0 is None else np.array(beta0, dtype=float)
    pen = np.full(k + 1, float(ridge))
    pen[0] = 0.0

    def objective(b):                  # (value, a @ b, exp(-|a @ b|)): the accepted step's are the next iteration's
        eta = a @ b
        e = np.exp(-np.abs(eta))       # log(1 + exp(eta)) = max(eta, 0) + log1p(e), stable both ways
        return float(np.sum(np.maximum(eta, 0.0) + np.log1p(e) - y * eta) + 0.5 * np.sum(pen * b * b)), eta, e

    diag_pen, jitter = np.diag(pen), 1e-12 * np.eye(k + 1)
    f, eta, e = objective(beta)
    for it in range(1, max_iter + 1):
        p = np.where(eta >= 0, 1.0, e) / (1.0 + e)       # 1 / (1 + exp(-eta)) from the same exponential
        g = a.T @ (p - y) + pen * beta
        h = (a * (p * (1 - p))[:, None]).T @ a + diag_pen + jitter
        step = np.linalg.solve(h, g)
        t = 1.0
        while True:
            nb = beta - t * step
            nf, n_eta, n_e = objective(nb)
            if nf <= f + 1e-14 or t < 1e-6:
                break
            t *= 0.5
        beta, f_old, f, eta, e = nb, f, nf, n_eta, n_e
        if np.max(np.abs(t * step)) < tol or abs(f_old - f) < tol * max(1.0, abs(f)):
            return beta, True, it
    return beta, False, max_iter


def refit_positions(sessions: pd.DatetimeIndex, how: str = "monthly") -> np.ndarray:
    """Positions of the refit sessions: the first session of each month (or ISO week)."""
    if how == "monthly":
        key = sessions.year * 100 + sessions.month
    else:
        iso = sessions.isocalendar()
        key = iso["year"].to_numpy() * 100 + iso["week"].to_numpy()
    key = np.asarray(key)
    return np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))


def _restandardize(model: tuple, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The previous fit ``(mu0, sd0, beta)`` written on the new standardization ``(mu, sd)``: the same linear
    predictor on every x, so the next month's fit starts at last month's optimum (a warm start)."""
    mu0, sd0, beta = model
    slopes = beta[1:] * sd / sd0
    return np.concatenate(([beta[0] + beta[1:] @ ((mu - mu0) / sd0)], slopes))


def walk_forward_probability(features: pd.DataFrame, label: pd.Series, cfg: WarningConfig
                             ) -> pd.Series:
    """Walk-forward probability per session (NaN before the first fit or where a feature is NaN).

    ``features``: sessions x features; ``label``: per session 1/0/NaN (see ``events.start_label``).
    At refit session f (position p) the training rows are s <= p - cfg.horizon_max with finite
    features and a known label. Only data up to t is used for the value at t.
    """
    x = features.to_numpy(dtype=float)
    y = label.reindex(features.index).to_numpy(dtype=float)
    n = len(x)
    ok_x = ~np.isnan(x).any(axis=1)
    usable = ok_x & ~np.isnan(y)
    out = np.full(n, np.nan)
    fits = refit_positions(features.index, cfg.refit)
    bounds = np.append(fits, n)
    model = None
    n_fits = 0
    for i, p in enumerate(fits):
        last = p - cfg.horizon_max
        if last >= 0:
            rows = np.flatnonzero(usable[: last + 1])
            if len(rows) >= cfg.min_train and y[rows].sum() >= cfg.min_positive:
                xt = x[rows]
                mu = xt.mean(axis=0)
                sd = xt.std(axis=0)
                sd[sd == 0] = 1.0
                start = None if model is None else _restandardize(model, mu, sd)
                beta = fit_logistic((xt - mu) / sd, y[rows], cfg.ridge, beta0=start)
                model = (mu, sd, beta)
                n_fits += 1
        if model is None:
            continue
        mu, sd, beta = model
        seg = slice(p, bounds[i + 1])
        eta = beta[0] + ((x[seg] - mu) / sd) @ beta[1:]
        out[seg] = 1.0 / (1.0 + np.exp(-eta))
    out[~ok_x] = np.nan
    log.debug("warning model: %d fits", n_fits)
    return pd.Series(out, index=features.index, name="warning_probability")
