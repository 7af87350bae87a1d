"""The book: shares per ticker plus cash, marked at every close; orders fill at a close.

Timing at the close of session s (in this order): cash accrues one session of interest at the
3-month T-bill of the PREVIOUS session (DGS3MO_{s-1} / 100 / 252; a negative balance pays it plus
``financing_spread_bps``), the book is marked (NAV = cash + shares . price_s), then orders due at s
fill at price_s. Prices are total-return (adjusted) closes, so dividends are in the marks.

A fill of target weights w (gross exposure sum(w), may exceed 1 with leverage) from pre-trade NAV V
and holdings h (dollars) finds the post-cost NAV V' that solves V' = V - C(w V' - h), C the
:class:`engine.costs.CostModel` dollar cost summed over orders (a fixed point: C is small and
Lipschitz, it converges in a few steps). Then shares = w V' / price and cash = V' - sum(w V'); the
book identity cash + shares . price = NAV holds exactly after every fill.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.costs import CostModel
from engine.errors import ArgumentError


@dataclass
class Arrays:
    """Numeric inputs of a simulation, rows = sessions, columns = tickers (all float arrays).

    ``price``: total-return close (NaN before a ticker trades); ``raw``: raw close for a per-share
    commission (may equal price); ``sigma``, ``adv``: daily volatility and average dollar volume known
    at each session (for impact; NaN = unknown, no impact); ``rf``: DGS3MO in percent per session
    (NaN = 0). ``vix``: VIX close per session (NaN allowed).
    """

    price: np.ndarray
    raw: np.ndarray
    sigma: np.ndarray
    adv: np.ndarray
    rf: np.ndarray
    vix: np.ndarray


class Book:
    """Shares and cash over the sessions of ``arrays``; ``start`` is the session of the opening cash.

    Records per session (arrays over all rows, filled from ``start``): ``nav`` (post-trade),
    ``cash``, ``shares`` (post-trade, rows x n), ``cost`` (dollars), ``traded`` (dollars, sum |order|),
    ``pretrade`` (NAV before the fill of that session, = nav where nothing traded), ``interest``.
    """

    def __init__(self, arrays: Arrays, start: int, capital: float, model: CostModel,
                 financing_spread_bps: float = 0.0):
        if capital <= 0:
            raise ArgumentError("capital", f"expected a positive amount, got {capital}")
        self.a, self.model, self.spread = arrays, model, financing_spread_bps / 1e4 / 252.0
        T, n = arrays.price.shape
        self.px = np.nan_to_num(arrays.price)              # NaN price: nothing can be held there
        self.rate = np.nan_to_num(np.asarray(arrays.rf, float)) / 100.0 / 252.0
        self.nav = np.full(T, np.nan)
        self.cash = np.full(T, np.nan)
        self.shares = np.zeros((T, n))
        self.cost = np.zeros(T)
        self.traded = np.zeros(T)
        self.interest = np.zeros(T)
        self.pretrade = np.full(T, np.nan)
        self.i = start
        self._sh = np.zeros(n)
        self._cash = float(capital)
        self.nav[start] = self.cash[start] = self.pretrade[start] = capital

    # ---- marking ---------------------------------------------------------------------------------
    def advance_to(self, s: int) -> None:
        """Accrue and mark every session up to and including ``s`` with the current shares."""
        i = self.i
        if s <= i:
            return
        r = self.rate[i:s] + (self.spread if self._cash < 0 else 0.0)
        growth = np.cumprod(1.0 + r)
        cash = self._cash * growth
        held = self.px[i + 1:s + 1] @ self._sh
        self.cash[i + 1:s + 1] = cash
        self.interest[i + 1:s + 1] = np.diff(np.concatenate(([self._cash], cash)))
        self.shares[i + 1:s + 1] = self._sh
        self.nav[i + 1:s + 1] = cash + held
        self.pretrade[i + 1:s + 1] = self.nav[i + 1:s + 1]
        self._cash = float(cash[-1])
        self.i = s

    def weights(self, s: int | None = None) -> np.ndarray:
        """Holdings as fractions of NAV at the close of ``s`` (default: now), after any fill there."""
        s = self.i if s is None else s
        return self.shares[s] * self.px[s] / self.nav[s]

    def _cost_function(self, raw, sig, adv, w, h):
        """Dollar cost of moving holdings ``h`` to ``w * v`` as a function of v: the CostModel's
        ``dollars`` summed over orders, with the per-order rates precomputed (equal to it; tested)."""
        m = self.model
        lin = m.linear_rate(raw)
        ok = np.isfinite(adv) & (adv > 0)
        if m.impact_eta > 0 and ok.any():
            coef = m.impact_eta * np.nan_to_num(sig[ok]) / adv[ok] ** m.impact_exponent
            e1 = 1.0 + m.impact_exponent

            def cost(v):
                q = np.abs(w * v - h)
                return float(lin @ q + coef @ q[ok] ** e1)
        else:
            def cost(v):
                return float(lin @ np.abs(w * v - h))
        return cost

    # ---- trading ---------------------------------------------------------------------------------
    def fill(self, s: int, target: np.ndarray, sigma: np.ndarray | None = None, adv: np.ndarray | None = None) -> float:
        """Trade at the close of ``s`` to ``target`` weights of the post-cost NAV; returns the cost.

        ``sigma``/``adv``: the volatility and ADV the decision priced the trade with (default the arrays'
        row ``s``), so the simulator charges exactly the cost model the allocator optimized.

        Raises ArgumentError for a positive target on a ticker without a price at ``s``.
        """
        self.advance_to(s)
        w = np.asarray(target, float)
        p = self.px[s]
        if (w[p <= 0] > 1e-12).any():
            raise ArgumentError("target", "a positive weight on a ticker that has no price at the fill session")
        h = self._sh * p
        V = self._cash + h.sum()
        raw = np.where(np.isfinite(self.a.raw[s]), self.a.raw[s], p)
        cost_of = self._cost_function(raw, self.a.sigma[s] if sigma is None else sigma,
                                      self.a.adv[s] if adv is None else adv, w, h)
        v2 = V
        for _ in range(100):
            new = V - cost_of(v2)
            done = abs(new - v2) <= 1e-13 * abs(V)
            v2 = new
            if done:
                break
        x = w * v2
        self._sh = np.where(p > 0, x / np.where(p > 0, p, 1.0), 0.0)
        self._cash = v2 - x.sum()
        self.cost[s] += V - v2
        self.traded[s] += float(np.abs(x - h).sum())
        self.shares[s] = self._sh
        self.cash[s] = self._cash
        self.nav[s] = v2
        return V - v2
