"""Information coefficient (IC) testing of cross-sectional factors.

Timing convention (explicit, because this is where look-ahead hides):

- ``forward_returns(prices, h)`` at row t is the return from the close of t to the close of t+h,
  ``p_{t+h} / p_t - 1``. It is indexed by t, the date the factor is observed, but it is only
  KNOWN at the close of t+h. The last ``h`` rows are NaN.
- ``rank_ic(factor, fwd)`` at row t is the Spearman correlation across sectors of the factor at t
  with that forward return; it too is labelled t and known only at t+h. Anything that uses ICs to
  decide at date T (e.g. IC weights in :mod:`engine.factors.composite`) may use ICs labelled at or
  before the session h positions before T only (see :func:`known_ics`).

Overlapping windows make consecutive daily ICs autocorrelated up to lag h-1, so t-statistics use
Newey-West (Bartlett) standard errors with at least h-1 lags (default h).
"""
from __future__ import annotations

import logging
import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from engine.errors import ArgumentError

log = logging.getLogger(__name__)

STAT_COLUMNS = ("mean_ic", "ic_std", "ic_ir", "t_stat", "hit_rate", "n", "lags")


def _check_horizon(h) -> int:
    if not isinstance(h, (int, np.integer)) or h < 1:
        raise ArgumentError("horizon", f"expected a positive integer number of sessions, got {h!r}")
    return int(h)


def forward_returns(prices: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forward simple return ``p_{t+h} / p_t - 1`` labelled at t (known at t+h); last h rows NaN."""
    h = _check_horizon(horizon)
    return prices.shift(-h) / prices - 1.0


def rank_ic(factor: pd.DataFrame, fwd: pd.DataFrame, min_count: int = 5) -> pd.Series:
    """Daily Spearman rank IC across sectors: Series by date (label t, known at t+h).

    Sectors where either value is NaN are left out that date; ties get average ranks. NaN where
    fewer than ``min_count`` sectors remain or either side has no dispersion. Columns and rows are
    aligned by label (intersection of columns, the factor's index).
    """
    cols = [c for c in factor.columns if c in fwd.columns]
    if not cols:
        raise ArgumentError("fwd", "shares no sector column with the factor")
    f = factor[cols].astype(float)
    r = fwd.reindex(index=f.index, columns=cols).astype(float)
    m = f.notna() & r.notna()
    fr = f.where(m).rank(axis=1)
    rr = r.where(m).rank(axis=1)
    n = m.sum(axis=1)
    fc = fr.sub(fr.mean(axis=1), axis=0)
    rc = rr.sub(rr.mean(axis=1), axis=0)
    num = (fc * rc).sum(axis=1)
    den = np.sqrt((fc * fc).sum(axis=1) * (rc * rc).sum(axis=1))
    ic = num / den.where(den > 1e-12)
    return ic.where(n >= min_count).rename("ic")


def newey_west(x, lags: int) -> tuple[float, float]:
    """Mean of ``x`` and its Newey-West (Bartlett kernel) standard error with ``lags`` lags.

    NaNs are dropped first and the remaining values treated as consecutive. Long-run variance
    ``g0 + 2 * sum_{l=1..L} (1 - l/(L+1)) g_l`` with ``g_l = (1/n) sum (x_t - m)(x_{t-l} - m)``;
    standard error ``sqrt(lrv / n)`` (no small-sample correction; equals statsmodels' OLS-on-a-constant
    HAC with ``use_correction=False``). Returns (nan, nan) with fewer than 2 values.
    """
    if lags < 0:
        raise ArgumentError("lags", f"expected a non-negative integer, got {lags!r}")
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    n = a.size
    if n < 2:
        return (float(a.mean()) if n else math.nan), math.nan
    m = a.mean()
    d = a - m
    lrv = d @ d / n
    for l in range(1, min(int(lags), n - 1) + 1):
        lrv += 2.0 * (1.0 - l / (lags + 1.0)) * (d[l:] @ d[:-l]) / n
    return float(m), float(math.sqrt(max(lrv, 0.0) / n))


def ic_stats(ic: pd.Series, horizon: int, lags: int | None = None) -> dict:
    """Summary of a daily IC series for forward horizon ``horizon``.

    Keys: ``mean_ic``; ``ic_std`` (sd of daily ICs); ``ic_ir`` = mean / sd (per observation, not
    annualized); ``t_stat`` = mean / Newey-West se with ``lags`` (default ``horizon``; must be at
    least ``horizon - 1`` to cover the overlap); ``hit_rate`` = share of days with IC > 0;
    ``n`` = number of non-NaN days; ``lags``. NaN days are ignored.
    """
    h = _check_horizon(horizon)
    lags = h if lags is None else int(lags)
    if lags < h - 1:
        raise ArgumentError("lags", f"expected at least horizon - 1 = {h - 1} lags for overlapping "
                                    f"{h}-session windows, got {lags}")
    v = ic.dropna().to_numpy(dtype=float)
    n = v.size
    mean, se = newey_west(v, lags)
    sd = float(v.std(ddof=1)) if n > 1 else math.nan
    return {
        "mean_ic": mean,
        "ic_std": sd,
        "ic_ir": mean / sd if n > 1 and sd > 0 else math.nan,
        "t_stat": mean / se if n > 1 and se > 0 else math.nan,
        "hit_rate": float((v > 0).mean()) if n else math.nan,
        "n": int(n),
        "lags": lags,
    }


def daily_ics(panel: Mapping[str, pd.DataFrame], prices: pd.DataFrame,
              horizons: Iterable[int] = (5, 21, 63), min_count: int = 5) -> dict[tuple[str, int], pd.Series]:
    """Daily rank IC per (factor, horizon): ``{(name, h): Series by date}`` (label t, known at t+h)."""
    out = {}
    for h in horizons:
        fwd = forward_returns(prices, _check_horizon(h))
        for name, f in panel.items():
            out[(name, int(h))] = rank_ic(f, fwd, min_count)
    return out


def ic_table(ics: Mapping[tuple[str, int], pd.Series], lags: int | None = None) -> pd.DataFrame:
    """Stats of every (factor, horizon) IC series: DataFrame indexed by (factor, horizon), columns
    :data:`STAT_COLUMNS`. ``lags`` None means the horizon of each row."""
    rows = {key: ic_stats(s, key[1], None if lags is None else max(lags, key[1] - 1)) for key, s in ics.items()}
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(STAT_COLUMNS))
    df.index = pd.MultiIndex.from_tuples(df.index, names=["factor", "horizon"])
    return df


def ic_by_regime(ic: pd.Series, regimes: pd.Series, horizon: int) -> pd.DataFrame:
    """IC stats split by the regime in force on the observation date t (regime known at t).

    ``regimes`` is a Series of labels by date, aligned to ``ic``'s dates by label (dates without a
    regime are left out). Returns a DataFrame indexed by regime with :data:`STAT_COLUMNS`; within a
    regime the t-statistic treats that regime's days as consecutive (Newey-West, ``horizon`` lags).
    """
    if not isinstance(regimes, pd.Series):
        raise ArgumentError("regimes", f"expected a pandas Series of labels by date, got {type(regimes).__name__}")
    reg = regimes.reindex(ic.index)
    rows = {}
    for label in pd.unique(reg.dropna()):
        rows[label] = ic_stats(ic[reg == label], horizon)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(STAT_COLUMNS)).rename_axis("regime")


def ic_decay(table: pd.DataFrame, stat: str = "mean_ic") -> pd.DataFrame:
    """IC decay: ``stat`` of each factor (rows) across horizons (columns, ascending) from :func:`ic_table`."""
    if stat not in table.columns:
        raise ArgumentError("stat", f"expected one of {list(table.columns)}, got {stat!r}")
    return table[stat].unstack("horizon").sort_index(axis=1)


def known_ics(ic: pd.Series, horizon: int) -> pd.Series:
    """The IC series re-labelled by the session it becomes known: the value labelled t moves to row
    t+h (shift by h positions on the same index). Row T then holds only ICs whose forward window
    ended by T."""
    return ic.shift(_check_horizon(horizon))
