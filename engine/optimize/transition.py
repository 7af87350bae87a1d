"""A gradual path from current weights to a target within the turnover and liquidity limits.

The path moves in a straight line in weight space, w_k = w0 + (k/m) (target - w0), in the fewest
equal steps m that keep every step within the one-way turnover limit and each asset's liquidity bound,
and never fewer than asked if more steps are allowed (``spread=True``): because impact is a 3/2 power
of the trade, splitting a trade into m equal slices costs m (Q/m)^1.5 = Q^1.5 / sqrt(m) in impact, so
equal slices are the cheapest schedule for a given number of steps (convexity), and more steps are
cheaper. Every step's cost is charged with ``limits.cost_model()`` (:class:`engine.costs.CostModel`, the
model the optimizer and the simulator charge).
If the target cannot be reached in ``steps`` rebalances, the path goes as far as the limits allow and
says so in ``attrs["message"]``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from engine.optimize.limits import Limits


def transition_path(current: pd.Series, target: pd.Series, steps: int, limits: Limits | None = None,
                    impact: pd.Series | None = None, trade_bound: pd.Series | None = None,
                    spread: bool = True, prices: pd.Series | None = None) -> pd.DataFrame:
    """Rows ``0..steps`` (0 = current): weights per ticker, ``cash``, ``turnover`` (one-way, of that step)
    and ``cost_bps`` (of that step, basis points of portfolio value).

    ``current``/``target``: weights by ticker (sum <= 1, the rest is cash). ``impact``: k_i from
    :func:`engine.optimize.costs.impact_coefficients` (None = linear cost only). ``trade_bound``: max |trade|
    per asset per step as a fraction (liquidity), None = no bound. ``prices``: per-ticker prices for a
    per-share commission (None: that term is dropped). ``attrs``: ``reached`` (bool),
    ``steps_needed`` and ``message``.
    """
    limits = limits or Limits()
    if not isinstance(steps, int) or steps < 1:
        raise ArgumentError("steps", f"expected a positive whole number of rebalances, got {steps!r}")
    tickers = list(dict.fromkeys(list(current.index) + list(target.index)))
    w0 = current.reindex(tickers).fillna(0.0).to_numpy(float)
    wt = target.reindex(tickers).fillna(0.0).to_numpy(float)
    for name, v in (("current", w0), ("target", wt)):
        if (v < -1e-12).any() or v.sum() > 1 + 1e-9:
            raise ArgumentError(name, "weights must be non-negative and sum to at most 1")
    delta = wt - w0
    dcash = (1 - wt.sum()) - (1 - w0.sum())
    total_turn = 0.5 * (np.abs(delta).sum() + abs(dcash))
    k = np.zeros(len(tickers)) if impact is None else impact.reindex(tickers).fillna(0.0).to_numpy(float)
    model = limits.cost_model()
    lin = model.linear_rate(np.full(len(tickers), np.nan) if prices is None
                            else prices.reindex(tickers).to_numpy(float))
    bound = None if trade_bound is None else trade_bound.reindex(tickers).fillna(0.0).to_numpy(float)

    # fewest equal steps that respect turnover and liquidity
    need = 1 if total_turn <= 1e-12 else math.ceil(total_turn / limits.turnover - 1e-9) if limits.turnover > 0 else math.inf
    if bound is not None:
        moving = np.abs(delta) > 1e-12
        if moving.any():
            with np.errstate(divide="ignore"):
                per = np.where(bound[moving] > 0, np.abs(delta[moving]) / bound[moving], np.inf)
            need = max(need, math.ceil(per.max() - 1e-9) if np.isfinite(per.max()) else math.inf)
    need = max(need, 1)
    if need <= steps:
        m = steps if spread else need
        fractions = [min(1.0, j / m) for j in range(steps + 1)]
        reached = True
        msg = f"target reached in {m if spread else need} of {steps} rebalances"
    else:
        # go as far as allowed: each step the largest equal slice the limits permit
        if not math.isfinite(need):
            fractions = [0.0] * (steps + 1)
            msg = "the target cannot be approached: turnover limit 0 or no liquidity in an asset that must trade"
        else:
            fractions = [j / need for j in range(steps + 1)]
            msg = (f"target not reached: it needs {need} rebalances within turnover {limits.turnover:.0%} "
                   f"and liquidity limits; after {steps} the portfolio is {steps / need:.0%} of the way")
        reached = False
    rows = []
    prev = w0
    for j, f in enumerate(fractions):
        w = w0 + f * delta
        trade = w - prev
        c = 0.0 if j == 0 else float(lin @ np.abs(trade) + k @ np.abs(trade) ** (1 + model.impact_exponent))
        cash = 1 - w.sum()
        turn = 0.0 if j == 0 else 0.5 * (np.abs(trade).sum() + abs(cash - (1 - prev.sum())))
        rows.append(list(w) + [cash, turn, 1e4 * c])
        prev = w
    out = pd.DataFrame(rows, columns=tickers + ["cash", "turnover", "cost_bps"])
    out.index.name = "step"
    out.attrs.update(reached=reached, steps_needed=need, message=msg)
    return out
