"""Multi-step transitions: a target that every per-step limit allows to reach in m rebalances, and the
choice of m (``steps="auto"``).

A one-shot allocation must fit the whole move into one rebalance's turnover and liquidity limits; a
path of m rebalances may move m times as far, each step still within the per-step limits. So the
target of an m-step transition is the allocation under :func:`step_limits` (turnover x m, liquidity
days x m, impact coefficient / m**exponent: m equal slices of a trade Q cost m (Q/m)^(1+e) in
impact), and :func:`engine.optimize.transition.transition_path` then cuts it into m equal steps,
each within the original per-step limits.

- A fixed number of steps K whose limits cannot hold: the smallest m > K that can hold is found
  (feasibility only grows with m, so by bisection), the path goes K/m of the way, and the note says
  after how many rebalances the target would be reached.
- ``auto``: the target of the fewest feasible steps; then, for every step count m from the fewest
  the per-step limits allow up to ``max_steps``, the expected trading cost of the path plus the cost
  of staying off target, risk_aversion x sum over the m holding periods of the active variance
  (w_k - w*)' Sigma (w_k - w*) x (sessions per step / 252); the cheapest m wins. The table is returned.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from engine.costs import CostModel
from engine.errors import ArgumentError, InfeasibleError
from engine.optimize.limits import Limits

MAX_STEPS = 64


def cost_model_of(limits: Limits) -> CostModel:
    """The one CostModel of ``limits`` (``limits.cost_model()`` where it exists; else half spread
    ``cost_bps`` and square-root impact with coefficient ``impact_coef``)."""
    fn = getattr(limits, "cost_model", None)
    if callable(fn):
        return fn()
    return CostModel(half_spread_bps=limits.cost_bps, impact_eta=limits.impact_coef, impact_exponent=0.5)


def step_limits(limits: Limits, m: int) -> Limits:
    """Limits for the target of an m-step path: turnover and liquidity days x m, impact / m**exponent."""
    if m == 1:
        return limits
    f = float(m) ** -cost_model_of(limits).impact_exponent
    costs = getattr(limits, "costs", None)
    scaled = (dict(costs=replace(costs, impact_eta=costs.impact_eta * f)) if costs is not None
              else dict(impact_coef=limits.impact_coef * f))
    return limits.with_(turnover=min(1.0, limits.turnover * m), liquidity_days=limits.liquidity_days * m, **scaled)


def steps_needed(current: pd.Series, target: pd.Series, turnover: float, trade_bound: pd.Series | None) -> float:
    """Fewest equal steps keeping every step within the one-way ``turnover`` and the per-asset
    ``trade_bound`` (fractions of NAV); ``inf`` when an asset that must move cannot trade."""
    idx = list(dict.fromkeys(list(current.index) + list(target.index)))
    w0 = current.reindex(idx).fillna(0.0).to_numpy(float)
    wt = target.reindex(idx).fillna(0.0).to_numpy(float)
    d = wt - w0
    total = 0.5 * (np.abs(d).sum() + abs(wt.sum() - w0.sum()))
    if total <= 1e-12:
        return 1
    need = math.ceil(total / turnover - 1e-9) if turnover > 0 else math.inf
    if trade_bound is not None:
        b = trade_bound.reindex(idx).fillna(0.0).to_numpy(float)
        moving = np.abs(d) > 1e-12
        with np.errstate(divide="ignore"):
            per = np.where(b[moving] > 0, np.abs(d[moving]) / np.where(b[moving] > 0, b[moving], 1), np.inf)
        if per.size:
            need = max(need, math.ceil(per.max() - 1e-9) if np.isfinite(per.max()) else math.inf)
    return max(need, 1)


@dataclass
class StepPlan:
    """The allocation of the chosen plan, its step count and the words and trade-off behind it."""

    allocation: object
    steps: int
    target_steps: int            # the m whose scaled limits the target satisfies
    note: str = ""
    tradeoff: list[dict] = field(default_factory=list)


def _feasible(solve, limits, m):
    try:
        return solve(step_limits(limits, m))
    except InfeasibleError:
        return None


def _smallest_feasible(solve, limits, lo: int, hi: int = MAX_STEPS):
    """(m, allocation) for the smallest m in [lo, hi] whose step limits hold, or (None, None)."""
    best = _feasible(solve, limits, hi)
    if best is None:
        return None, None
    best_m = hi
    while lo < best_m:
        mid = (lo + best_m) // 2
        a = _feasible(solve, limits, mid)
        if a is None:
            lo = mid + 1
        else:
            best_m, best = mid, a
    return best_m, best


def plan_steps(solve: Callable[[Limits], object], limits: Limits, steps, current: pd.Series,
               trade_bound: pd.Series | None = None, tradeoff_fn: Callable[[pd.Series, int], dict] | None = None,
               max_steps: int = 20) -> StepPlan:
    """Target and number of steps for ``steps`` (a positive int or ``"auto"``).

    ``solve(limits) -> Allocation`` runs the allocator; ``trade_bound``: per-step liquidity bound per
    asset; ``tradeoff_fn(target, m) -> {"cost_bps", "risk_bps"}`` prices an m-step path (auto only).
    """
    if steps == "auto":
        return _auto(solve, limits, current, trade_bound, tradeoff_fn, max_steps)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ArgumentError("steps", f"expected a positive whole number of rebalances or 'auto', got {steps!r}")
    try:
        return StepPlan(solve(step_limits(limits, steps)), steps, steps)
    except InfeasibleError as exc:
        m, alloc = _smallest_feasible(solve, limits, steps + 1, max(MAX_STEPS, steps + 1))
        if m is None:
            raise
        why = exc.conflicts[0] if exc.conflicts else str(exc)
        note = (f"the limits cannot all hold within {steps} rebalance{'s' if steps > 1 else ''} ({why}); "
                f"with every per-step limit they hold after {m} rebalances: use --steps {m} (or --steps auto)")
        return StepPlan(alloc, steps, m, note)


def _auto(solve, limits, current, trade_bound, tradeoff_fn, max_steps) -> StepPlan:
    m0, alloc = _smallest_feasible(solve, limits, 1, MAX_STEPS)
    if m0 is None:
        return StepPlan(solve(step_limits(limits, MAX_STEPS)), MAX_STEPS, MAX_STEPS)   # raises the diagnosis
    target = alloc.weights
    need = steps_needed(current, target, limits.turnover, trade_bound)
    need = m0 if not math.isfinite(need) else int(need)
    rows = []
    for m in range(need, max(need, max_steps) + 1):
        r = tradeoff_fn(target, m) if tradeoff_fn else {"cost_bps": 0.0, "risk_bps": 0.0}
        rows.append({"steps": m, "cost_bps": r["cost_bps"], "risk_bps": r["risk_bps"],
                     "total_bps": r["cost_bps"] + r["risk_bps"]})
    best = min(rows, key=lambda r: (round(r["total_bps"], 9), r["steps"]))
    for r in rows:
        r["chosen"] = r is best
    note = (f"--steps auto: {best['steps']} rebalances minimise expected trading cost ({best['cost_bps']:.2f} bps) "
            f"plus the cost of staying off target ({best['risk_bps']:.2f} bps at risk aversion "
            f"{limits.risk_aversion:g}); the per-step limits allow no fewer than {need}")
    if best["steps"] == rows[-1]["steps"] and len(rows) > 1:
        note += f" ({best['steps']} is the most steps considered: the cost still falls with more)"
    return StepPlan(alloc, best["steps"], m0, note, rows)


def path_tradeoff(current: pd.Series, target: pd.Series, m: int, cov: pd.DataFrame, model: CostModel, nav: float,
                  price: pd.Series, sigma_daily: pd.Series, adv_dollars: pd.Series, risk_aversion: float,
                  sessions_per_step: float) -> dict:
    """Expected cost (bps of NAV) of m equal steps from ``current`` to ``target`` and the off-target
    cost risk_aversion x sum_{k<m} (w_k - w*)' Sigma (w_k - w*) x sessions_per_step / 252 (bps)."""
    idx = list(cov.index)
    w0 = current.reindex(idx).fillna(0.0).to_numpy(float)
    wt = target.reindex(idx).fillna(0.0).to_numpy(float)
    d = wt - w0
    per = model.of_weights(d / m, nav, price.reindex(idx).to_numpy(float), sigma_daily.reindex(idx).fillna(0).to_numpy(float),
                           adv_dollars.reindex(idx).to_numpy(float))
    cost = m * float(np.nansum(per))
    var = float(d @ cov.to_numpy(float) @ d)
    share = sum((1 - k / m) ** 2 for k in range(m))       # (w_k - w*) = (1 - k/m)(w0 - w*)
    risk = risk_aversion * var * share * sessions_per_step / 252.0
    return {"cost_bps": 1e4 * cost, "risk_bps": 1e4 * risk}
