"""Dated rebalancing triggers from the daily stress frame."""
from __future__ import annotations

import pandas as pd

TRIGGER_COLUMNS = ["date", "kind", "reason", "regime", "strength"]


def rebalancing_triggers(daily: pd.DataFrame, strength_move: float = 20.0) -> pd.DataFrame:
    """Triggers when the regime changes or strength moves by at least ``strength_move`` points since the
    last trigger (the first session with a regime and strength is the first trigger, kind "start").

    ``daily``: frame with ``regime`` (name or None) and ``strength`` (0-100, NaN allowed; NaN rows are
    skipped). Returns a DataFrame with ``TRIGGER_COLUMNS``; ``kind`` is "start", "regime" or "strength";
    ``reason`` says what changed in words. Sequential: a trigger at t uses rows up to t only.
    """
    reg = daily["regime"].to_numpy(dtype=object)
    st = daily["strength"].to_numpy(dtype=float)
    out = []
    last_reg, last_st = None, None
    for t in range(len(daily)):
        r, s = reg[t], st[t]
        if not isinstance(r, str) or s != s:
            continue
        date = daily.index[t]
        if last_reg is None:
            out.append((date, "start", f"first reading: regime {r}, strength {s:.0f}", r, s))
        elif r != last_reg:
            out.append((date, "regime", f"regime {last_reg} -> {r} (strength {last_st:.0f} -> {s:.0f})", r, s))
        elif abs(s - last_st) >= strength_move:
            word = "rose" if s > last_st else "fell"
            out.append((date, "strength", f"strength {word} from {last_st:.0f} to {s:.0f} "
                        f"(threshold {strength_move:g}) in regime {r}", r, s))
        else:
            continue
        last_reg, last_st = r, s
    return pd.DataFrame(out, columns=TRIGGER_COLUMNS)
