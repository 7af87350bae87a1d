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

    Records per session (arrays over all rows, valid from ``start`` up to the last marked session):
    ``nav`` (post-trade), ``cash``, ``shares`` (post-trade, rows x n), ``cost`` (dollars), ``traded``
    (dollars, sum |order|), ``pretrade`` (NAV before the fill of that session, = nav where nothing
    traded), ``cash_rate`` (the rate cash earned or paid INTO each session).

    Between fills the book does not change, so only the state at decision and fill sessions is
    computed as the loop runs (cash grows by the cumulated rate, NAV = cash + shares . price); the
    per-session records are filled in one vectorised pass when first read.
    """

    def __init__(self, arrays: Arrays, start: int, capital: float, model: CostModel,
                 financing_spread_bps: float = 0.0):
        if capital <= 0:
            raise ArgumentError("capital", f"expected a positive amount, got {capital}")
        self.a, self.model, self.spread = arrays, model, financing_spread_bps / 1e4 / 252.0
        T, n = arrays.price.shape
        self.T, self.start = T, start
        self.px = np.nan_to_num(arrays.price)              # NaN price: nothing can be held there
        self._lin_rows: dict[int, np.ndarray] = {}           # linear cost rate per order, by fill row
        self.rate = np.nan_to_num(np.asarray(arrays.rf, float)) / 100.0 / 252.0
        # growth of one dollar of cash from row 0 to row j: long cash at the bill, borrowed at bill + spread
        self._g = {False: np.r_[1.0, np.cumprod(1.0 + self.rate[:-1])],
                   True: np.r_[1.0, np.cumprod(1.0 + self.rate[:-1] + self.spread)]}
        self.cost = np.zeros(T)
        self.traded = np.zeros(T)
        self.pretrade_at: dict[int, float] = {}
        self.i = start
        self._sh = np.zeros(n)
        self._cash = float(capital)
        self._anchors = [(start, self._sh, self._cash)]      # (row, post-fill shares, post-fill cash)
        self._rec = None

    # ---- marking ---------------------------------------------------------------------------------
    def advance_to(self, s: int) -> None:
        """Carry the book to the close of ``s`` (cash accrues; shares are unchanged)."""
        if s <= self.i:
            return
        f, _, c0 = self._anchors[-1]
        g = self._g[c0 < 0]
        self._cash = c0 * g[s] / g[f]
        self.i = s

    def nav_now(self) -> float:
        return self._cash + float(self._sh @ self.px[self.i])

    def weights(self, s: int | None = None) -> np.ndarray:
        """Holdings as fractions of NAV at the close of ``s`` (default: now), after any fill there."""
        if s is not None and s != self.i:
            return self.shares[s] * self.px[s] / self.nav[s]
        return self._sh * self.px[self.i] / self.nav_now()

    # ---- per-session records (vectorised) ---------------------------------------------------------
    def _records(self) -> dict:
        if self._rec is not None and self._rec["upto"] == self.i:
            return self._rec
        T, n = self.px.shape
        r = slice(self.start, self.i + 1)                            # the marked rows, contiguous
        rows = np.arange(self.start, self.i + 1)
        fills = np.array([f for f, _, _ in self._anchors])
        k = np.searchsorted(fills, rows, side="right") - 1          # the anchor each row lives on
        sh_all = np.stack([x for _, x, _ in self._anchors])
        c_all = np.array([c for _, _, c in self._anchors])
        neg = c_all < 0
        gl = self._g[False]
        g = gl[r] / gl[fills[k]]
        if neg.any():                                                # borrowed cash grows at bill + spread
            gb, m = self._g[True], neg[k]
            g[m] = gb[rows[m]] / gb[fills[k][m]]
        shares = np.zeros((T, n))
        cash = np.full(T, np.nan)
        shares[r] = sh_all[k]
        cash[r] = c_all[k] * g
        nav = np.full(T, np.nan)
        nav[r] = cash[r] + (self.px[r] * shares[r]).sum(axis=1)
        pre = nav.copy()
        for f, v in self.pretrade_at.items():
            pre[f] = v
        prev_neg = np.r_[False, (cash[r] < 0)[:-1]]
        rate = np.full(T, np.nan)
        rate[rows[1:]] = (self.rate[rows[1:] - 1] + np.where(prev_neg[1:], self.spread, 0.0))
        self._rec = {"upto": self.i, "shares": shares, "cash": cash, "nav": nav, "pretrade": pre, "cash_rate": rate}
        return self._rec

    nav = property(lambda self: self._records()["nav"])
    cash = property(lambda self: self._records()["cash"])
    shares = property(lambda self: self._records()["shares"])
    pretrade = property(lambda self: self._records()["pretrade"])
    cash_rate = property(lambda self: self._records()["cash_rate"])

    def _linear(self, s: int) -> np.ndarray:
        """The cost model's linear rate per order at row ``s`` (raw close, else the price, for per-share fees)."""
        lin = self._lin_rows.get(s)
        if lin is None:
            r = self.a.raw[s]
            lin = self._lin_rows[s] = self.model.linear_rate(np.where(np.isfinite(r), r, self.px[s]))
        return lin

    def _cost_function(self, s, sig, adv, w, h):
        """Dollar cost of moving holdings ``h`` to ``w * v`` as a function of v: the CostModel's
        ``dollars`` summed over orders, with the per-order rates precomputed (equal to it; tested)."""
        m = self.model
        lin = self._linear(s)
        if m.impact_eta > 0:
            ok = np.isfinite(adv) & (adv > 0)
            if ok.any():
                coef = m.impact_eta * np.nan_to_num(sig[ok]) / adv[ok] ** m.impact_exponent
                e1 = 1.0 + m.impact_exponent

                def cost(v):
                    q = np.abs(w * v - h)
                    return float(lin @ q + coef @ q[ok] ** e1)
                return cost

        def linear_cost(v):
            return float(lin @ np.abs(w * v - h))
        return linear_cost

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
        cost_of = self._cost_function(s, self.a.sigma[s] if sigma is None else sigma,
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
        self.pretrade_at.setdefault(s, V)
        if self._anchors[-1][0] == s:
            self._anchors[-1] = (s, self._sh, self._cash)
        else:
            self._anchors.append((s, self._sh, self._cash))
        self._rec = None
        return V - v2
