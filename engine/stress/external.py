"""External check of the stress index against a published weekly index (STLFSI4)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import NoDataError


def external_check(result, reference: pd.DataFrame | pd.Series, column: str = "stlfsi4",
                   start=None, end=None) -> dict:
    """Correlation of the weekly (Saturday-Friday, labelled Friday) mean of our daily index with the
    published weekly index ``reference[column]`` on the weeks both exist.

    Returns ``{"correlation", "n_weeks", "start", "end"}`` (ISO dates of the first/last common week).
    Raises ``NoDataError`` when fewer than 10 common weeks exist.
    """
    ref = reference[column] if isinstance(reference, pd.DataFrame) else reference
    ref = ref.dropna()
    ref.index = pd.DatetimeIndex(ref.index)
    weekly = result.daily["index"].dropna().resample("W-FRI").mean()
    both = pd.concat([weekly.rename("ours"), ref.rename("ref")], axis=1, join="inner").dropna()
    both = both.loc[start:end]
    if len(both) < 10:
        raise NoDataError(f"fewer than 10 common weeks between the stress index and {column}")
    corr = float(np.corrcoef(both["ours"], both["ref"])[0, 1])
    return {"correlation": corr, "n_weeks": int(len(both)),
            "start": both.index[0].date().isoformat(), "end": both.index[-1].date().isoformat()}
