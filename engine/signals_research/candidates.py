"""Candidate signals, all at t from data published by the close of t.

``market.stress`` is already shifted by each series' publication lag (FRED spreads and yields arrive
the next morning; see engine/data), prices are closes of t. Z-scores use a trailing window of past
values only. Names (configurable in ``[research] candidates``):

stress_index, stress_chg20, hy_chg20, ig_chg20, hy_chg20_z, ig_chg20_z, hy_ig, bbb_aaa, t10y3m, t10y2y,
t10y3m_chg20, move, divergence (HY widening z + XLK 20-session return z: spreads widening while tech
rises), hyg_ief_chg20 and lqd_ief_chg20 (minus the 20-session log change of HYG/IEF and LQD/IEF: falling
tradable credit at the close adds stress), vix, hy_oas (the level, a baseline).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError

ALL = ("stress_index", "stress_chg20", "hy_chg20", "ig_chg20", "hy_chg20_z", "ig_chg20_z", "hy_ig",
       "bbb_aaa", "t10y3m", "t10y2y", "t10y3m_chg20", "move", "divergence", "hyg_ief_chg20",
       "lqd_ief_chg20", "vix", "hy_oas")


def trailing_z(x: pd.Series, window: int) -> pd.Series:
    """(x_t - mean) / sd over the ``window`` sessions ending at t (needs a full window)."""
    r = x.rolling(window, min_periods=window)
    return (x - r.mean()) / r.std()


def candidate_signals(stress: pd.DataFrame, prices: pd.DataFrame, daily: pd.DataFrame, names=ALL,
                      window: int = 20, zwindow: int = 252) -> pd.DataFrame:
    """Sessions x ``names`` (see module doc). ``stress``: lag-shifted stress inputs on the sessions;
    ``daily``: the stress stage's daily frame (``index``, ``change_20d``). Missing inputs raise DataError."""
    s = stress.reindex(prices.index)

    def col(c):
        if c not in s.columns or s[c].notna().sum() == 0:
            raise DataError(f"candidate signals need the stress series {c!r} but it has no data")
        return s[c].astype(float)

    def px(c):
        if c not in prices.columns:
            raise DataError(f"candidate signals need the price series {c!r} but it is missing")
        return np.log(prices[c].astype(float))

    w = window
    make = {
        "stress_index": lambda: daily["index"], "stress_chg20": lambda: daily["change_20d"],
        "hy_chg20": lambda: col("hy_oas").diff(w), "ig_chg20": lambda: col("ig_oas").diff(w),
        "hy_chg20_z": lambda: trailing_z(col("hy_oas").diff(w), zwindow),
        "ig_chg20_z": lambda: trailing_z(col("ig_oas").diff(w), zwindow),
        "hy_ig": lambda: col("hy_oas") - col("ig_oas"), "bbb_aaa": lambda: col("bbb_oas") - col("aaa_oas"),
        "t10y3m": lambda: col("t10y3m"), "t10y2y": lambda: col("t10y2y"),
        "t10y3m_chg20": lambda: col("t10y3m").diff(w), "move": lambda: col("move"),
        "divergence": lambda: trailing_z(col("hy_oas").diff(w), zwindow) + trailing_z(px("XLK").diff(w), zwindow),
        "hyg_ief_chg20": lambda: -(px("HYG") - px("IEF")).diff(w),
        "lqd_ief_chg20": lambda: -(px("LQD") - px("IEF")).diff(w),
        "vix": lambda: col("vix"), "hy_oas": lambda: col("hy_oas"),
    }
    bad = [n for n in names if n not in make]
    if bad:
        raise DataError(f"unknown candidate signals {bad}; expected names from {list(ALL)}")
    return pd.DataFrame({n: make[n]().reindex(prices.index) for n in names}, index=prices.index)
