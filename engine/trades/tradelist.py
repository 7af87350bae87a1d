"""Whole-share trade lists: from a book (shares + cash) to target weights.

One step (:func:`trade_step`), at fixed decision prices:

1. NAV = sum(shares x price) + cash. The target book in shares is
   ``target_w x (NAV - reserve) / price`` where the reserve is the expected trading cost of the
   step's orders (the shared :class:`engine.costs.CostModel`, iterated to a fixed point) plus the
   cash buffer (a fraction of NAV); whole shares by rounding to the nearest share (or round lot).
2. Never short: a sell is at most the shares held. Orders below ``min_notional`` are dropped
   (except a sell that closes a position the target drops to zero).
3. Cash-feasible: sells fund buys; if the rounded buys plus every order's cost exceed the cash
   available above the buffer, buys are cut (largest prices first, one share or lot at a time).
Residual drift = weight after - target weight, per ticker and in total (one-way, 0.5 x sum |.|).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.costs import CostModel
from engine.errors import ArgumentError


@dataclass(frozen=True)
class TradeOptions:
    """Order rules: ``min_notional`` dollars, ``round_lot`` shares (1 = odd lots allowed),
    ``cash_buffer`` fraction of NAV kept in cash."""

    min_notional: float = 0.0
    round_lot: int = 1
    cash_buffer: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.min_notional, (int, float)) and self.min_notional >= 0):
            raise ArgumentError("min_notional", f"expected dollars >= 0, got {self.min_notional!r}")
        if not (isinstance(self.round_lot, int) and self.round_lot >= 1):
            raise ArgumentError("round_lot", f"expected a whole number of shares >= 1, got {self.round_lot!r}")
        if not (isinstance(self.cash_buffer, (int, float)) and 0 <= self.cash_buffer < 1):
            raise ArgumentError("cash_buffer", f"expected a fraction of NAV in [0, 1), got {self.cash_buffer!r}")


@dataclass
class Market1:
    """Per-ticker decision data of one step: price, daily volatility and ADV in dollars."""

    price: pd.Series
    sigma_daily: pd.Series
    adv_dollars: pd.Series

    def costs(self, model: CostModel, tickers, shares: np.ndarray) -> np.ndarray:
        p = self.price.reindex(tickers).to_numpy(float)
        return model.dollars(shares * p, p, self.sigma_daily.reindex(tickers).fillna(0).to_numpy(float),
                             self.adv_dollars.reindex(tickers).to_numpy(float))


@dataclass
class StepResult:
    """Orders (signed whole shares per ticker), the book after, and the measures of one step."""

    orders: pd.Series            # signed shares, only nonzero
    cost: pd.Series              # expected cost in dollars per order
    shares_after: pd.Series
    cash_after: float
    nav: float
    target_shares: pd.Series     # the exact (fractional) target book
    weights_after: pd.Series
    drift: pd.Series             # weights_after - target

    @property
    def residual_drift(self) -> float:
        return float(0.5 * self.drift.abs().sum())


def _round(x: np.ndarray, lot: int) -> np.ndarray:
    return np.round(x / lot) * lot


def trade_step(shares: pd.Series, cash: float, target: pd.Series, mkt: Market1, model: CostModel,
               opts: TradeOptions = TradeOptions()) -> StepResult:
    """Whole-share orders taking the book (``shares``, ``cash``) to ``target`` weights (see module doc)."""
    tickers = list(dict.fromkeys(list(shares.index) + list(target.index)))
    held = shares.reindex(tickers).fillna(0).to_numpy(float)
    w = target.reindex(tickers).fillna(0.0).to_numpy(float)
    if (w < -1e-12).any() or w.sum() > 1 + 1e-9:
        raise ArgumentError("target", "weights must be non-negative and sum to at most 1")
    p = mkt.price.reindex(tickers).to_numpy(float)
    need_price = (held > 0) | (w > 0)
    if (~(np.isfinite(p) & (p > 0)) & need_price).any():
        bad = [t for t, ok, n in zip(tickers, np.isfinite(p) & (p > 0), need_price) if n and not ok]
        raise ArgumentError("prices", f"no price at the decision date for {', '.join(bad)}")
    p = np.where(np.isfinite(p) & (p > 0), p, 1.0)          # tickers neither held nor wanted: never traded
    sig = mkt.sigma_daily.reindex(tickers).fillna(0).to_numpy(float)
    adv = mkt.adv_dollars.reindex(tickers).to_numpy(float)

    def costs(shares: np.ndarray) -> np.ndarray:
        return model.dollars(shares * p, p, sig, adv)

    nav = float(held @ p + cash)
    if nav <= 0:
        raise ArgumentError("holdings", "the book has no value (no shares with a price and no cash)")
    reserve_cost = 0.0
    for _ in range(4):                          # cost reserve to a fixed point (converges in 2-3 passes)
        exact = w * (nav - reserve_cost - opts.cash_buffer * nav) / p
        order = _orders(held, exact, p, w, opts)
        c = float(costs(order).sum())
        if abs(c - reserve_cost) <= 0.01:
            break
        reserve_cost = c
    order = _fund(order, held, p, cash, nav, costs, opts)
    cost = costs(order)
    after = held + order
    cash_after = float(cash - order @ p - cost.sum())
    w_after = after * p / nav
    idx = pd.Index(tickers)
    nz = order != 0
    return StepResult(orders=pd.Series(order[nz].astype(np.int64), index=idx[nz]),
                      cost=pd.Series(cost[nz], index=idx[nz]),
                      shares_after=pd.Series(after.astype(np.int64), index=idx), cash_after=cash_after, nav=nav,
                      target_shares=pd.Series(exact, index=idx), weights_after=pd.Series(w_after, index=idx),
                      drift=pd.Series(w_after - w, index=idx))


def _orders(held, exact, p, w, opts: TradeOptions) -> np.ndarray:
    order = _round(exact - held, opts.round_lot)
    order = np.where(w <= 0, -held, order)                      # a dropped position is sold in full
    order = np.maximum(order, -held)                            # never short
    small = (np.abs(order) * p < opts.min_notional) & ~((w <= 0) & (held > 0))
    return np.where(small, 0.0, order)


def _fund(order, held, p, cash, nav, costs, opts) -> np.ndarray:
    """Cut buys until sells + cash pay for them and every order's cost, above the cash buffer."""
    order = order.copy()
    floor = opts.cash_buffer * nav

    def short_by() -> float:
        return float(order @ p + costs(order).sum() - cash + floor)

    gap = short_by()
    if gap <= 0:
        return order
    buys = order > 0
    buy_total = float(order[buys] @ p[buys])
    if buy_total > 0 and gap > p[buys].sum() * opts.round_lot:        # far short: scale every buy down first
        f = max(0.0, 1 - gap / buy_total * 1.001)
        order[buys] = np.floor(order[buys] * f / opts.round_lot) * opts.round_lot
    for i in np.argsort(-p):
        while order[i] > 0 and short_by() > 0:
            order[i] -= opts.round_lot
        if short_by() <= 0:
            break
    if short_by() > 1e-6:
        raise ArgumentError("cash_buffer", f"the sells and cash cannot fund the orders' costs and a cash buffer "
                            f"of {opts.cash_buffer:.2%} of NAV")
    return np.maximum(order, -held)


def turnover_of(orders: pd.Series, price: pd.Series, nav: float, cash_change: float) -> float:
    """One-way turnover of a step: 0.5 x (sum |notional| + |cash change|) / NAV."""
    notional = (orders.abs() * price.reindex(orders.index)).sum()
    return float(0.5 * (notional + abs(cash_change)) / nav) if nav > 0 else math.nan
