"""Brinson-Fachler attribution by sector and period, linked across periods (Carino, or GRAP).

Per period t and sector i (weights held through the period, returns of the period):

    allocation_i  = (wp_i - wb_i) (rb_i - Rb)
    selection_i   =  wb_i (rp_i - rb_i)
    interaction_i = (wp_i - wb_i) (rp_i - rb_i)

With sum_i wp_i = sum_i wb_i = 1 (cash is a sector with benchmark weight 0; a levered book has a
negative cash weight) and Rb = sum_i wb_i rb_i, the three sum over sectors to sum_i wp_i rp_i - Rb.
The portfolio's net return Rp also pays trading costs: ``costs`` = Rp - sum_i wp_i rp_i (<= 0), so
every period's effects sum to Rp - Rb exactly.

Linking (arithmetic effects do not add across periods because returns compound):
- Carino (1999): effect_t * k_t / k, k_t = (ln(1+Rp_t) - ln(1+Rb_t)) / (Rp_t - Rb_t) (1/(1+Rp_t) when
  equal) and k the same on the cumulative returns; the linked effects sum to the cumulative Rp - Rb.
- GRAP: effect_t * prod_{s<t}(1+Rp_s) * prod_{s>t}(1+Rb_s); they sum to the same total.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import ArgumentError

EFFECTS = ("allocation", "selection", "interaction")


def _k(r, b):
    r, b = np.asarray(r, float), np.asarray(b, float)
    d = r - b
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (np.log1p(r) - np.log1p(b)) / d
    return np.where(np.abs(d) < 1e-15, 1.0 / (1.0 + r), k)


def link_factors(rp, rb, method: str = "carino") -> np.ndarray:
    """Per-period multipliers that make arithmetic effects add up to the cumulative active return."""
    rp, rb = np.asarray(rp, float), np.asarray(rb, float)
    if method == "carino":
        R, B = np.prod(1 + rp) - 1, np.prod(1 + rb) - 1
        return _k(rp, rb) / _k(R, B)
    if method == "grap":
        before = np.r_[1.0, np.cumprod(1 + rp)[:-1]]
        after = np.r_[np.cumprod((1 + rb)[::-1])[::-1][1:], 1.0]
        return before * after
    raise ArgumentError("method", f"expected carino or grap, got {method!r}")


@dataclass
class Attribution:
    """``by_period``: MultiIndex (period, sector) x (allocation, selection, interaction) linked effects
    summed within each period label; ``sectors``: linked totals per sector (+ ``total``); ``costs``:
    linked cost effect; ``active_return``: cumulative Rp - Rb; ``daily``: unlinked per-period frame."""

    sectors: pd.DataFrame
    by_period: pd.DataFrame
    costs: float
    active_return: float
    portfolio_return: float
    benchmark_return: float
    method: str

    @property
    def total(self) -> float:
        return float(self.sectors["total"].sum() + self.costs)

    def to_dict(self) -> dict:
        return {"method": self.method, "active_return": self.active_return, "total": self.total,
                "costs": self.costs, "portfolio_return": self.portfolio_return,
                "benchmark_return": self.benchmark_return,
                "sectors": {s: {k: float(v) for k, v in row.items()} for s, row in self.sectors.iterrows()}}


def brinson_fachler(wp: pd.DataFrame, rp: pd.DataFrame, Rp: pd.Series, wb: pd.DataFrame, rb: pd.DataFrame,
                    method: str = "carino", period: str | None = "M") -> Attribution:
    """Linked Brinson-Fachler effects.

    ``wp``, ``wb``: period x sector weights held through each period (rows sum to 1, cash included as
    a column); ``rp``, ``rb``: period x sector returns of the portfolio's and the benchmark's holdings
    (NaN where a sector has no holding counts as 0); ``Rp``: the portfolio's net return per period.
    ``period``: group the linked effects by month (``M``), year (``Y``) or not at all (None).
    """
    cols = list(dict.fromkeys(list(wp.columns) + list(wb.columns)))
    idx = Rp.index
    f = lambda x: x.reindex(index=idx, columns=cols).fillna(0.0).to_numpy(float)  # noqa: E731
    WP, WB, RPs, RBs = f(wp), f(wb), f(rp), f(rb)
    Rb = (WB * RBs).sum(axis=1)
    Rpv = Rp.to_numpy(float)
    dw = WP - WB
    eff = {"allocation": dw * (RBs - Rb[:, None]), "selection": WB * (RPs - RBs), "interaction": dw * (RPs - RBs)}
    costs = Rpv - (WP * RPs).sum(axis=1)
    lf = link_factors(Rpv, Rb, method)
    linked = {k: v * lf[:, None] for k, v in eff.items()}
    sectors = pd.DataFrame({k: v.sum(axis=0) for k, v in linked.items()}, index=cols)
    sectors["total"] = sectors[list(EFFECTS)].sum(axis=1)
    labels = (idx.to_period(period).astype(str) if period else pd.Index(idx.astype(str)))
    frames = {k: pd.DataFrame(v, index=labels, columns=cols).groupby(level=0).sum().stack() for k, v in linked.items()}
    by_period = pd.DataFrame(frames)
    by_period.index.names = ["period", "sector"]
    R, B = float(np.prod(1 + Rpv) - 1), float(np.prod(1 + Rb) - 1)
    return Attribution(sectors=sectors, by_period=by_period, costs=float((costs * lf).sum()),
                       active_return=R - B, portfolio_return=R, benchmark_return=B, method=method)


def split_tracking_error(active: pd.Series, in_transition: pd.Series) -> dict:
    """Annualized tracking error of daily active returns inside multi-step transitions and outside them."""
    a = active.dropna()
    m = in_transition.reindex(a.index).fillna(False).astype(bool)
    te = lambda x: float(x.std(ddof=1) * np.sqrt(252)) if len(x) > 1 else float("nan")  # noqa: E731
    return {"transition": te(a[m]), "other": te(a[~m]), "transition_sessions": int(m.sum()),
            "other_sessions": int((~m).sum())}
