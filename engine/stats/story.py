"""The statistics behind the PM's story metrics, as pure functions of aligned daily arrays.

Shapes: 1-D float arrays of equal length (sessions, NaN-free unless stated); annualisation by 252.
"""
from __future__ import annotations

import numpy as np

YEAR = 252


def rolling_active_12m(r: np.ndarray, b: np.ndarray, window: int = YEAR) -> float:
    """Mean over every ``window``-session span of the compounded portfolio return minus the compounded
    benchmark return (an overlapping-window average of 12-month active returns). NaN when too short."""
    r, b = np.asarray(r, float), np.asarray(b, float)
    if len(r) < window:
        return float("nan")
    lr, lb = np.concatenate([[0.0], np.cumsum(np.log1p(r))]), np.concatenate([[0.0], np.cumsum(np.log1p(b))])
    gr = np.exp(lr[window:] - lr[:-window]) - 1.0
    gb = np.exp(lb[window:] - lb[:-window]) - 1.0
    return float(np.mean(gr - gb))


def information_ratio(r: np.ndarray, b: np.ndarray) -> float:
    """Annualised mean active return over annualised tracking error (NaN when the TE is 0)."""
    a = np.asarray(r, float) - np.asarray(b, float)
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return float(a.mean() * YEAR / (sd * np.sqrt(YEAR))) if sd > 0 else float("nan")


def tracking_error(r: np.ndarray, b: np.ndarray) -> float:
    """Annualised standard deviation (ddof 1) of daily active returns."""
    a = np.asarray(r, float) - np.asarray(b, float)
    return float(a.std(ddof=1) * np.sqrt(YEAR)) if len(a) > 1 else float("nan")


def balanced_accuracy(y: np.ndarray, warn: np.ndarray) -> float:
    """Mean of the hit rate on positive days (recall) and the correct-rejection rate on negative days;
    0.5 for any constant answer. NaN when one class is absent."""
    y, w = np.asarray(y, bool), np.asarray(warn, bool)
    if y.all() or not y.any():
        return float("nan")
    return float(0.5 * (w[y].mean() + (~w[~y]).mean()))


def accuracy(y: np.ndarray, warn: np.ndarray) -> float:
    """Share of days where the warning (True/False) equals the outcome."""
    return float(np.mean(np.asarray(y, bool) == np.asarray(warn, bool)))


def share_within(leads: np.ndarray, lo: int, hi: int) -> float:
    """Share of events whose lead time (sessions; NaN = never warned) lies in [lo, hi]."""
    x = np.asarray(leads, float)
    return float(np.mean((x >= lo) & (x <= hi))) if len(x) else float("nan")
