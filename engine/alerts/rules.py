"""Run every alert rule: ``evaluate(...) -> list[Alert]`` sorted by date and importance."""
from __future__ import annotations

import pandas as pd

from engine.alerts.book_rules import drift_alerts, tech_alerts
from engine.alerts.config import AlertConfig
from engine.alerts.model import Alert, sort_alerts
from engine.alerts.signal_rules import reentry_alerts, regime_alerts, strength_alerts, warning_alerts
from engine.alerts.stale import stale_alerts


def evaluate(daily: pd.DataFrame, cfg: AlertConfig | None = None, *, warning_threshold: float = 0.15,
             tech_cap: float = 0.25, inputs: pd.DataFrame | None = None, book: pd.DataFrame | None = None,
             target: pd.DataFrame | None = None, benchmark: pd.DataFrame | None = None) -> list[Alert]:
    """Every alert from the stress frame ``daily`` (see :mod:`engine.alerts.signal_rules`), the data
    ``inputs`` (date x series, for staleness) and, when given, the ``book`` against its ``target``
    weights (date x ticker) and the ``benchmark`` weights (for the re-entry recommendation).
    ``cfg.warning_threshold`` (None) falls back to ``warning_threshold`` (the stress model's)."""
    cfg = cfg or AlertConfig.default()
    thr = cfg.warning_threshold if cfg.warning_threshold is not None else warning_threshold
    tech = None
    if book is not None and benchmark is not None and cfg.tech_ticker in book.columns:
        tech = pd.DataFrame({"book": book[cfg.tech_ticker],
                             "benchmark": benchmark[cfg.tech_ticker].reindex(book.index)}).dropna(how="all")
    out: list[Alert] = []
    out += regime_alerts(daily, cfg, tech_cap)
    out += strength_alerts(daily, cfg)
    out += warning_alerts(daily, cfg, thr)
    out += reentry_alerts(daily, cfg, tech)
    if inputs is not None:
        out += stale_alerts(inputs, cfg)
    if book is not None and target is not None:
        out += tech_alerts(book, target, cfg, tech_cap)
        out += drift_alerts(book, target, cfg)
    return sort_alerts(out)


def in_window(alerts: list[Alert], start=None, end=None) -> list[Alert]:
    """The alerts dated between ``start`` and ``end`` (inclusive; None = open)."""
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    return [a for a in alerts if (lo is None or a.date >= lo) and (hi is None or a.date <= hi)]
