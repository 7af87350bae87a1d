"""Assemble validated raw series into an aligned :class:`Market`.

The session calendar is the union of the traded-price dates (Yahoo files are exchange sessions).
Daily non-price series (FRED, Cboe, ICE) are aligned to it: values on non-session dates (FRED's
holiday rows) are dropped, and gaps *inside* a series are forward-filled for at most
``max_fill`` sessions, counted per series in ``Market.fills``. Nothing is filled before a series
starts or after it ends. Reference series (weekly published indices) keep their own dates.
"""
from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from engine.data.formats import RawSeries
from engine.data.model import Market, SeriesMeta
from engine.errors import DataError
from engine.universe import REFERENCE_SERIES

log = logging.getLogger(__name__)
MAX_FILL = 5


def _frame(columns: dict[str, pd.Series], index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    df = pd.DataFrame(columns) if columns else pd.DataFrame(index=index if index is not None else pd.DatetimeIndex([]))
    if index is not None:
        df = df.reindex(index)
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    return df.sort_index(axis=1).astype(float)


def _bounded_fill(df: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, dict[str, int]]:
    filled = df.ffill(limit=limit, limit_area="inside")
    counts = (filled.notna() & df.isna()).sum()
    return filled, {k: int(v) for k, v in counts.items() if v}


def assemble(series: list[RawSeries], label: str, imported_at: str, max_fill: int = MAX_FILL) -> Market:
    """Build a Market from raw series (already validated). Raises DataError on name clashes."""
    seen: dict[str, str] = {}
    for s in series:
        if s.name in seen:
            raise DataError(f"series {s.name!r} is provided by two files: {seen[s.name]} and {s.source}; "
                            "remove one or map one to another name", s.source)
        seen[s.name] = s.source
    traded = [s for s in series if "adj_close" in s.fields]
    reference = [s for s in series if s.name in REFERENCE_SERIES]
    levels = [s for s in series if s not in traded and s not in reference]

    def col(s: RawSeries, field: str) -> pd.Series:
        return pd.Series(s.fields[field], index=s.dates).dropna()

    if traded:
        sessions = pd.DatetimeIndex(np.unique(np.concatenate([s.dates.values for s in traded])))
    elif levels:
        dates = pd.DatetimeIndex(np.unique(np.concatenate([s.dates.values for s in levels])))
        sessions = dates[dates.day_of_week < 5]
    else:
        raise DataError("no daily series found (expected Yahoo price files or daily FRED/Cboe series)")
    sessions = pd.DatetimeIndex(sessions, name="date")

    prices, pfill = _bounded_fill(_frame({s.name: col(s, "adj_close") for s in traded}, sessions), max_fill)
    close = _frame({s.name: col(s, "close") for s in traded if "close" in s.fields}, sessions)
    volume = _frame({s.name: col(s, "volume") for s in traded if "volume" in s.fields}, sessions)
    level_cols = {s.name: col(s, "close" if "close" in s.fields else "value") for s in levels}
    stress, sfill = _bounded_fill(_frame(level_cols, sessions), max_fill)
    if "vix" not in stress and "vix_cboe" in stress:
        stress["vix"] = stress["vix_cboe"]
    ref = _frame({s.name: col(s, "value") for s in reference})

    meta = {}
    for s in series:
        main = s.fields.get("adj_close", s.fields.get("close", s.fields.get("value")))
        ok = ~np.isnan(main)
        d = s.dates[ok]
        meta[s.name] = SeriesMeta(
            name=s.name, source=s.source, format=s.format,
            first=d[0].date().isoformat() if len(d) else "", last=d[-1].date().isoformat() if len(d) else "",
            rows=int(ok.sum()), imported_at=imported_at, sha256=s.sha256, fields=tuple(s.fields))
    fills = {**pfill, **sfill}
    if fills:
        log.info("forward-filled (at most %d sessions, inside each series): %s", max_fill, fills)
    return Market(prices=prices, close=close, volume=volume, stress=stress, reference=ref,
                  meta=meta, fills=fills, label=label)


def data_digest(market: Market) -> str:
    """SHA-256 of the data rows a computation used (prices, volume, stress, reference), order-stable."""
    h = hashlib.sha256()
    for name in ("prices", "close", "volume", "stress", "reference"):
        df = getattr(market, name)
        h.update(name.encode())
        h.update(",".join(map(str, df.columns)).encode())
        h.update(df.index.asi8.tobytes())
        h.update(np.ascontiguousarray(df.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()
