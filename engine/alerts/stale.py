"""Alert rule on the data: an input gone stale (no new value for too many sessions), and its return."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.alerts.config import AlertConfig
from engine.alerts.model import Alert


def staleness(frame: pd.DataFrame) -> pd.DataFrame:
    """Sessions since each column's last value, per session (date x series; NaN before its first value).
    ``frame``: date x series with NaN where a series has no value (after any bounded forward fill)."""
    pos = np.arange(len(frame), dtype=float)[:, None]
    last = np.where(frame.notna().to_numpy(), pos, np.nan)
    last = pd.DataFrame(last, index=frame.index, columns=frame.columns).ffill()
    return pd.DataFrame(pos - last.to_numpy(), index=frame.index, columns=frame.columns)


def stale_alerts(frame: pd.DataFrame, cfg: AlertConfig) -> list[Alert]:
    """``stale_data`` when a series has had no new value for more than ``cfg.stale_max_sessions``
    sessions (once per episode) and ``data_resumed`` when a value arrives again. Values: series,
    sessions, last_value_date. ``frame`` as for :func:`staleness`."""
    age = staleness(frame)
    out = []
    for col in frame.columns:
        a = age[col].to_numpy()
        stale = a > cfg.stale_max_sessions
        flips = np.flatnonzero(stale[1:] != stale[:-1]) + 1
        for t in flips:
            date = frame.index[t]
            if stale[t]:
                last = frame.index[t - int(a[t])]
                v = {"series": col, "sessions": int(a[t]), "last_value_date": f"{last:%Y-%m-%d}",
                     "max_sessions": cfg.stale_max_sessions}
                out.append(Alert(date, "stale_data", f"{col} has had no new value for {int(a[t])} sessions "
                                 f"(last {last:%Y-%m-%d}; limit {cfg.stale_max_sessions})",
                                 f"refresh {col} (rotation data import FOLDER); until then readings that use it "
                                 "rest on its last value or on the other inputs", v, subject=col))
            else:
                v = {"series": col, "sessions": 0, "max_sessions": cfg.stale_max_sessions}
                out.append(Alert(date, "data_resumed", f"{col} has a new value again",
                                 "no action: the input is current", v, subject=col))
    return out
