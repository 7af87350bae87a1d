"""Attribution of the real book: linked Brinson-Fachler by sector (issue 9's ``engine.backtest.attribution``)
and the tracking error of the transition so far.

Periods are sessions. The book's weights through session d are its weights at the close of d-1 (cash as
a ``CASH`` sector earning the T-bill); the benchmark holds the same sector ETFs at its weights at d-1
(cash 0), so sector returns are the ETFs' adjusted returns for both. With one ETF per sector the
selection and interaction effects are zero by construction: the whole active return is allocation.
Trades inside a day are not seen (the book is valued from its snapshots).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.backtest.attribution import brinson_fachler, split_tracking_error
from engine.data.model import Market
from engine.universe import SECTORS
from usecases.book import BookView, book_returns

TICKERS = list(SECTORS)
TRANSITION_GAP = 10          # rebalance steps at most this many sessions apart belong to one transition


def _inputs(market: Market, book: BookView, rets: pd.DataFrame):
    idx = rets.index
    r = market.prices.reindex(columns=TICKERS).pct_change(fill_method=None).reindex(idx).fillna(0.0)
    r["CASH"] = rets["cash_rate"]
    wp = book.weights.shift(1).reindex(idx)
    wp["CASH"] = 1.0 - wp[TICKERS].sum(axis=1)
    wb = book.benchmark.shift(1).reindex(idx).reindex(columns=TICKERS)
    wb["CASH"] = 0.0
    return wp, r, wb


def attribution(market: Market, book: BookView, start: pd.Timestamp, end: pd.Timestamp,
                method: str = "carino", rets: pd.DataFrame | None = None) -> dict | None:
    """Linked Brinson-Fachler of the book against its benchmark over sessions in (start, end]: the
    ``Attribution.to_dict()`` of issue 9 (``sectors`` per sector allocation/selection/interaction/total,
    ``active_return``, ``total``) plus ``start``, ``end``, ``sessions``. None for an empty window or one
    without benchmark weights."""
    rets = book_returns(market, book) if rets is None else rets
    r = rets.loc[(rets.index > start) & (rets.index <= end)]
    if r.empty or r["benchmark"].isna().any():
        return None
    wp, rr, wb = _inputs(market, book, r)
    att = brinson_fachler(wp, rr, r["book"], wb, rr, method=method, period=None)
    held = [s for s in att.sectors.index if (wp[s].abs() > 0).any() or (wb[s].abs() > 0).any()]
    out = att.to_dict()
    out["sectors"] = {s: v for s, v in out["sectors"].items() if s in held}
    return {**out, "start": start.date().isoformat(), "end": end.date().isoformat(), "sessions": len(r)}


def transitions(book: BookView, gap: int = TRANSITION_GAP) -> list[list[pd.Timestamp]]:
    """Rebalance steps grouped into transitions (steps at most ``gap`` sessions apart)."""
    pos = {d: i for i, d in enumerate(book.weights.index)}
    groups: list[list[pd.Timestamp]] = []
    for d in book.rebalances:
        if groups and pos[d] - pos[groups[-1][-1]] <= gap:
            groups[-1].append(d)
        else:
            groups.append([d])
    return groups


def transition_tracking_error(book: BookView, rets: pd.DataFrame, end: pd.Timestamp) -> dict:
    """Tracking error (annualized, of daily book - benchmark returns) of the latest transition so far,
    from its first step to ``end``, and of the book's other sessions (issue 9's split)."""
    steps = transitions(book)[-1]
    active = rets["active"].loc[:end]
    mask = pd.Series((active.index > steps[0]), index=active.index)
    te = split_tracking_error(active, mask)
    return {"first_step": steps[0].date().isoformat(), "last_step": steps[-1].date().isoformat(),
            "steps": len(steps), "tracking_error": _nan(te["transition"]), "sessions": te["transition_sessions"],
            "other_tracking_error": _nan(te["other"]), "other_sessions": te["other_sessions"]}


def _nan(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)
