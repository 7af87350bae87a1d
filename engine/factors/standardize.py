"""Cross-sectional (across sectors, per date) winsorization and standardization.

With only 11 sectors a z-score is dominated by one outlier, so the default is rank based:
ranks (ties averaged) are mapped through the normal quantile function, ``Phi^-1((rank - 0.5) / n)``,
which bounds every score at ``Phi^-1(1 - 1/(2n))`` (1.69 for n = 11): that bound is the winsorization.
Scores are then rescaled to mean 0 and standard deviation 1 across the sectors present that day.
Sectors with NaN that day (no data yet) are excluded, never filled.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from engine.stats.normal import ndtri   # not scipy.special: 0.4 s of CPU at import on the export path

METHODS = ("rank", "zscore")


def winsorize_cross_section(frame: pd.DataFrame, limit: float = 3.0) -> pd.DataFrame:
    """Clip each row at ``median +/- limit * 1.4826 * MAD`` (robust, per date; NaN stays NaN).

    Rows whose MAD is zero are returned unchanged.
    """
    if not limit > 0:
        raise ArgumentError("limit", f"expected a positive number of robust standard deviations, got {limit!r}")
    med = frame.median(axis=1, skipna=True)
    mad = frame.sub(med, axis=0).abs().median(axis=1, skipna=True) * 1.4826
    mad = mad.where(mad > 0)
    lo = (med - limit * mad).fillna(-np.inf)
    hi = (med + limit * mad).fillna(np.inf)
    return frame.clip(lower=lo, upper=hi, axis=0)


def standardize(frame: pd.DataFrame, method: str = "rank", min_count: int = 3,
                winsor_limit: float = 3.0) -> pd.DataFrame:
    """Standardize a date x sector frame across sectors on each date.

    - ``method="rank"`` (default): gaussian rank scores (see module docstring), mean 0 / sd 1 per date.
    - ``method="zscore"``: winsorize at ``winsor_limit`` robust sd (:func:`winsorize_cross_section`),
      then ``(x - mean) / sd`` per date.

    Dates with fewer than ``min_count`` non-NaN sectors, or with no dispersion, come out all NaN.
    The output has the input's shape, index and columns.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {METHODS}, got {method!r}")
    if min_count < 2:
        raise ArgumentError("min_count", f"expected at least 2 sectors, got {min_count!r}")
    x = frame.astype(float)
    n = x.notna().sum(axis=1)
    if method == "rank":
        ranks = x.rank(axis=1, method="average")
        x = pd.DataFrame(ndtri(((ranks - 0.5).div(n, axis=0)).to_numpy()), index=x.index, columns=x.columns)
    else:
        x = winsorize_cross_section(x, winsor_limit)
    mu = x.mean(axis=1)
    sd = x.std(axis=1, ddof=0)
    ok = (n >= min_count) & (sd > 1e-10 * (1.0 + mu.abs()))  # relative: round-off is not dispersion
    z = x.sub(mu, axis=0).div(sd.where(ok), axis=0)
    return z
