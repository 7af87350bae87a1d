"""Validation of parsed series. Every failure names the file, the line and what was expected."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.formats import PRICE_FIELDS, RawSeries
from engine.errors import DataError

MAX_DAILY_JUMP = 0.50          # a one-day price move above this is a probable bad print
TRADED_FORMATS = ("yahoo_ohlcv", "yahoo_close", "alphavantage")   # jump check on adj_close
PRICE_ONLY = ("stooq", "investing")                                  # jump check on close


def validate(series: RawSeries, today: pd.Timestamp | None = None, max_jump: float = MAX_DAILY_JUMP,
             positive: bool | None = None) -> None:
    """Raise DataError on the first problem found in ``series``.

    Checks: dates strictly increasing (duplicates and unsorted rows are told apart), no date after
    ``today`` (UTC), no row without any value when the format forbids it, prices > 0, volume >= 0,
    and no one-day move above ``max_jump`` in a price series (reported as a probable bad print,
    never silently kept). ``positive`` forces (True) or waives (False) the price checks; by default
    they apply to the price fields of price formats.
    """
    f, lines, d = series.source, series.lines, series.dates.asi8
    if len(d) > 1:
        step = np.diff(d)
        if (step == 0).any():
            i = int(np.argmax(step == 0)) + 1
            raise DataError(f"duplicate date {series.dates[i].date()} (also on line {lines[i - 1]})", f, int(lines[i]))
        if (step < 0).any():
            i = int(np.argmax(step < 0)) + 1
            raise DataError(f"dates not sorted: {series.dates[i].date()} comes after {series.dates[i - 1].date()}",
                            f, int(lines[i]))
    today = (today or pd.Timestamp.now(tz="UTC").tz_localize(None)).normalize()
    future = series.dates > today
    if future.any():
        i = int(np.argmax(future))
        raise DataError(f"date {series.dates[i].date()} is in the future (today is {today.date()})", f, int(lines[i]))
    for name, values in series.fields.items():
        is_price = name in PRICE_FIELDS if positive is None else (positive and name != "volume")
        if is_price:
            bad = values <= 0
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(f"non-positive price {values[i]:g} in {name} (prices must be > 0)", f, int(lines[i]))
        if name == "volume":
            bad = values < 0
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(f"negative volume {values[i]:g}", f, int(lines[i]))
    # Jump check on traded prices only: index levels (VIX, MOVE) legitimately move more than 50% in a day.
    price_field = ("adj_close" if series.format in TRADED_FORMATS else
                   "close" if series.format in PRICE_ONLY else None)
    if price_field and positive is not False:
        v = series.fields[price_field]
        ok = ~np.isnan(v)
        vv, ll, dd = v[ok], lines[ok], series.dates[ok]
        if len(vv) > 1:
            move = np.abs(vv[1:] / vv[:-1] - 1.0)
            bad = move > max_jump
            if bad.any():
                i = int(np.argmax(bad)) + 1
                raise DataError(
                    f"one-day price jump of {move[i - 1]:.0%} on {dd[i].date()} ({vv[i - 1]:g} -> {vv[i]:g}) "
                    f"exceeds {max_jump:.0%}: probable bad print; fix or remove the row", f, int(ll[i]))
    if all(np.isnan(v).all() for v in series.fields.values()):
        raise DataError("no numeric values in any row", f)
