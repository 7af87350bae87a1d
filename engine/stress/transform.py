"""Input transforms of the stress index: signed levels and changes, standardized on past data only."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.stress.config import IndexConfig

log = logging.getLogger(__name__)


def resolve_inputs(stress: pd.DataFrame, cfg: IndexConfig) -> dict[str, str]:
    """Map each configured input to the column of ``stress`` that feeds it.

    A required input falls back to its ``fallback`` column (ig_oas -> bbb_oas) when absent or empty;
    an optional input that is absent is skipped. Raises ``DataError`` naming a missing required series.
    """
    have = {c for c in stress.columns if stress[c].notna().any()}
    out: dict[str, str] = {}
    for spec in cfg.inputs:
        if spec.name in have:
            out[spec.name] = spec.name
        elif spec.fallback and spec.fallback in have:
            log.info("stress input %s absent; using %s", spec.name, spec.fallback)
            out[spec.name] = spec.fallback
        elif not spec.optional:
            raise DataError(f"stress series {spec.name!r} is required by the stress index but has no data"
                            + (f" (nor its fallback {spec.fallback!r})" if spec.fallback else ""))
    return out


def transformed_inputs(stress: pd.DataFrame, cfg: IndexConfig) -> pd.DataFrame:
    """Signed transformed inputs, one column per (input, transform): ``<name>`` and ``<name>_chg``.

    ``stress`` is sessions x raw series (NaN where missing). The level is ``sign * x_t``; the change is
    ``sign * (x_t - x_{t-w})`` with ``w = cfg.change_window`` sessions. Uses rows up to t only.
    """
    cols = resolve_inputs(stress, cfg)
    out = {}
    for spec in cfg.inputs:
        if spec.name not in cols:
            continue
        x = spec.sign * stress[cols[spec.name]].astype(float)
        if spec.level:
            out[spec.name] = x
        if spec.change:
            out[f"{spec.name}_chg"] = x - x.shift(cfg.change_window)
    return pd.DataFrame(out, index=stress.index)


def expanding_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expanding count, mean and sample sd of each column of ``x`` (n x k), skipping NaNs.

    Row t uses rows 0..t only (cumulative sums, so a truncated input gives bit-identical prefixes).
    Values are shifted by each column's first observation before summing to avoid cancellation.
    sd is NaN where fewer than two observations exist.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    m = ~np.isnan(x)
    first_pos = np.where(m.any(axis=0), m.argmax(axis=0), 0)
    x0 = np.where(m.any(axis=0), x[first_pos, np.arange(x.shape[1])], 0.0)
    d = np.where(m, x - x0, 0.0)
    c = np.cumsum(m, axis=0, dtype=float)
    s1 = np.cumsum(d, axis=0)
    s2 = np.cumsum(d * d, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = s1 / c
        var = (s2 - c * mean_d * mean_d) / (c - 1.0)
    var = np.where(c > 1, np.maximum(var, 0.0), np.nan)
    return c, mean_d + x0, np.sqrt(var)


def expanding_zscore(frame: pd.DataFrame, min_history: int) -> pd.DataFrame:
    """z_t = (x_t - mean_{0..t}) / sd_{0..t} per column, NaN until a column has ``min_history`` values.

    ``frame``: sessions x columns, NaN where missing (a NaN stays NaN). No look-ahead: the moments
    at t include x_t (known at t) and nothing later.
    """
    x = frame.to_numpy(dtype=float)
    c, mean, sd = expanding_moments(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - mean) / sd
    z[(c < min_history) | ~(sd > 0)] = np.nan
    return pd.DataFrame(z, index=frame.index, columns=frame.columns)
