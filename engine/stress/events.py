"""Tech selloff events: precise, configurable, de-duplicated.

Definition (defaults in ``[events]``), on adjusted prices P (tech, e.g. XLK) and B (benchmark, SPY):

- drawdown_t = P_t / max(P_{t-60}, ..., P_{t-1}) - 1   (the high of the 60 *prior* sessions)
- relative_t = (P_t / P_{t-40}) / (B_t / B_{t-40}) - 1 (tech return relative to the benchmark)
- the condition holds at t when drawdown_t <= -15% or relative_t <= -8% (NaN windows: it does not hold).

Runs of consecutive sessions where the condition holds are merged into one event while fewer than
``cooldown`` (60) quiet sessions separate them. An event **starts** on the first session of its first
run (known that day: it only needs data up to the start) and **ends** on the last session of its last
run; a new event therefore starts only after at least ``cooldown`` sessions without the condition
since the previous event ended. The last event is ``ongoing`` when the cooldown after its end has not
elapsed by the last session (its end may still move). ``from_calm`` is true when the stress regime at
the start session is the first regime (calm).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.stress.config import EventConfig

EVENT_COLUMNS = ["start", "end", "trigger", "drawdown_at_start", "relative_at_start",
                 "regime_at_start", "from_calm", "ongoing"]


def event_condition(prices: pd.DataFrame, cfg: EventConfig) -> pd.DataFrame:
    """Per session: ``drawdown``, ``relative`` and the boolean ``condition`` (see module doc).

    ``prices``: sessions x tickers with ``cfg.ticker`` and ``cfg.benchmark``. Raises ``DataError`` when
    either column is missing. Uses rows up to t only.
    """
    for col in (cfg.ticker, cfg.benchmark):
        if col not in prices.columns or prices[col].notna().sum() == 0:
            raise DataError(f"price series {col!r} is needed for the event definition but has no data")
    p = prices[cfg.ticker].astype(float)
    b = prices[cfg.benchmark].astype(float)
    high = p.shift(1).rolling(cfg.drawdown_window, min_periods=cfg.drawdown_window).max()
    dd = p / high - 1.0
    w = cfg.underperformance_window
    rel = (p / p.shift(w)) / (b / b.shift(w)) - 1.0
    cond = (dd <= -cfg.drawdown).fillna(False) | (rel <= -cfg.underperformance).fillna(False)
    return pd.DataFrame({"drawdown": dd, "relative": rel, "condition": cond.astype(bool)})


def find_events(prices: pd.DataFrame, cfg: EventConfig, regime: pd.Series | None = None,
                calm: str = "calm") -> pd.DataFrame:
    """Events as a DataFrame with columns ``EVENT_COLUMNS`` (one row per event, in time order).

    ``start``/``end`` are session Timestamps; ``trigger`` is "drawdown", "underperformance" or "both"
    (what held on the start session); ``regime_at_start``/``from_calm`` come from ``regime`` (a
    session-indexed series of regime names; None gives None/False).
    """
    cond = event_condition(prices, cfg)
    c = cond["condition"].to_numpy()
    idx = cond.index
    n = len(c)
    # runs of True
    d = np.diff(np.concatenate([[0], c.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    rows = []
    for s, e in zip(starts, ends):
        if rows and s - rows[-1]["_end"] - 1 < cfg.cooldown:
            rows[-1]["_end"] = e
            continue
        rows.append({"_start": s, "_end": e})
    out = []
    for r in rows:
        s, e = r["_start"], r["_end"]
        dd, rel = cond["drawdown"].iat[s], cond["relative"].iat[s]
        hit_dd = bool(dd <= -cfg.drawdown)
        hit_rel = bool(rel <= -cfg.underperformance)
        trig = "both" if hit_dd and hit_rel else ("drawdown" if hit_dd else "underperformance")
        reg = None
        if regime is not None:
            v = regime.reindex(idx).iat[s]
            reg = v if isinstance(v, str) else None
        out.append({"start": idx[s], "end": idx[e], "trigger": trig,
                    "drawdown_at_start": float(dd), "relative_at_start": float(rel),
                    "regime_at_start": reg, "from_calm": reg == calm,
                    "ongoing": bool(n - 1 - e < cfg.cooldown)})
    return pd.DataFrame(out, columns=EVENT_COLUMNS)


def start_label(sessions: pd.DatetimeIndex, starts, h_min: int, h_max: int) -> pd.Series:
    """Label per session t: 1.0 when an event starts in sessions t+h_min .. t+h_max (inclusive),
    0.0 when none does, NaN when t+h_max is past the last session (the label is not known yet).

    The label at t is known at t+h_max: a walk-forward fit at f may use rows t <= f - h_max only.
    """
    n = len(sessions)
    pos = sessions.get_indexer(pd.DatetimeIndex(starts))
    mark = np.zeros(n + 1)
    for p in pos[pos >= 0]:
        lo, hi = max(p - h_max, 0), p - h_min
        if hi >= 0:
            mark[lo] += 1
            mark[hi + 1] -= 1
    y = (np.cumsum(mark)[:n] > 0).astype(float)
    y[max(n - h_max, 0):] = np.nan
    return pd.Series(y, index=sessions, name="label")


def in_event_mask(sessions: pd.DatetimeIndex, events: pd.DataFrame, h_max: int) -> pd.Series:
    """True on sessions inside an event (from its start to its end, inclusive).

    No new event can start within ``h_max`` sessions of such a session (a trigger then merges into the
    ongoing event), so these sessions are not "at risk": the label there is 0 by construction, and
    counting them would reward a signal for being LOW during crises. The warning model is fitted, and
    every signal is scored, on at-risk sessions only. Whether session s is inside an event is known
    by s + ``h_max`` (the merge window), the same lag as the label, so masking stays walk-forward.
    """
    mask = np.zeros(len(sessions), dtype=bool)
    if len(events):
        lo = sessions.searchsorted(pd.DatetimeIndex(events["start"]))
        hi = sessions.searchsorted(pd.DatetimeIndex(events["end"]), side="right")
        for a, b in zip(lo, hi):
            mask[a:b] = True
    return pd.Series(mask, index=sessions, name="in_event")


def selloff_status(prices: pd.DataFrame, cfg: EventConfig, t) -> dict:
    """Is a tech selloff in progress at session ``t``, using prices up to ``t`` only?

    In progress when the event condition held on any of the last ``cfg.cooldown`` sessions up to t (a
    new trigger would then merge into the running event, so no *new* event can start yet). ``since``
    is the start of that running event. Returns ``{"in_progress": bool, "since": Timestamp | None,
    "drawdown": float, "relative": float}`` (the last two at t).
    """
    past = prices.loc[:pd.Timestamp(t)]
    cond = event_condition(past, cfg)
    recent = bool(cond["condition"].iloc[-cfg.cooldown:].any())
    since = None
    if recent:
        ev = find_events(past, cfg)
        since = ev["start"].iloc[-1] if len(ev) else None
    last = cond.iloc[-1]
    return {"in_progress": recent, "since": since, "drawdown": float(last["drawdown"]),
            "relative": float(last["relative"])}
