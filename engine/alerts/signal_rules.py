"""Alert rules on the daily stress frame: regime changes, strength moves, warning crossings, re-entry.

Input ``daily``: the frame of ``engine.stress.pipeline.StressResult.daily`` (indexed by session; columns
``index, change_20d, regime, strength, warning_probability``; regime None and NaN values are sessions
without a reading and are skipped). Every rule walks forward and keeps its own state, so an alert dated
t uses rows up to t only.
"""
from __future__ import annotations

import pandas as pd

from engine.alerts.config import REGIMES, AlertConfig
from engine.alerts.model import Alert, num
from engine.universe import DEFENSIVE, TECH

DEF = ", ".join(DEFENSIVE)


_READ = ("index", "percentile", "strength", "change_20d", "warning_probability")


def _reading(daily: pd.DataFrame, t: int) -> dict:
    """The numbers of session ``t`` (plain floats, None for NaN; percentile None when absent)."""
    return {k: (num(daily[k].iat[t]) if k in daily.columns else None) for k in _READ}


def _ordinal(x: float) -> str:
    n = int(round(x))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _numbers(v: dict) -> str:
    parts = [f"index {v['index']:.2f} sd" if v["index"] is not None else "index n/a"]
    if v.get("percentile") is not None:
        parts.append(f"{_ordinal(v['percentile'])} percentile")
    if v["strength"] is not None:
        parts.append(f"strength {v['strength']:.0f}")
    if v["change_20d"] is not None:
        parts.append(f"20-session change {v['change_20d']:+.2f}")
    return ", ".join(parts)


def _regime_advice(old: str, new: str, date: pd.Timestamp, cfg: AlertConfig, tech_cap: float) -> str:
    up = REGIMES.index(new) > REGIMES.index(old)
    if up and new in ("stress", "crisis"):
        return (f"rotate defensively: consider cutting {TECH} toward its {tech_cap:.0%} cap and adding {DEF} "
                f"over {cfg.reentry_steps} steps (rotation optimize --as-of {date:%Y-%m-%d} --steps "
                f"{cfg.reentry_steps})")
    if up:
        return f"watch: review the {TECH} weight against its {tech_cap:.0%} cap; no rule requires a trade yet"
    if old in cfg.reentry_from and new in cfg.reentry_to:
        return (f"hold the defensive book for now: re-entry is signalled after {cfg.reentry_sessions} sessions "
                "out of stress with the index falling")
    if new in cfg.reentry_from:
        return f"stay defensive: the regime is still {new}"
    return "no action: stress is lower"


def regime_alerts(daily: pd.DataFrame, cfg: AlertConfig, tech_cap: float = 0.25) -> list[Alert]:
    """One alert per regime change: ``regime_entered`` when it rises, ``regime_left`` when it falls.
    The first reading is a starting point, not a change. Values: from, to, index, percentile, strength,
    change_20d, warning_probability."""
    if not cfg.regime_enabled:
        return []
    out, last = [], None
    regimes = daily["regime"].to_numpy(dtype=object)
    for t, r in enumerate(regimes):
        if not isinstance(r, str):
            continue
        if last is not None and r != last:
            date = daily.index[t]
            v = {"from": last, "to": r, **_reading(daily, t)}
            up = REGIMES.index(r) > REGIMES.index(last)
            msg = (f"regime entered {r.upper()} from {last}" if up else f"regime left {last.upper()} for {r}")
            out.append(Alert(date, "regime_entered" if up else "regime_left", f"{msg}: {_numbers(v)}",
                             _regime_advice(last, r, date, cfg, tech_cap), v))
        last = r
    return out


def strength_alerts(daily: pd.DataFrame, cfg: AlertConfig) -> list[Alert]:
    """``strength`` when signal strength moved by at least ``cfg.strength_move`` points since the last
    strength alert (the first reading is the reference)."""
    out, ref = [], None
    st = daily["strength"].to_numpy(dtype=float)
    for t, s in enumerate(st):
        if s != s:
            continue
        if ref is not None and abs(s - ref) >= cfg.strength_move:
            v = {"from": float(ref), "to": float(s), "move": float(s - ref), "threshold": cfg.strength_move,
                 "regime": daily["regime"].iloc[t], **_reading(daily, t)}
            word = "rose" if s > ref else "fell"
            advice = ("review the defensive tilt: the signal is stronger" if s > ref
                      else "review the defensive tilt: the signal is weaker")
            out.append(Alert(daily.index[t], "strength", f"signal strength {word} from {ref:.0f} to {s:.0f} "
                             f"({s - ref:+.0f} points, threshold {cfg.strength_move:g}) in regime {v['regime']}",
                             advice, v))
        if ref is None or abs(s - ref) >= cfg.strength_move:
            ref = s
    return out


def warning_alerts(daily: pd.DataFrame, cfg: AlertConfig, threshold: float) -> list[Alert]:
    """``warning_on`` when the warning probability rises above ``threshold``; once fired, the rule
    re-arms (and says so with ``warning_off``) only after the probability falls below ``cfg.warning_clear``."""
    out, armed = [], True
    clear = min(cfg.warning_clear, threshold)
    p = daily["warning_probability"].to_numpy(dtype=float)
    for t, x in enumerate(p):
        if x != x:
            continue
        if not ((armed and x > threshold) or (not armed and x < clear)):
            continue
        v = {"probability": float(x), "threshold": threshold, "clear": clear, **_reading(daily, t)}
        if armed:
            out.append(Alert(daily.index[t], "warning_on", f"early warning: P(a new tech selloff starts in 20-60 "
                             f"sessions) {x:.1%} rose above {threshold:.0%}; {_numbers(v)}",
                             f"consider reducing {TECH} toward its cap; check how reliable this warning has been "
                             "(rotation signals validate)", v))
            armed = False
        else:
            out.append(Alert(daily.index[t], "warning_off", f"early warning cleared: probability {x:.1%} fell "
                             f"below {clear:.0%}", "no action required by this rule", v))
            armed = True
    return out


def reentry_alerts(daily: pd.DataFrame, cfg: AlertConfig, tech: pd.DataFrame | None = None) -> list[Alert]:
    """``reentry`` when stress normalizes: the regime came down from ``cfg.reentry_from`` into
    ``cfg.reentry_to``, stayed there ``cfg.reentry_sessions`` sessions in a row (the exit session counts
    as the first), and the index is falling (20-session change < 0; if it is not yet, the alert waits
    for the first such session). Re-armed only after the regime is back in ``reentry_from``.

    ``tech`` (optional): frame indexed by date with columns ``book`` and ``benchmark`` (XLK weights),
    used to put the book's numbers in the recommendation (last row at or before the alert)."""
    out = []
    armed, count, exit_t, came_from = False, 0, None, None
    regimes = daily["regime"].to_numpy(dtype=object)
    chg = daily["change_20d"].to_numpy(dtype=float)
    for t, r in enumerate(regimes):
        if not isinstance(r, str):
            continue
        if r in cfg.reentry_from:
            armed, count, exit_t, came_from = True, 0, None, r
            continue
        if not armed or r not in cfg.reentry_to:
            count = 0
            continue
        count += 1
        exit_t = t if count == 1 else exit_t
        if count >= cfg.reentry_sessions and chg[t] < 0:
            out.append(_reentry(daily, t, exit_t, came_from, count, cfg, tech))
            armed = False
    return out


def _reentry(daily, t, exit_t, came_from, count, cfg, tech) -> Alert:
    date = daily.index[t]
    v = {"regime": daily["regime"].iloc[t], "from": came_from, "exit_date": f"{daily.index[exit_t]:%Y-%m-%d}",
         "sessions": count, "index_at_exit": num(daily["index"].iloc[exit_t]), **_reading(daily, t)}
    advice = f"re-entry: consider returning {TECH} toward its benchmark weight over {cfg.reentry_steps} steps"
    if tech is not None and len(tech.loc[:date]):
        row = tech.loc[:date].iloc[-1]
        v.update(book_tech=num(row["book"]), benchmark_tech=num(row["benchmark"]))
        if v["book_tech"] is not None and v["benchmark_tech"] is not None:
            advice += f" (book {v['book_tech']:.1%}, benchmark {v['benchmark_tech']:.1%})"
    msg = (f"stress normalizing: {count} sessions in {v['regime']} since leaving {came_from} on {v['exit_date']}, "
           f"index falling ({v['index_at_exit']:.2f} at the exit, now {_numbers(v)})")
    return Alert(date, "reentry", msg, advice, v)
