"""Composite sector score from a standardized factor panel.

- ``equal``: the average of the standardized factors available for a sector that date (optionally
  with a sign per factor), re-standardized across sectors.
- ``ic``: weights proportional to each factor's mean rank IC at horizon h estimated from PAST data
  only: at session T the weight uses ICs labelled at sessions up to T-h (positions), i.e. whose
  forward window ended by T (see :func:`engine.factors.ic.known_ics`). Weights are normalized so
  their absolute values sum to 1; a factor with negative past IC gets a negative weight.
  Before ``min_obs`` known ICs exist the weights (and the score) are NaN.

The result at T depends on data up to T only.
"""
from __future__ import annotations

import logging
import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from engine.factors.ic import forward_returns, known_ics, rank_ic
from engine.factors.standardize import standardize

log = logging.getLogger(__name__)

METHODS = ("equal", "ic")


def _stack(panel: Mapping[str, pd.DataFrame]) -> tuple[list[str], np.ndarray, pd.Index, pd.Index]:
    if not panel:
        raise ArgumentError("panel", "expected at least one factor")
    names = list(panel)
    first = panel[names[0]]
    idx, cols = first.index, first.columns
    arr = np.stack([panel[n].reindex(index=idx, columns=cols).to_numpy(dtype=float) for n in names])
    return names, arr, idx, cols


def ic_weights(panel: Mapping[str, pd.DataFrame], prices: pd.DataFrame, horizon: int = 21,
               window: int | None = None, min_obs: int = 252, min_count: int = 5) -> pd.DataFrame:
    """Point-in-time IC weights: DataFrame (date x factor).

    Row T = mean of each factor's daily rank IC at ``horizon`` over ICs known by T (labelled at or
    before the session ``horizon`` positions earlier), over an expanding window (or the last
    ``window`` known ICs), divided by the sum of absolute means. NaN until ``min_obs`` known ICs.
    ``prices`` must share the panel's session index.
    """
    fwd = forward_returns(prices, horizon)
    means = {}
    for name, f in panel.items():
        k = known_ics(rank_ic(f, fwd, min_count), horizon)
        roll = k.expanding(min_periods=min_obs) if window is None else k.rolling(window, min_periods=min_obs)
        means[name] = roll.mean()
    m = pd.DataFrame(means)
    tot = m.abs().sum(axis=1, min_count=1)
    return m.div(tot.where(tot > 0), axis=0)


def composite_score(panel: Mapping[str, pd.DataFrame], method: str = "equal",
                    prices: pd.DataFrame | None = None, horizon: int = 21,
                    signs: Mapping[str, float] | None = None, weights: pd.DataFrame | None = None,
                    min_obs: int = 252, window: int | None = None) -> pd.DataFrame:
    """Composite score (date x sector), standardized across sectors (rank based) per date.

    ``method="equal"``: mean over factors of ``sign_f * z_f`` (NaN factors skipped; ``signs``
    default +1). ``method="ic"``: ``sum_f w_f(T) * z_f`` with ``w`` from :func:`ic_weights`
    (needs ``prices``) or the given ``weights`` (date x factor, which must itself be point in time);
    NaN factor values count as 0 for a sector that has at least one factor; a factor whose weight
    is NaN (never testable yet) gets weight 0.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {METHODS}, got {method!r}")
    names, arr, idx, cols = _stack(panel)
    if method == "equal":
        s = np.array([float((signs or {}).get(n, 1.0)) for n in names])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN sector-days stay NaN
            raw = np.nanmean(arr * s[:, None, None], axis=0)
    else:
        if weights is None:
            if prices is None:
                raise ArgumentError("prices", "IC weighting needs prices to estimate the past ICs")
            weights = ic_weights(panel, prices, horizon, window=window, min_obs=min_obs)
        w = weights.reindex(index=idx, columns=names).to_numpy(dtype=float)  # date x factor
        any_f = np.isfinite(arr).any(axis=0)
        known = np.isfinite(w).any(axis=1)  # factors never yet testable get weight 0
        raw = np.einsum("tf,ftc->tc", np.nan_to_num(w, nan=0.0), np.nan_to_num(arr, nan=0.0))
        raw = np.where(any_f & known[:, None], raw, np.nan)
    return standardize(pd.DataFrame(raw, index=idx, columns=cols))
