"""The morning dashboard: "where is my book against the benchmark and the target, what does the bond
market say, what was I told since the last rebalance, and how has the rotation done so far?"

Everything is computed on ``market.asof(D)`` (D: ``as_of``, default the last session).
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from engine.alerts.config import AlertConfig
from engine.alerts.stale import staleness
from engine.data.model import Market
from engine.optimize.limits import Limits
from engine.universe import DEFENSIVE, SECTORS, TECH
from usecases import signals
from usecases.alerts import compute_alerts, input_frame
from usecases.book import book_returns, book_view
from usecases.book_attribution import attribution, transition_tracking_error
from usecases.context import decision_date

TICKERS = list(SECTORS)


def next_rebalance(last_session: pd.Timestamp, schedule: str = "monthly") -> pd.Timestamp:
    """The next scheduled rebalance after ``last_session`` on the NYSE calendar: the last session of
    the month (``monthly``), of the week (``weekly``) or of the quarter (``quarterly``)."""
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start=str((last_session - pd.Timedelta(days=40)).date()))
    ahead = cal.sessions_in_range(last_session + pd.Timedelta(days=1), last_session + pd.Timedelta(days=120))
    key = {"monthly": ahead.to_period("M"), "weekly": ahead.to_period("W"), "quarterly": ahead.to_period("Q")}[schedule]
    ends = pd.Series(ahead, index=ahead).groupby(np.asarray(key)).max()
    return pd.Timestamp(ends.iloc[0])


def _weights_table(book, t, limits: Limits) -> tuple[list[dict], dict]:
    w, tgt, bench = book.weights.loc[t], book.targets.loc[t], book.benchmark.loc[t]
    rows = [{"ticker": tk, "name": SECTORS[tk], "book": float(w[tk]), "target": _f(tgt[tk]),
             "benchmark": _f(bench[tk]), "vs_benchmark": _diff(w[tk], bench[tk]), "vs_target": _diff(w[tk], tgt[tk]),
             "defensive": tk in DEFENSIVE} for tk in TICKERS]
    tech = {"ticker": TECH, "weight": float(w[TECH]), "cap": limits.tech_cap,
            "over_cap": bool(w[TECH] > limits.tech_cap + 1e-12), "target": _f(tgt[TECH]), "benchmark": _f(bench[TECH])}
    return rows, tech


def _f(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def _diff(a, b) -> float | None:
    return None if pd.isna(a) or pd.isna(b) else float(a - b)


def _stress(pit: Market, t, cfg: AlertConfig, stress_config, live: bool) -> dict:
    r = signals.reading(pit, t, stress_config, with_defensive=False)
    age = staleness(input_frame(pit, stress_config, cfg)).loc[t]
    stale = {k: int(v) for k, v in age.items() if v == v and v > 0}
    return {k: r[k] for k in ("as_of", "index", "percentile", "regime", "strength", "change_20d",
                              "warning_probability", "warning", "tech_selloff", "warning_procedure")} | {
        "stale_inputs": stale, "max_stale_sessions": cfg.stale_max_sessions,
        "data_age_days": (datetime.now(timezone.utc).date() - pit.last.date()).days if live else None}


def _period_returns(rets: pd.DataFrame, start: pd.Timestamp, t: pd.Timestamp) -> dict:
    r = rets.loc[(rets.index > start) & (rets.index <= t)]
    grow = lambda c: float((1 + r[c]).prod() - 1) if len(r) and r[c].notna().all() else None  # noqa: E731
    out = {"start": start.date().isoformat(), "end": t.date().isoformat(), "sessions": len(r),
           "book": grow("book"), "benchmark": grow("benchmark"), "spy": grow("spy")}
    out["active"] = None if out["book"] is None or out["benchmark"] is None else out["book"] - out["benchmark"]
    out["tracking_error"] = float(r["active"].std(ddof=1) * np.sqrt(252)) if len(r) > 2 else None
    return out


def period_starts(book, t: pd.Timestamp, sessions: pd.DatetimeIndex) -> dict[str, pd.Timestamp]:
    """Start (the close the period is measured from) of each window: since the last rebalance, month,
    quarter and year to date (the last session of the previous period, or the book's first session)."""
    first = book.weights.index[0]
    past = sessions[sessions <= t]
    out = {"since_rebalance": book.last_rebalance}
    for name, freq in (("mtd", "M"), ("qtd", "Q"), ("ytd", "Y")):
        prev = past[past.to_period(freq) < t.to_period(freq)]
        out[name] = max(prev[-1], first) if len(prev) else first
    return out


def dashboard(market: Market, holdings, as_of=None, limits: Limits | None = None, config: AlertConfig | None = None,
              stress_config=None, schedule: str = "monthly", fills=None, orders=None) -> dict:
    """The dashboard at ``as_of`` for the holdings history at ``holdings``: keys ``as_of, label, nav,
    cash_weight, weights`` (per ticker: book, target, benchmark and the differences), ``tech`` (weight
    against its cap), ``stress`` (the reading with ``stale_inputs`` in sessions and ``data_age_days``),
    ``last_rebalance``, ``next_rebalance``, ``alerts`` (since the last rebalance), ``performance`` (book,
    benchmark, SPY and active return and tracking error since the last rebalance, MTD, QTD, YTD),
    ``attribution`` (per window: linked Brinson-Fachler by sector, None for an empty window),
    ``transition`` (tracking error of the latest transition so far) and ``notes``."""
    limits = limits or Limits()
    cfg = config or AlertConfig.default()
    t = decision_date(market, as_of)
    pit = market.asof(t)
    book = book_view(pit, holdings, limits, t, later="drop", fills=fills, orders=orders)        # holdings after D are not known at D
    weights, tech = _weights_table(book, t, limits)
    rets = book_returns(pit, book)
    starts = period_starts(book, t, pit.sessions)
    alerts = [a.as_dict() for a in compute_alerts(pit, cfg, stress_config, book, limits) if a.date >= book.last_rebalance]
    return {
        "as_of": t.date().isoformat(), "label": market.label, "holdings": str(holdings),
        "nav": float(book.nav.loc[t]), "cash_weight": float(1 - book.weights.loc[t].sum()),
        "weights": weights, "tech": tech, "stress": _stress(pit, t, cfg, stress_config, as_of is None),
        "last_rebalance": book.last_rebalance.date().isoformat(),
        "rebalances": [r.date().isoformat() for r in book.rebalances],
        "next_rebalance": {"date": next_rebalance(t, schedule).date().isoformat(), "schedule": schedule},
        "alerts": alerts,
        "performance": {k: _period_returns(rets, s, t) for k, s in starts.items()},
        "attribution": {k: attribution(pit, book, s, t, rets=rets) for k, s in starts.items()},
        "transition": transition_tracking_error(book, rets, t),
        "notes": list(book.notes),
    }
