"""The NYSE session calendar (``exchange-calendars``: holidays and early closes), cached per process."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from engine.errors import ArgumentError

NY = "America/New_York"


@lru_cache(maxsize=1)
def nyse():
    """The XNYS calendar from 1990 (built once: about 0.7 s)."""
    import exchange_calendars as xc

    return xc.get_calendar("XNYS", start="1990-01-02")


def sessions_after(day, n: int) -> list[pd.Timestamp]:
    """The ``n`` NYSE sessions strictly after ``day`` (a trade decided at the close of D starts at D+1)."""
    return list(_sessions_after(pd.Timestamp(day).normalize(), int(n)))


@lru_cache(maxsize=4096)
def _sessions_after(d: pd.Timestamp, n: int) -> tuple:
    cal = nyse()
    if d > cal.last_session:
        raise ArgumentError("as_of", f"{d.date()} is beyond the NYSE calendar's last session {cal.last_session.date()}")
    first = cal.next_session(cal.date_to_session(d, direction="previous"))
    return tuple(cal.sessions_window(first, n))


@lru_cache(maxsize=4096)
def session_hours(session: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Open and close of a session in New York time (early closes included)."""
    cal = nyse()
    return cal.session_open(session).tz_convert(NY), cal.session_close(session).tz_convert(NY)


def is_session(day) -> bool:
    return bool(nyse().is_session(pd.Timestamp(day).normalize()))
