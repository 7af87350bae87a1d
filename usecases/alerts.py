"""Alert use cases: "what should I have been told, and when?" (``alert_list``) for every face.

Alerts are computed on the whole history with every rule walking forward (engine.alerts), then cut to
the window, so an alert dated t uses data up to t only and the window does not invent crossings at its
start. Book rules (tech band, drift) need a book: see :mod:`usecases.book`.
"""
from __future__ import annotations

import weakref

import pandas as pd

from engine.alerts.config import AlertConfig
from engine.alerts.model import Alert
from engine.alerts.rules import evaluate, in_window
from engine.data.model import Market
from engine.dates import parse_as_of
from engine.errors import ArgumentError
from engine.optimize.limits import Limits
from engine.stress.config import StressConfig
from engine.universe import BENCHMARK, SECTORS
from usecases import signals

_memo: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()


def input_frame(market: Market, stress_config: StressConfig | None, cfg: AlertConfig) -> pd.DataFrame:
    """The series whose staleness is watched: ``cfg.stale_series`` or, when empty, every stress index
    input present in the data, SPY and the sector ETFs (date x series, NaN where no value)."""
    scfg = stress_config or StressConfig.default()
    frames = {**{c: market.stress[c] for c in market.stress.columns},
              **{c: market.prices[c] for c in market.prices.columns}}
    names = list(cfg.stale_series) or [i.name for i in scfg.index.inputs] + [BENCHMARK] + list(SECTORS)
    unknown = [n for n in cfg.stale_series if n not in frames]
    if unknown:
        raise ArgumentError("stale.series", f"{unknown[0]!r} is not a series of the data; expected one of "
                            f"{', '.join(sorted(frames))}")
    cols = {n: frames[n] for n in names if n in frames and frames[n].notna().any()}
    return pd.DataFrame(cols, index=market.sessions)


def compute_alerts(market: Market, config: AlertConfig | None = None, stress_config: StressConfig | None = None,
                   book=None, limits: Limits | None = None) -> list[Alert]:
    """Every alert over the market's history (memoized per market and settings when there is no book).
    ``book``: a :class:`usecases.book.BookView` (daily book, targets and benchmark weights) or None."""
    cfg = config or AlertConfig.default()
    limits = limits or Limits()
    key = (cfg, stress_config, limits)
    per = _memo.setdefault(market, {})
    if book is None and key in per:
        return per[key]
    res = signals.stress_result(market, stress_config)
    out = evaluate(res.daily, cfg, warning_threshold=res.config.warning.threshold, tech_cap=limits.tech_cap,
                   inputs=input_frame(market, stress_config, cfg),
                   book=None if book is None else book.weights, target=None if book is None else book.targets,
                   benchmark=None if book is None else book.benchmark)
    if book is None:
        per[key] = out
    return out


def alert_list(market: Market, start=None, end=None, config: AlertConfig | None = None,
               stress_config: StressConfig | None = None, book=None, limits: Limits | None = None) -> dict:
    """Alerts dated between ``start`` and ``end`` (inclusive; None = open): keys ``label, from, to,
    count, alerts`` (each alert ``id, date, kind, message, recommendation, values``) and ``book``
    (the holdings source, or None)."""
    lo, hi = parse_as_of(start, "--from"), parse_as_of(end, "--to")
    if lo is not None and hi is not None and lo > hi:
        raise ArgumentError("--from", f"{lo.date()} is after --to {hi.date()}")
    alerts = in_window(compute_alerts(market, config, stress_config, book, limits), lo, hi)
    return {"label": market.label, "from": None if lo is None else lo.date().isoformat(),
            "to": None if hi is None else hi.date().isoformat(), "count": len(alerts),
            "alerts": [a.as_dict() for a in alerts], "book": None if book is None else book.source}


def preceding_alerts(market: Market, as_of, days: int = 92, stress_config: StressConfig | None = None) -> pd.DataFrame:
    """The alerts dated in the ``days`` calendar days up to and including the session ``as_of``, computed
    on ``market.asof(as_of)`` (what the decision workbook's Alerts sheet lists): columns
    ``date, kind, message, recommendation, values``."""
    t = pd.Timestamp(as_of)
    rows = [a.as_dict() for a in in_window(compute_alerts(market.asof(t), stress_config=stress_config),
                                           t - pd.Timedelta(days=days), t)]
    return pd.DataFrame(rows, columns=["date", "kind", "message", "recommendation", "values"])
