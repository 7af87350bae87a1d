"""The baseline every bond-stress product must beat (issue 16 item 6): "move 10 pp from XLK to XLU/XLP/XLV
when the HY spread's 20-session change z-score exceeds 1".

Precisely, at each decision session t (the backtest's schedule, monthly by default):

- z_t = (c_t - mean) / sd, where c = the 20-session change of the ICE BofA US High Yield OAS (``hy_oas``)
  and mean/sd are over the 252 sessions of c ending at t (a full window is needed) -- the same formula as the
  research candidate ``hy_chg20_z``. The spread is read from ``market.asof(t)``, where FRED series sit at
  the session they are *published* (the next morning), so z_t uses the OAS of t-1 at the latest.
- the base weights are the base policy's at t (by default the SPY sector replication re-estimated at t, the
  product's benchmark);
- when z_t > 1 (strictly), min(10 pp, w_XLK) is taken from XLK and split equally over XLU, XLP and XLV;
  otherwise (z_t <= 1, or z_t undefined: too little history, spread missing on t) the base weights stand.

``hy-rule-nosignal`` is the same policy with the tilt switched off (the base alone, charged the same costs),
so the IR of ``hy-rule`` against it is what the rule itself adds after costs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.signals_research.candidates import trailing_z

DEFENSIVE = ("XLU", "XLP", "XLV")


def hy_change_z(hy_oas: pd.Series, window: int = 20, zwindow: int = 252) -> float:
    """z-score at the last row of the ``window``-session change of ``hy_oas`` over its trailing
    ``zwindow`` values (NaN when undefined)."""
    tail = hy_oas.iloc[-(window + zwindow + 1):].astype(float)
    z = trailing_z(tail.diff(window), zwindow)
    return float(z.iloc[-1]) if len(z) else float("nan")


def tilt(weights: pd.Series, shift: float = 0.10, source: str = "XLK", to=DEFENSIVE) -> pd.Series:
    """``weights`` with min(``shift``, w[source]) moved from ``source`` equally to ``to``."""
    w = weights.astype(float).copy()
    moved = min(shift, float(w.get(source, 0.0)))
    if moved <= 0:
        return w
    w[source] -= moved
    for t in to:
        w[t] = w.get(t, 0.0) + moved / len(to)
    return w


class HYRule:
    """The HY-change rule over a base policy (module doc). ``use_signal=False``: the base alone."""

    def __init__(self, base, threshold: float = 1.0, shift: float = 0.10, window: int = 20, zwindow: int = 252,
                 use_signal: bool = True, name: str = "hy-rule"):
        self.base, self.threshold, self.shift, self.window, self.zwindow = base, threshold, shift, window, zwindow
        self.use_signal, self.name = use_signal, name
        self.tickers = list(dict.fromkeys(list(base.tickers) + ["XLK", *DEFENSIVE]))
        self.uses_book = getattr(base, "uses_book", True)
        self.signals: dict = {}          # decision date -> z_t (what the rule saw)

    def target(self, view, t, current) -> pd.Series:
        w = self.base.target(view, t, current).reindex(self.tickers).fillna(0.0)
        if not self.use_signal:
            return w
        hy = view.stress["hy_oas"] if "hy_oas" in view.stress.columns else pd.Series(dtype=float)
        z = hy_change_z(hy.reindex(view.prices.index), self.window, self.zwindow) if len(hy) else np.nan
        self.signals[pd.Timestamp(t)] = z
        return tilt(w, self.shift) if np.isfinite(z) and z > self.threshold else w
