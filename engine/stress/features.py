"""Features of the early-warning model, built from the daily stress frame (all at t from data up to t)."""
from __future__ import annotations

import pandas as pd

from engine.errors import DataError

FEATURES = ("index", "change_20d", "percentile", "slope", "regime")


def warning_features(daily: pd.DataFrame, stress: pd.DataFrame, regime_code: pd.Series,
                     names=FEATURES) -> pd.DataFrame:
    """Sessions x ``names``: the index, its 20-session change, percentile / 100, the 10y-3m slope
    (falls back to 10y-2y; in percent, raw sign) and the regime code (0 calm .. 3 crisis; NaN before
    the index exists). NaN rows mean "not available"."""
    slope = None
    for col in ("t10y3m", "t10y2y"):
        if col in stress.columns and stress[col].notna().any():
            slope = stress[col].astype(float)
            break
    if slope is None and "slope" in names:
        raise DataError("the warning model needs a yield-curve slope (t10y3m or t10y2y) but neither has data")
    cols = {
        "index": daily["index"],
        "change_20d": daily["change_20d"],
        "percentile": daily["percentile"] / 100.0,
        "slope": slope.reindex(daily.index) if slope is not None else None,
        "regime": regime_code.where(regime_code >= 0).astype(float),
    }
    return pd.DataFrame({k: cols[k] for k in names}, index=daily.index)
