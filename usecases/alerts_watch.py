"""``rotation alerts watch``: check for new alerts after each data import and deliver each one once.

The first check of a new state file starts the watch at ``since`` (default: the last session of the
data), so it delivers the alerts of that session onward, not the whole history.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from typing import Callable

from engine.data.model import Market
from engine.dates import parse_as_of
from usecases.alerts import compute_alerts
from usecases.delivery import DeliveryState, deliver


def check_once(market: Market, channels: list, state: DeliveryState, since=None, config=None,
               stress_config=None, book=None, limits=None) -> dict:
    """Compute the alerts on ``market`` and deliver those dated on or after the watch's start that a
    channel has not had yet. ``since`` (a date) sets the start; otherwise the stored start, or on the
    first check the last session. Returns ``since, last_session, pending, delivered, failed, alerts``."""
    t = parse_as_of(since, "--since")
    start = t.date().isoformat() if t is not None else state.get("since") or market.last.date().isoformat()
    state.set("since", start)
    alerts = [a.as_dict() for a in compute_alerts(market, config, stress_config, book, limits)
              if a.date.date().isoformat() >= start]
    rep = deliver(alerts, channels, state, market.label)
    new = sorted({i for ids in rep["delivered"].values() for i in ids})
    return {"checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "since": start,
            "last_session": market.last.date().isoformat(), "label": market.label, "pending": len(alerts),
            "delivered": {k: len(v) for k, v in rep["delivered"].items()}, "failed": rep["failed"],
            "alerts": [a for a in alerts if a["id"] in new]}


def store_version(store) -> str:
    """A digest of the store's series and their file digests: it changes when an import changes data."""
    from engine.data.store import Store

    rows = Store(store).status()
    return hashlib.sha256(repr([(r["name"], r["sha256"], r["last"]) for r in rows]).encode()).hexdigest()


def watch(load: Callable[[], Market], version: Callable[[], str], check: Callable[[Market], dict],
          every_s: float, cycles: int | None = None, on_report: Callable[[dict], None] = lambda r: None,
          sleep: Callable[[float], None] = time.sleep, before: Callable[[], None] = lambda: None) -> int:
    """Every ``every_s`` seconds: ``before()`` (e.g. import a folder), then, when ``version()`` differs
    from the last check (or on the first cycle), load the market and ``check`` it; ``on_report`` gets
    each report. Stops after ``cycles`` cycles (None: until interrupted). Returns the checks made."""
    last, checks, n = None, 0, 0
    while cycles is None or n < cycles:
        before()
        v = version()
        if v != last:
            on_report(check(load()))
            last, checks = v, checks + 1
        n += 1
        if cycles is None or n < cycles:
            sleep(every_s)
    return checks
