"""Probabilistic and deflated Sharpe ratios (Bailey and Lopez de Prado 2012, 2014).

All Sharpe ratios here are *per observation* (daily returns give a daily Sharpe: divide an annual
figure by sqrt(252)). Kurtosis is the ordinary (non-excess) fourth standardised moment: 3 for a
normal distribution.

- PSR(SR*) = Phi( (SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2) )
- expected maximum of N independent trial Sharpe ratios with variance V (false-strategy theorem):
  SR0 = sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e))), gamma = Euler-Mascheroni
- DSR = PSR(SR0): the probability that the selected strategy's true Sharpe exceeds what the best of
  N worthless trials would show by luck alone.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import kurtosis, norm, skew

from engine.errors import ArgumentError

EULER_GAMMA = 0.5772156649015329


def sharpe(returns: np.ndarray) -> float:
    """Per-observation Sharpe ratio mean/std (ddof=1) of a 1-D array with NaNs removed."""
    r = np.asarray(returns, float)
    r = r[np.isfinite(r)]
    sd = r.std(ddof=1) if len(r) > 1 else 0.0
    return float(r.mean() / sd) if sd > 0 else float("nan")


def psr(sr: float, sr_benchmark: float, n_obs: int, skewness: float = 0.0, kurt: float = 3.0) -> float:
    """Probabilistic Sharpe ratio: P(true SR > ``sr_benchmark``) given an observed per-period ``sr``
    over ``n_obs`` observations with the returns' ``skewness`` and (non-excess) ``kurt``."""
    if n_obs < 2:
        raise ArgumentError("n_obs", f"needs at least 2 observations, got {n_obs}")
    var = 1.0 - skewness * sr + (kurt - 1.0) / 4.0 * sr * sr
    if var <= 0:
        return float("nan")
    return float(norm.cdf((sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(var)))


def expected_max_sharpe(n_trials: int, trial_variance: float) -> float:
    """Expected maximum per-period Sharpe of ``n_trials`` worthless trials whose Sharpe ratios have
    variance ``trial_variance`` (0 for a single trial)."""
    if n_trials < 1:
        raise ArgumentError("n_trials", f"expected at least 1 configuration tried, got {n_trials}")
    if n_trials == 1:
        return 0.0
    z1 = norm.ppf(1.0 - 1.0 / n_trials)
    z2 = norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(max(trial_variance, 0.0)) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def deflated_sharpe(sr: float, n_obs: int, n_trials: int, trial_variance: float,
                    skewness: float = 0.0, kurt: float = 3.0) -> dict:
    """Deflated Sharpe ratio of a strategy selected as the best of ``n_trials`` (per-period figures).

    Returns ``{"dsr", "sr", "sr0", "n_trials", "n_obs", "trial_variance", "skewness", "kurtosis"}``.
    With one trial SR0 = 0 and the DSR is the PSR against zero.
    """
    sr0 = expected_max_sharpe(n_trials, trial_variance)
    return {"dsr": psr(sr, sr0, n_obs, skewness, kurt), "sr": float(sr), "sr0": sr0, "n_trials": int(n_trials),
            "n_obs": int(n_obs), "trial_variance": float(trial_variance), "skewness": float(skewness),
            "kurtosis": float(kurt)}


def deflated_sharpe_from_returns(returns: np.ndarray, chosen: int, n_trials: int | None = None) -> dict:
    """DSR of column ``chosen`` of a T x N matrix of per-period returns of every configuration tried.

    The trial variance is the variance (ddof=1) of the N columns' Sharpe ratios; ``n_trials`` defaults
    to N (pass more when configurations were tried that are not in the matrix). Rows with any NaN
    are dropped so that every trial is measured on the same sessions.
    """
    m = np.asarray(returns, float)
    if m.ndim != 2 or m.shape[1] < 1:
        raise ArgumentError("returns", f"expected a T x N matrix of returns, got shape {m.shape}")
    m = m[np.isfinite(m).all(axis=1)]
    srs = np.array([sharpe(m[:, j]) for j in range(m.shape[1])])
    n = m.shape[1] if n_trials is None else int(n_trials)
    var = float(np.nanvar(srs, ddof=1)) if m.shape[1] > 1 else 0.0
    r = m[:, chosen]
    return deflated_sharpe(srs[chosen], len(r), n, var, float(skew(r)), float(kurtosis(r, fisher=False)))
