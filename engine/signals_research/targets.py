"""Forward targets of the research, each with the horizon after which its value at t is known.

``rel_spy_h`` at t = log(XLK_{t+h}/XLK_t) - log(SPY_{t+h}/SPY_t); ``rel_def_h`` is the same against the
equal-weight defensive basket (mean log return of XLU, XLP, XLV). ``major_under`` = 1 when the forward
60-session XLK-vs-SPY log return is below ``-threshold``. ``event`` is the stress stage's label (an event
starts in 20-60 sessions). A value at t is usable for fitting at session f only when t + horizon <= f.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError

DEFENSIVE = ("XLU", "XLP", "XLV")


def _logret_forward(p: pd.Series, h: int) -> pd.Series:
    return np.log(p.shift(-h) / p)


def targets(prices: pd.DataFrame, event_label: pd.Series, horizons=(20, 40, 60), threshold: float = 0.08,
            tech: str = "XLK", bench: str = "SPY") -> tuple[pd.DataFrame, dict[str, int], dict[str, bool]]:
    """(targets frame, horizon per target, is_binary per target). NaN where not defined."""
    for c in (tech, bench, *DEFENSIVE):
        if c not in prices.columns:
            raise DataError(f"price series {c!r} is needed for the research targets but is missing")
    out, hor, binary = {}, {}, {}
    for h in horizons:
        t = _logret_forward(prices[tech], h)
        out[f"rel_spy_{h}"] = t - _logret_forward(prices[bench], h)
        d = pd.concat([_logret_forward(prices[c], h) for c in DEFENSIVE], axis=1).mean(axis=1, skipna=False)
        out[f"rel_def_{h}"] = t - d
        hor[f"rel_spy_{h}"] = hor[f"rel_def_{h}"] = h
        binary[f"rel_spy_{h}"] = binary[f"rel_def_{h}"] = False
    hmax = max(horizons)
    r = out[f"rel_spy_{hmax}"] if f"rel_spy_{hmax}" in out else _logret_forward(prices[tech], hmax)
    out["major_under"] = (r < -threshold).astype(float).where(r.notna())
    hor["major_under"], binary["major_under"] = hmax, True
    out["event"] = event_label.reindex(prices.index).astype(float)
    hor["event"], binary["event"] = 60, True
    return pd.DataFrame(out, index=prices.index), hor, binary
