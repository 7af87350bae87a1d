"""The alert record every rule returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Order of kinds on the same date (most important first).
KINDS = ("regime_entered", "regime_left", "reentry", "warning_on", "warning_off", "strength",
         "tech_band", "drift", "stale_data", "data_resumed")


@dataclass(frozen=True)
class Alert:
    """One alert: the session it is dated (it uses data up to that session only), its kind (one of
    ``KINDS``), what happened (``message``), the numbers (``values``: plain floats, strings, dates as
    ISO text) and what the product recommends. ``subject`` tells alerts of one kind on one date apart
    (a series name); ``id`` is stable, so a delivery can be recorded and never repeated."""

    date: pd.Timestamp
    kind: str
    message: str
    recommendation: str
    values: dict = field(default_factory=dict)
    subject: str = ""

    @property
    def id(self) -> str:
        return f"{self.date:%Y-%m-%d}:{self.kind}" + (f":{self.subject}" if self.subject else "")

    def as_dict(self) -> dict:
        """JSON-ready: ``id, date, kind, message, recommendation, values``."""
        return {"id": self.id, "date": f"{self.date:%Y-%m-%d}", "kind": self.kind, "message": self.message,
                "recommendation": self.recommendation, "values": dict(self.values)}


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """By date, then by kind in ``KINDS`` order, then subject."""
    return sorted(alerts, key=lambda a: (a.date, KINDS.index(a.kind), a.subject))


def num(x) -> float | None:
    """A plain float (None for NaN/None)."""
    if x is None:
        return None
    x = float(x)
    return None if x != x else x
