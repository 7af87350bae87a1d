"""Conversions between Excel cell values and the use cases' arguments and results (no computation).

Results: a DataFrame becomes a dynamic array whose first row is its headers; NaN and None become
empty cells; timestamps become Excel dates (format the column as a date); numpy scalars become
floats; booleans stay TRUE/FALSE.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from engine.errors import ArgumentError

MAX_INT = 1_000_000


def cell(v: Any) -> Any:
    """One Python value -> what Excel shows in a cell (None = empty)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, datetime):                  # pandas Timestamps are datetimes
        return None if v != v else datetime(v.year, v.month, v.day, v.hour, v.minute, v.second)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if hasattr(v, "item"):                       # numpy scalar
        v = v.item()
        if isinstance(v, (bool, str)):
            return v
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    return str(v)


def table(df) -> list[list]:
    """A DataFrame -> [[headers], [row], ...] for a dynamic array (the index is not shown)."""
    head = [str(c) for c in df.columns]
    return [head] + [[cell(v) for v in row] for row in df.itertuples(index=False, name=None)]


def scalar(v: Any) -> Any:
    """A single result value for one cell (None -> an empty-looking cell, never an error)."""
    out = cell(v)
    return "" if out is None else out


def whole_number(v: Any, name: str, default: int, low: int = 1, high: int = MAX_INT) -> int:
    """An optional whole-number argument (empty: ``default``)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    if isinstance(v, str):
        try:
            v = float(v.strip())
        except ValueError:
            raise ArgumentError(name, f"expected a whole number, got {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v):
        raise ArgumentError(name, f"expected a whole number, got {v!r}")
    if not low <= v <= high:
        raise ArgumentError(name, f"expected a whole number from {low} to {high}, got {int(v)}")
    return int(v)


def names(v: Any, name: str) -> list[str] | None:
    """Column names from a text ("index, regime") or a range of texts; empty -> None (all)."""
    if v is None:
        return None
    cells = [c for row in v for c in (row if isinstance(row, (list, tuple)) else [row])] \
        if isinstance(v, (list, tuple)) else [v]                 # a 2-D range, one row or column, or a cell
    out: list[str] = []
    for c in cells:
        if c is None:
            continue
        if not isinstance(c, str):
            raise ArgumentError(name, f"expected column names as text, got {c!r}")
        out += [p.strip().lower() for p in c.split(",") if p.strip()]
    return out or None


def column(v: Any, name: str) -> list:
    """A one-column range (2-D list from ``ndim=2``) -> its cells; a wider range is an error."""
    if not isinstance(v, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in v):
        raise ArgumentError(name, "expected a one-column range")
    if any(len(r) != 1 for r in v):
        raise ArgumentError(name, f"expected a one-column range, got {max(len(r) for r in v)} columns")
    return [r[0] for r in v]


def named_column(v: Any, name: str) -> tuple[str, list]:
    """An extra series: a one-column range whose first cell names the series (e.g. "move")."""
    cells = column(v, name)
    if not cells or not isinstance(cells[0], str) or not cells[0].strip():
        raise ArgumentError(name, "expected a one-column range whose first cell names the series, e.g. move")
    return cells[0].strip().lower(), [None] + cells[1:]


def date_arg(v: Any, name: str = "as_of"):
    """A date argument as ``udfs.runtime.as_of_arg`` reads it, refused (one sentence) outside the years
    the engine's calendar holds (pandas nanosecond timestamps: 1678-2261) instead of overflowing later."""
    import pandas as pd

    from udfs.runtime import as_of_arg

    out = as_of_arg(v, name)
    if out is None:
        return None
    try:
        t = pd.Timestamp(out)
    except (ValueError, TypeError, OverflowError):
        return out                               # text the use case's parser will reject in its own words
    if t is pd.NaT or not pd.Timestamp.min < t < pd.Timestamp.max:
        shown = v.isoformat()[:10] if isinstance(v, (datetime, date)) else repr(v)
        raise ArgumentError(name, f"expected a date between 1678 and 2261, got {shown}")
    return out
