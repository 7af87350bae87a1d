"""Alert rules on the book against its targets: the tech weight band and total drift.

``book``: daily weights of the real book (date x ticker, fractions of NAV; cash is what is left),
``target``: the target weights in force at each date (same shape; forward-filled from the decisions).
Rows where either is missing are skipped. An alert dated t uses rows up to t only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.alerts.config import AlertConfig
from engine.alerts.model import Alert


def _aligned(book: pd.DataFrame, target: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = sorted(set(book.columns) | set(target.columns))
    idx = book.index.intersection(target.index)
    b = book.reindex(index=idx, columns=cols).fillna(0.0)
    w = target.reindex(index=idx, columns=cols).fillna(0.0)
    ok = book.reindex(idx).notna().any(axis=1) & target.reindex(idx).notna().any(axis=1)
    return b[ok.to_numpy()], w[ok.to_numpy()]


def _band(values: np.ndarray, band: float, clear: float):
    """Positions where |values| first exceeds ``band`` after being back within ``clear`` (or at the start)."""
    armed = True
    for t, x in enumerate(values):
        if armed and abs(x) > band:
            armed = False
            yield t
        elif not armed and abs(x) <= clear:
            armed = True


def tech_alerts(book: pd.DataFrame, target: pd.DataFrame, cfg: AlertConfig, tech_cap: float = 0.25) -> list[Alert]:
    """``tech_band`` when the tech weight leaves target +/- ``cfg.tech_band`` (re-armed within
    +/- ``cfg.tech_clear``). Values: book, target, deviation, band, cap, over_cap."""
    b, w = _aligned(book, target)
    tk = cfg.tech_ticker
    if tk not in b.columns or b.empty:
        return []
    dev = (b[tk] - w[tk]).to_numpy()
    out = []
    for t in _band(dev, cfg.tech_band, cfg.tech_clear):
        date, wb, wt = b.index[t], float(b[tk].iloc[t]), float(w[tk].iloc[t])
        v = {"ticker": tk, "book": wb, "target": wt, "deviation": wb - wt, "band": cfg.tech_band,
             "cap": tech_cap, "over_cap": wb > tech_cap + 1e-12}
        side = "over" if wb > wt else "under"
        cap = f", above its {tech_cap:.0%} cap" if v["over_cap"] else ""
        out.append(Alert(date, "tech_band", f"{tk} at {wb:.1%} of the book is {abs(wb - wt):.1%} {side} its "
                         f"{wt:.1%} target (band {cfg.tech_band:.0%}){cap}",
                         f"rebalance {tk} toward {wt:.1%} (rotation trades --holdings FILE)", v))
    return out


def drift_alerts(book: pd.DataFrame, target: pd.DataFrame, cfg: AlertConfig) -> list[Alert]:
    """``drift`` (a rebalancing trigger) when total one-way drift 0.5 * sum |w - target| exceeds
    ``cfg.drift_band`` (re-armed below ``cfg.drift_clear``). Values: drift, band and the three largest
    deviations by ticker."""
    b, w = _aligned(book, target)
    if b.empty:
        return []
    dev = b - w
    drift = 0.5 * dev.abs().sum(axis=1).to_numpy()
    out = []
    for t in _band(drift, cfg.drift_band, cfg.drift_clear):
        row = dev.iloc[t]
        top = row.reindex(row.abs().sort_values(ascending=False).index[:3])
        v = {"drift": float(drift[t]), "band": cfg.drift_band,
             "largest": {k: float(x) for k, x in top.items()}}
        parts = ", ".join(f"{k} {x:+.1%}" for k, x in top.items())
        out.append(Alert(b.index[t], "drift", f"total drift from the targets {drift[t]:.1%} one-way exceeds the "
                         f"{cfg.drift_band:.0%} band (largest: {parts})",
                         "rebalancing trigger: generate the trade list back to the targets "
                         "(rotation trades --holdings FILE)", v))
    return out
