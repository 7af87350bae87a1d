"""Decision sessions: monthly (last session of the month), weekly (last of the week), every N sessions,
or on stress triggers (regime changes and strength moves) at least ``min_gap`` sessions apart.

Every function returns sorted integer positions into ``sessions`` (a sorted DatetimeIndex).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError

SCHEDULES = ("monthly", "weekly", "every", "triggers")


def period_ends(sessions: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Positions of the last session of each calendar period: ``M`` month, ``W`` week (Monday to
    Sunday), ``Q`` quarter. The data's last session counts as a period end (its period may continue
    after the data; a decision there simply has no fill inside the window)."""
    d = sessions.values.astype("datetime64[D]").astype(np.int64)
    months = sessions.values.astype("datetime64[M]").astype(np.int64)
    key = {"M": months, "Q": months // 3, "W": (d + 3) // 7}.get(freq)      # 1970-01-01 was a Thursday
    if key is None:
        raise ArgumentError("freq", f"expected M, W or Q, got {freq!r}")
    return np.flatnonzero(np.r_[key[1:] != key[:-1], True])


def every_n(sessions: pd.DatetimeIndex, n: int, first: int = 0) -> np.ndarray:
    """Every ``n``-th session starting at position ``first``."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ArgumentError("--every", f"expected a positive whole number of sessions, got {n!r}")
    return np.arange(first, len(sessions), n)


def trigger_sessions(sessions: pd.DatetimeIndex, trigger_dates, min_gap: int = 5) -> np.ndarray:
    """Positions of ``trigger_dates`` (dates of regime changes or strength moves, computed from data up
    to each date), keeping a trigger only if it comes at least ``min_gap`` sessions after the last kept."""
    if min_gap < 0:
        raise ArgumentError("min_gap", f"expected a non-negative number of sessions, got {min_gap}")
    pos = np.unique(sessions.get_indexer(pd.DatetimeIndex(trigger_dates)))
    pos = pos[pos >= 0]
    kept, last = [], -10 ** 9
    for p in pos:
        if p - last >= min_gap:
            kept.append(p)
            last = p
    return np.asarray(kept, dtype=int)


def decision_positions(sessions: pd.DatetimeIndex, schedule: str = "monthly", every: int = 21,
                       trigger_dates=None, min_gap: int = 5) -> np.ndarray:
    """Positions of the decision sessions of ``schedule`` (one of :data:`SCHEDULES`)."""
    if schedule == "monthly":
        return period_ends(sessions, "M")
    if schedule == "weekly":
        return period_ends(sessions, "W")
    if schedule == "every":
        return every_n(sessions, every)
    if schedule == "triggers":
        if trigger_dates is None:
            raise ArgumentError("--schedule", "triggers needs the stress triggers (a strategy with a signal)")
        return trigger_sessions(sessions, trigger_dates, min_gap)
    raise ArgumentError("--schedule", f"expected one of {', '.join(SCHEDULES)}, got {schedule!r}")
