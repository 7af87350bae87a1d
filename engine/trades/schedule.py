"""Execution schedules: parent orders worked as TWAP or VWAP child orders over days and intraday buckets.

Per parent order of Q shares over the sessions given (NYSE: holidays skipped, early closes shorter):

- days: VWAP spreads Q in proportion to each session's expected volume (ADV x the profile's share
  of that session), TWAP in proportion to its open minutes; every session is capped at
  ``participation`` x its expected volume (10% of ADV on a full day). Shares above a cap go to the
  other sessions; if the sessions cannot hold Q, every session runs at its cap and sessions are
  added one at a time until Q fits (the sessions needed are returned, so the caller can say so);
- buckets (30 minutes by default): VWAP in proportion to the profile, TWAP equally;
- whole shares: largest remainders, never above a cap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from engine.trades import calendar as cal
from engine.trades.profile import DEFAULT_U, bucket_weights

STRATEGIES = ("twap", "vwap")
MAX_SESSIONS = 252
CHILD_COLUMNS = ("parent_id", "child_id", "date", "start", "end", "ticker", "side", "shares", "limit", "strategy",
                 "participation", "day_participation")


@dataclass(frozen=True)
class ScheduleOptions:
    """``strategy`` twap|vwap, ``participation`` cap of a session's expected volume, ``bucket_minutes``."""

    strategy: str = "vwap"
    participation: float = 0.10
    bucket_minutes: int = 30
    profile: tuple = tuple(DEFAULT_U)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ArgumentError("--schedule", f"expected twap or vwap, got {self.strategy!r}")
        if not 0 < self.participation <= 1:
            raise ArgumentError("--participation", f"expected a fraction in (0, 1], got {self.participation!r}")
        if not (isinstance(self.bucket_minutes, int) and 5 <= self.bucket_minutes <= 390):
            raise ArgumentError("bucket_minutes", f"expected 5 to 390 minutes, got {self.bucket_minutes!r}")


def split_integer(total: int, weights: np.ndarray, caps: np.ndarray | None = None) -> np.ndarray:
    """``total`` whole units in proportion to ``weights``, none above ``caps`` (water-filling, then
    largest remainders). The caps must hold the total."""
    w = np.asarray(weights, dtype=float)
    if caps is None and total >= 0 and w.sum() > 0:              # the common case: no cap, largest remainders
        x = total * w / w.sum()
        out = np.floor(x + 1e-9)
        rem = int(round(total - out.sum()))
        if rem > 0:
            out[np.argsort(-(x - out), kind="stable")[:rem]] += 1
        return out.astype(np.int64)
    caps = np.full(w.shape, np.inf) if caps is None else np.asarray(caps, dtype=float)
    x = np.zeros_like(w)
    free = (w > 0) & (caps > 0)
    left = float(total)
    for _ in range(w.size + 1):
        if left <= 1e-9 or not free.any():
            break
        share = left * w * free / w[free].sum()
        over = free & (x + share > caps)
        if not over.any():
            x += share
            left = 0.0
            break
        left -= float((caps[over] - x[over]).sum())
        x[over] = caps[over]
        free &= ~over
    out = np.floor(x + 1e-9)
    rem = int(round(total - out.sum()))
    if rem > 0:
        room = np.floor(caps) - out
        ok = (room >= 1) & ((w > 0) if (w > 0).any() else True)
        cand = np.nonzero(ok)[0]
        cand = cand[np.argsort(-(x - out)[cand], kind="stable")]
        if cand.size < rem:
            raise ArgumentError("participation", f"{total} shares do not fit under the participation caps")
        out[cand[:rem]] += 1
    return out.astype(np.int64)


def _session_table(sessions, opts: ScheduleOptions) -> list[dict]:
    return [_session_entry(pd.Timestamp(s), opts.bucket_minutes, tuple(opts.profile)) for s in sessions]


@lru_cache(maxsize=8192)
def _session_entry(s: pd.Timestamp, bucket_minutes: int, profile: tuple) -> dict:
    """One session's buckets (New York HH:MM) and their expected shares of a full session's volume."""
    prof = np.asarray(profile, dtype=float)
    o, c = cal.session_hours(s)
    minutes = int((c - o).total_seconds() // 60)
    bw = bucket_weights(prof / prof.sum(), minutes, bucket_minutes)
    starts = [o + pd.Timedelta(minutes=i * bucket_minutes) for i in range(len(bw))]
    ends = [f"{min(st + pd.Timedelta(minutes=bucket_minutes), c):%H:%M}" for st in starts]
    return {"date": s, "day": s.date(), "day_tag": f"{s:%Y%m%d}", "minutes": minutes, "volume_share": float(bw.sum()), "buckets": bw,
            "starts": [f"{st:%H:%M}" for st in starts], "ends": ends}


def schedule_parent(parent_id: str, ticker: str, side: str, shares: int, sessions: list, adv_shares: float,
                    opts: ScheduleOptions, limit: float | None = None, table: list | None = None) -> tuple[dict, int]:
    """Child orders of one parent (columns ``CHILD_COLUMNS``) and the number of sessions it needs (>= len(sessions))."""
    if shares <= 0:
        return {}, 0
    if not (adv_shares > 0 and math.isfinite(adv_shares)):
        raise ArgumentError("adv", f"{ticker} has no average daily volume at the decision date; it cannot be scheduled")
    sess = list(sessions)
    table = list(table) if table is not None else _session_table(sess, opts)
    cap = lambda d: math.floor(opts.participation * adv_shares * d["volume_share"])  # noqa: E731
    while sum(cap(d) for d in table) < shares:                 # one more session at a time, at the cap
        if len(sess) > MAX_SESSIONS:
            raise ArgumentError("participation", f"{shares} {ticker} shares need more than {MAX_SESSIONS} sessions at "
                                f"{opts.participation:.0%} of its volume ({adv_shares:,.0f} shares a day)")
        extra = cal.sessions_after(sess[-1], 1)
        sess += extra
        table += _session_table(extra, opts)
    caps = np.array([cap(d) for d in table], dtype=float)
    base = len(sessions)
    if caps[:base].sum() >= shares:
        dw = np.array([d["volume_share"] if opts.strategy == "vwap" else d["minutes"] for d in table[:base]], float)
        per_day = split_integer(shares, dw, caps[:base])
    else:                                                      # every given session at its cap, the rest after
        per_day = caps.astype(np.int64)
        per_day[-1] -= int(per_day.sum() - shares)
    used = int(np.nonzero(per_day)[0].max()) + 1
    return _children(parent_id, ticker, side, limit, table[:used], per_day[:used], adv_shares, opts), max(used, base)


def _bucket_split(per_day: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Whole shares per (session, bucket): each row's total in proportion to its weights, largest remainders."""
    x = per_day[:, None] * weights / weights.sum(axis=1, keepdims=True)
    out = np.floor(x + 1e-9)
    rem = (per_day - out.sum(axis=1)).round().astype(np.int64)
    order = np.argsort(-(x - out), axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(len(x))[:, None], order] = np.arange(x.shape[1])
    return (out + ((rank < rem[:, None]) & (weights > 0))).astype(np.int64)


def _children(parent_id, ticker, side, limit, table, per_day, adv_shares, opts) -> dict:
    """Columns of the child orders of one parent (one per nonzero session x bucket)."""
    width = max(len(d["buckets"]) for d in table)
    vol = np.zeros((len(table), width))
    for i, d in enumerate(table):
        vol[i, :len(d["buckets"])] = d["buckets"]
    weights = vol if opts.strategy == "vwap" else (vol > 0).astype(float)
    q = per_day.astype(float)
    live = q > 0
    split = np.zeros(vol.shape, dtype=np.int64)
    split[live] = _bucket_split(q[live], weights[live])
    i, j = np.nonzero(split)
    sh = split[i, j]
    ii, jj = i.tolist(), j.tolist()
    tags = [f"{parent_id}-{d['day_tag']}-" for d in table]
    days = [d["day"] for d in table]
    return {"parent_id": [parent_id] * len(i),
            "child_id": [f"{tags[a]}{b + 1:02d}" for a, b in zip(ii, jj)],
            "date": [days[a] for a in ii],
            "start": [table[a]["starts"][b] for a, b in zip(ii, jj)],
            "end": [table[a]["ends"][b] for a, b in zip(ii, jj)],
            "ticker": [ticker] * len(i), "side": [side] * len(i), "shares": sh,
            "limit": [limit] * len(i), "strategy": [opts.strategy] * len(i),
            "participation": sh / (adv_shares * vol[i, j]), "day_participation": q[i] / adv_shares}


def schedule_orders(parents: pd.DataFrame, start_after, days: int, adv_shares: pd.Series,
                    opts: ScheduleOptions = ScheduleOptions()) -> tuple[pd.DataFrame, dict]:
    """Children of every parent (columns ``CHILD_COLUMNS``; ``start``/``end`` are New York times HH:MM
    on ``date``) and ``{parent_id: sessions needed}``.

    ``parents``: columns parent_id, ticker, side, shares (and optionally limit). Work starts on the
    first NYSE session after ``start_after`` and spans ``days`` sessions.
    """
    if not (isinstance(days, int) and days >= 1):
        raise ArgumentError("--days", f"expected a positive whole number of sessions, got {days!r}")
    sessions = cal.sessions_after(start_after, days)
    table = _session_table(sessions, opts)
    parts, needed = [], {}
    for p in parents.itertuples(index=False):
        lim = getattr(p, "limit", None)
        ch, n = schedule_parent(p.parent_id, p.ticker, p.side, int(p.shares), sessions,
                                float(adv_shares.get(p.ticker, math.nan)), opts,
                                None if lim is None or (isinstance(lim, float) and math.isnan(lim)) else lim, table)
        if ch:
            parts.append(ch)
        needed[p.parent_id] = n
    cols = {c: (np.concatenate([np.asarray(x[c]) for x in parts]) if c in ("shares", "participation",
                                                                          "day_participation")
                else [v for x in parts for v in x[c]]) if parts else [] for c in CHILD_COLUMNS}
    return pd.DataFrame(cols, columns=list(CHILD_COLUMNS)), needed
