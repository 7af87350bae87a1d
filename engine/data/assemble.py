"""Assemble validated raw series into an aligned :class:`Market`.

The session calendar is the union of the traded-price dates (Yahoo files are exchange sessions),
ending at the last session with prices for the universe (the sector ETFs and SPY): rows of other
series after it stay in the store but are not used. Daily non-price series are then placed at the
session at which they become *available* (``engine.universe.AVAILABILITY_LAGS``; a lag-1 FRED
spread dated t sits on session t+1), so every row of ``Market.stress`` holds only what was
published by that session's close; ``Market.stale`` counts, per session and series, the sessions
since the last value so available.
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

from engine.data.formats import PRICE_ONLY_FORMATS, RawSeries
from engine.data.model import Market, SeriesMeta
from engine.errors import DataError
from engine.universe import BENCHMARK, REFERENCE_SERIES, SECTORS, availability_lag

log = logging.getLogger(__name__)
MAX_FILL = 5


def _frame(columns: dict[str, pd.Series], index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """The columns (each on its own dates) as one float frame on ``index`` (None: the union of their dates),
    columns sorted by name, index named ``date`` in ns."""
    if columns and index is not None:
        return _placed(columns, index)
    df = pd.DataFrame(columns) if columns else pd.DataFrame(index=index if index is not None else pd.DatetimeIndex([]))
    if index is not None:
        df = df.reindex(index)
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    return df.sort_index(axis=1).astype(float)


def _placed(columns: dict[str, pd.Series], index: pd.DatetimeIndex) -> pd.DataFrame:
    """:func:`_frame` on a given ``index``: each column's values put at the positions of their dates in
    ``index`` (dates not in it dropped, NaN elsewhere), the frame built once from one (columns x rows)
    block. The same frame, bit for bit and in the same memory layout, as the union-of-dates frame
    reindexed to ``index`` that it replaces (tests/test_data_assemble_fast.py), without pandas' union of
    52 date indexes and its frequency inference (0.07 s of each export's CPU)."""
    idx = pd.DatetimeIndex(index, name="date").as_unit("ns")
    names = sorted(columns)
    block = np.full((len(names), len(idx)), np.nan)
    for i, name in enumerate(names):
        col = columns[name]
        pos = idx.get_indexer(pd.DatetimeIndex(col.index).as_unit("ns"))
        ok = pos >= 0
        block[i, pos[ok]] = col.to_numpy(dtype=float)[ok]
    return pd.DataFrame(block.T, index=idx, columns=pd.Index(names))


def _bounded_fill(df: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, dict[str, int]]:
    filled = df.ffill(limit=limit, limit_area="inside")
    counts = (filled.notna() & df.isna()).sum()
    return filled, {k: int(v) for k, v in counts.items() if v}


def _sessions(traded: list[RawSeries], levels: list[RawSeries]) -> pd.DatetimeIndex:
    if traded:
        sessions = pd.DatetimeIndex(np.unique(np.concatenate([s.dates.values for s in traded])))
        universe = [s for s in traded if s.name in SECTORS or s.name == BENCHMARK] or traded
        end = max(s.dates[~np.isnan(_price(s))][-1] for s in universe if (~np.isnan(_price(s))).any())
        sessions = sessions[sessions <= end]
    elif levels:
        dates = pd.DatetimeIndex(np.unique(np.concatenate([s.dates.values for s in levels])))
        sessions = dates[dates.day_of_week < 5]
    else:
        raise DataError("no daily series found (expected price files or daily FRED/Cboe series)")
    return pd.DatetimeIndex(sessions, name="date")


def _price(s: RawSeries) -> np.ndarray:
    return s.fields["adj_close"] if "adj_close" in s.fields else s.fields["close"]


def is_traded(s: RawSeries) -> bool:
    """A traded price series (total-return adjusted close, or a price-only vendor's close)."""
    return "adj_close" in s.fields or (s.format in PRICE_ONLY_FORMATS and "close" in s.fields)


def stale_counts(observed: pd.DataFrame) -> pd.DataFrame:
    """Per session and column: sessions since the last observed value (NaN before the first one)."""
    n = len(observed)
    pos = np.arange(n, dtype=float)[:, None]
    last = np.where(observed.to_numpy(), pos, np.nan)
    last = pd.DataFrame(last).ffill().to_numpy()
    return pd.DataFrame(pos - last, index=observed.index, columns=observed.columns)


def _shift_available(df: pd.DataFrame, lags: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({c: df[c].shift(availability_lag(c, lags)) for c in df.columns},
                        index=df.index, columns=df.columns)


def assemble(series: list[RawSeries], label: str, imported_at: str, max_fill: int = MAX_FILL,
             lags: dict[str, int] | None = None) -> Market:
    """Build a Market from raw series (already validated). Raises DataError on name clashes.
    ``lags`` overrides ``engine.universe.AVAILABILITY_LAGS`` per series."""
    lags = dict(lags or {})
    seen: dict[str, str] = {}
    for s in series:
        if s.name in seen:
            raise DataError(f"series {s.name!r} is provided by two files: {seen[s.name]} and {s.source}; "
                            "remove one or map one to another name", s.source)
        seen[s.name] = s.source
    traded = [s for s in series if is_traded(s)]
    returns = [s for s in series if "return" in s.fields]
    reference = [s for s in series if s.name in REFERENCE_SERIES]
    levels = [s for s in series if s not in traded and s not in reference and s not in returns]

    def col(s: RawSeries, field: str) -> pd.Series:
        return pd.Series(s.fields[field], index=s.dates).dropna()

    sessions = _sessions(traded, levels)
    prices, pfill = _bounded_fill(_frame({s.name: pd.Series(_price(s), index=s.dates).dropna() for s in traded},
                                         sessions), max_fill)
    close = _frame({s.name: col(s, "close") for s in traded if "close" in s.fields}, sessions)
    volume = _frame({s.name: col(s, "volume") for s in traded if "volume" in s.fields}, sessions)
    level_cols = {s.name: col(s, "close" if "close" in s.fields else "value") for s in levels}
    raw = _frame(level_cols, sessions)
    if "vix" not in raw and "vix_cboe" in raw:
        raw["vix"] = raw["vix_cboe"]
    filled, sfill = _bounded_fill(raw, max_fill)
    stress = _shift_available(filled, lags)
    stale = stale_counts(_shift_available(raw.notna().astype(float), lags).fillna(0.0).astype(bool))
    ref = _frame({s.name: col(s, "value") for s in reference})
    if len(sessions):
        ref = ref.loc[:sessions[-1]]
    ret = _frame({s.name: col(s, "return") for s in returns})
    meta = {s.name: _meta(s, imported_at) for s in series}
    fills = {**pfill, **sfill}
    if fills:
        log.info("forward-filled (at most %d sessions, inside each series): %s", max_fill, fills)
    used_lags = {c: availability_lag(c, lags) for c in list(stress.columns) + list(ref.columns)}
    return Market(prices=prices, close=close, volume=volume, stress=stress, reference=ref,
                  meta=meta, fills=fills, label=label, lags=used_lags, stale=stale, returns=ret)


def _meta(s: RawSeries, imported_at: str) -> SeriesMeta:
    main = s.fields.get("adj_close", s.fields.get("close", s.fields.get("value", s.fields.get("return"))))
    ok = ~np.isnan(main)
    d = s.dates[ok]
    return SeriesMeta(
        name=s.name, source=s.source, format=s.format,
        first=d[0].date().isoformat() if len(d) else "", last=d[-1].date().isoformat() if len(d) else "",
        rows=int(ok.sum()), imported_at=imported_at, sha256=s.sha256, fields=tuple(s.fields))


def data_digest(market: Market) -> str:
    """SHA-256 of the data rows a computation used (prices, volume, stress, reference, and the user factor
    rows when there is a panel), order-stable."""
    h = hashlib.sha256()
    for name in ("prices", "close", "volume", "stress", "reference"):
        df = getattr(market, name)
        h.update(name.encode())
        h.update(",".join(map(str, df.columns)).encode())
        h.update(df.index.asi8.tobytes())
        h.update(np.ascontiguousarray(df.to_numpy(dtype=float)).tobytes())
    panel = getattr(market, "user_factors", None)
    if panel is not None:                      # the user's factor rows the computation could see (issue 16.7)
        r = panel.rows
        h.update(b"user_factors")
        h.update(pd.util.hash_pandas_object(r[["date", "available", "sector", "factor", "value", "market_cap"]],
                                            index=False).to_numpy().tobytes())
    return h.hexdigest()
