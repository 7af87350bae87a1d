"""Regimes with hysteresis, percentile against own past, and signal strength."""
from __future__ import annotations

from bisect import bisect_right, insort
import numpy as np
import pandas as pd

from engine.stats.normal import ndtr   # not scipy.special: 0.4 s of CPU at import on the export path
from engine.stress.config import RegimeConfig, StrengthConfig
from engine.stress.transform import expanding_moments


def regime_codes(values: np.ndarray, cfg: RegimeConfig) -> np.ndarray:
    """Regime code per session (0 = first name, e.g. calm; -1 where the value is NaN).

    Escalation is immediate: the regime rises to the highest level whose ``enter`` threshold the value
    reaches. De-escalation needs the value below the current level's ``exit`` threshold AND at least
    ``min_dwell`` sessions in the current level; it then falls to the highest level whose exit
    threshold the value still meets. A NaN session gives -1 and the state machine restarts after it.
    Sequential, so the code at t depends on values up to t only.
    """
    enter = list(cfg.enter)
    exit_ = list(cfg.exit)
    out = np.full(len(values), -1, dtype=np.int64)
    state, dwell = -1, 0
    for t, v in enumerate(np.asarray(values, dtype=float)):
        if v != v:
            state, dwell = -1, 0
            continue
        up = 0
        for k, e in enumerate(enter, start=1):
            if v >= e:
                up = k
        if state < 0:
            state, dwell = up, 0
        elif up > state:
            state, dwell = up, 0
        elif state > 0 and v < exit_[state - 1] and dwell >= cfg.min_dwell:
            new = 0
            for k, x in enumerate(exit_, start=1):
                if k <= state and v >= x:
                    new = k
            new = max(new, up)
            if new != state:
                state, dwell = new, 0
        dwell += 1
        out[t] = state
    return out


def regime_labels(codes: np.ndarray, cfg: RegimeConfig) -> np.ndarray:
    """Regime names for codes (None where the code is -1)."""
    names = np.array(list(cfg.names) + [None], dtype=object)
    return names[np.asarray(codes)]


def expanding_percentile(values: np.ndarray, min_history: int = 1) -> np.ndarray:
    """Percentile (0-100) of each value among all non-NaN values up to and including it.

    ``100 * #(past values <= x_t) / #(past values)``; NaN where x_t is NaN or fewer than
    ``min_history`` values exist. Exact (sorted insertion), O(n log n) searches.
    """
    seen: list[float] = []
    out = np.full(len(values), np.nan)
    for t, v in enumerate(np.asarray(values, dtype=float)):
        if v != v:
            continue
        insort(seen, v)
        if len(seen) >= min_history:
            out[t] = 100.0 * bisect_right(seen, v) / len(seen)
    return out


def signal_strength(index: np.ndarray, change: np.ndarray, cfg: StrengthConfig) -> np.ndarray:
    """Signal strength 0-100: ``100*(w_level*Phi(index) + w_change*Phi(change/sd_change))``.

    ``index`` is in standard-deviation units already; ``change`` (20-session change of the index) is
    scaled by its expanding sd (past data only). NaN where either part is NaN or the change has fewer
    than ``cfg.min_history`` observations. Weights are normalised to sum to 1.
    """
    index = np.asarray(index, dtype=float)
    change = np.asarray(change, dtype=float)
    c, _, sd = expanding_moments(change)
    c, sd = c[:, 0], sd[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        zc = change / sd
    zc[(c < cfg.min_history) | ~(sd > 0)] = np.nan
    wsum = cfg.w_level + cfg.w_change
    s = 100.0 * (cfg.w_level * ndtr(np.nan_to_num(index)) + cfg.w_change * ndtr(np.nan_to_num(zc))) / wsum
    s[np.isnan(index) | np.isnan(zc)] = np.nan
    return np.clip(s, 0.0, 100.0)


def as_series(a: np.ndarray, index: pd.Index, name: str) -> pd.Series:
    return pd.Series(a, index=index, name=name)
