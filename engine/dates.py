"""One strict parser for every date a user passes in: CLI text, Excel cells, Python dates.

Accepted:

- ISO text ``YYYY-MM-DD`` (optionally followed by ``T``/space and ``HH:MM[:SS[.ffffff]]``);
- ``datetime`` / ``date`` / ``pandas.Timestamp`` objects (what Excel date cells arrive as);
- Excel serial numbers 1 .. 2958465 (1900-01-01 .. 9999-12-31; Excel's phantom 1900-02-29, serial 60,
  is refused, and serials below 60 are counted as Excel counts them).

Refused, with an ArgumentError naming the argument: any other text (``10.06.2008`` or ``03/04/2008``
could be either day/month order, so the message spells out the ISO readings instead of guessing),
dates pandas cannot represent (before 1677-09-22 or after 2262-04-11), and dates after today.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from engine.errors import ArgumentError

EXCEL_EPOCH = datetime(1899, 12, 30)     # serial 61 = 1900-03-01 (Excel's 1900 leap-year bug before it)
MAX_SERIAL = 2958465                     # 9999-12-31
ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$")
OTHER_RE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})$")
LOWEST, HIGHEST = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")
EXAMPLE = "a date like 2008-10-10"


def today() -> pd.Timestamp:
    """Today's date (UTC), normalized to midnight."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()


def excel_serial_to_datetime(serial: float, name: str = "as_of") -> datetime:
    """An Excel serial date number (1 .. 2958465, fractions are times of day) as a ``datetime``."""
    if isinstance(serial, bool) or not math.isfinite(serial) or not 1 <= serial < MAX_SERIAL + 1:
        raise ArgumentError(name, f"expected a date or an Excel date number (1 to {MAX_SERIAL}), got {serial!r}")
    if 60 <= serial < 61:
        raise ArgumentError(name, "Excel serial 60 is 1900-02-29, a day that does not exist")
    days = serial if serial >= 61 else serial + 1     # before the phantom leap day Excel counts one more
    whole = math.floor(days)
    ms = min(round((days - whole) * 86_400_000), 86_399_999)   # time of day to the millisecond, as Excel keeps it
    return EXCEL_EPOCH + timedelta(days=whole, milliseconds=ms)


def iso_hint(text: str) -> str:
    """What to say about a non-ISO date text: both ISO readings when day/month order is ambiguous."""
    m = OTHER_RE.match(text)
    if not m:
        return f"expected {EXAMPLE}, got {text!r}"
    a, b, c = m.groups()
    if len(a) == 4:                       # 2008/10/06: year first, still not ISO
        readings = [(int(a), int(b), int(c))]
    elif len(c) in (2, 4):
        y = int(c) if len(c) == 4 else 2000 + int(c) if int(c) < 70 else 1900 + int(c)
        readings = [(y, int(b), int(a)), (y, int(a), int(b))]   # day first, month first
    else:
        return f"expected {EXAMPLE}, got {text!r}"
    isos = []
    for y, mo, d in readings:
        try:
            iso = date(y, mo, d).isoformat()
        except ValueError:
            continue
        if iso not in isos:
            isos.append(iso)
    if len(isos) == 2:
        return f"{text!r} is ambiguous (day/month order); write it as {isos[0]} or {isos[1]} (YYYY-MM-DD)"
    if isos:
        return f"{text!r} is not an ISO date; write it as {isos[0]} (YYYY-MM-DD)"
    return f"expected {EXAMPLE}, got {text!r}"


def _from_text(text: str, name: str) -> datetime:
    m = ISO_RE.match(text)
    if not m:
        raise ArgumentError(name, iso_hint(text))
    y, mo, d, hh, mm, ss, frac = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                        int((frac or "0").ljust(6, "0")[:6]))
    except ValueError as exc:
        raise ArgumentError(name, f"{text!r} is not a valid date ({exc})") from None


def _to_timestamp(value: datetime | date, name: str) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None) if value.tz is not None else value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not LOWEST <= value <= HIGHEST:
        raise ArgumentError(name, f"{value.date().isoformat()} is outside the dates this product handles "
                                  f"({LOWEST.date()} to {HIGHEST.date()})")
    return pd.Timestamp(value)


def parse_date(value, name: str = "as_of", allow_future: bool = False) -> pd.Timestamp | None:
    """None for "latest" (None, blank text, an empty cell), else a Timestamp (see module docstring).

    Raises ArgumentError naming ``name`` for anything else, for dates outside pandas' range, and
    (unless ``allow_future``) for a date after today.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        if value is pd.NaT:
            raise ArgumentError(name, f"expected {EXAMPLE}, got an empty date (NaT)")
        t = _to_timestamp(value, name)
    elif isinstance(value, np.datetime64):
        t = _to_timestamp(pd.Timestamp(value), name) if not np.isnat(value) else None
        if t is None:
            raise ArgumentError(name, f"expected {EXAMPLE}, got NaT")
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        t = _to_timestamp(excel_serial_to_datetime(float(value), name), name)
    elif isinstance(value, str):
        t = _to_timestamp(_from_text(value.strip(), name), name)
    else:
        raise ArgumentError(name, f"expected {EXAMPLE}, got {type(value).__name__} {value!r}")
    if not allow_future and t.normalize() > today():
        raise ArgumentError(name, f"{t.date()} is in the future (today is {today().date()})")
    return t


def parse_file_date(value, column: str, file: str | None, line: int | None,
                    allow_future: bool = False) -> pd.Timestamp:
    """A date read from a data file's ``column``: :func:`parse_date`'s rules, but a DataError naming the
    file and line (and refusing an empty value) instead of an ArgumentError naming an argument."""
    from engine.errors import DataError

    try:
        t = parse_date(value, column, allow_future=allow_future)
    except ArgumentError as exc:
        raise DataError(f"{column}: {exc.problem}", file, line) from None
    if t is None:
        raise DataError(f"{column} is empty; expected {EXAMPLE}", file, line)
    return t


def parse_as_of(value, name: str = "as_of") -> pd.Timestamp | None:
    """The decision date: :func:`parse_date` (future dates refused)."""
    return parse_date(value, name)


def parse_range(start, end, start_name: str = "--from", end_name: str = "--to"):
    """Both ends of a date range (either may be None); ArgumentError when ``start`` is after ``end``."""
    a, b = parse_date(start, start_name), parse_date(end, end_name)
    if a is not None and b is not None and a > b:
        raise ArgumentError(f"{start_name}/{end_name}", f"{start_name} {a.date()} is after {end_name} {b.date()}")
    return a, b


def sessions_after(last: pd.Timestamp, t: pd.Timestamp) -> int:
    """Weekday sessions after ``last`` up to and including ``t`` (0 when ``t`` <= ``last``)."""
    if t <= last:
        return 0
    return int(np.busday_count((last + pd.Timedelta(days=1)).date(), (t + pd.Timedelta(days=1)).date()))
