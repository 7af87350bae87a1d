"""One transaction-cost model for the allocator, the transition path, the trade list and the simulator.

Per order of ``Q`` dollars (absolute value) in an asset with price ``p``, daily return volatility
``sigma`` and average daily dollar volume ``ADV``, the cost per dollar traded is

    rate = commission_bps / 1e4 + commission_per_share / p + half_spread_bps / 1e4
           + eta * sigma * (Q / ADV) ** exponent

(``exponent`` 0.5 is the square-root law, 0.6 the power Almgren, Thum, Hauptmann and Li (2005) fit).
In weight units (trade ``t`` as a fraction of NAV ``V``) the cost as a fraction of NAV is

    c(t) = linear * |t| + k * |t| ** (1 + exponent),   k = eta * sigma * (V / ADV) ** exponent,

which is convex in ``t`` and so can sit in the optimizer's objective (:meth:`CostModel.expression`).

Conventions: a missing, zero or negative ADV means "no volume known": no impact term (the optimizer
treats such an asset as untradeable through its liquidity bound). A missing or non-positive price
drops the per-share commission term (such an asset has no price to trade at). NaN sigma counts as 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from engine.errors import ArgumentError

# field -> (low, high) inclusive
_RANGES = {
    "commission_bps": (0.0, 1e4),
    "commission_per_share": (0.0, 100.0),
    "half_spread_bps": (0.0, 1e4),
    "impact_eta": (0.0, 100.0),
    "impact_exponent": (0.0, 1.0),
}


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


@dataclass(frozen=True)
class CostModel:
    """One transaction-cost model charged by the allocator's objective, the transition path,
    the trade list and the backtest simulator (so they cannot disagree).

    - ``commission_bps``: commission per traded notional, basis points.
    - ``commission_per_share``: dollars per share (a rate of ``commission_per_share / price``).
    - ``half_spread_bps``: half the bid-ask spread, basis points of traded notional.
    - ``impact_eta``: temporary-impact coefficient in units of daily volatility.
    - ``impact_exponent``: cost per notional = eta * sigma_daily * (Q / ADV) ** exponent.
    """

    commission_bps: float = 0.0
    commission_per_share: float = 0.0
    half_spread_bps: float = 5.0
    impact_eta: float = 0.142
    impact_exponent: float = 0.5

    def __post_init__(self) -> None:
        for key, (lo, hi) in _RANGES.items():
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ArgumentError(key, f"expected a finite number, got {v!r}")
            if not lo <= v <= hi:
                raise ArgumentError(key, f"expected between {lo:g} and {hi:g}, got {v:g}")
        if self.impact_exponent <= 0 and self.impact_eta > 0:
            raise ArgumentError("impact_exponent", "expected a positive exponent (0.5 = square-root law)")

    # ---- per order (dollars) -------------------------------------------------------------------
    def linear_rate(self, price) -> np.ndarray:
        """(commission_bps + half_spread_bps)/1e4 + commission_per_share / price, per order.

        ``price``: array (or scalar) of prices; a missing or non-positive price drops the per-share term.
        """
        p = _arr(price)
        base = (self.commission_bps + self.half_spread_bps) / 1e4
        out = np.full(p.shape, base)
        if self.commission_per_share > 0:
            ok = np.isfinite(p) & (p > 0)
            out[ok] += self.commission_per_share / p[ok]
        return out

    def rate(self, notional, price, sigma_daily, adv_dollars) -> np.ndarray:
        """Cost per dollar traded (fraction) for each order: commission + half spread + impact.

        All arguments are arrays of one length (``notional`` in dollars, absolute value used);
        missing/zero ADV => no impact term.
        """
        q = np.abs(_arr(notional))
        sig = np.nan_to_num(_arr(sigma_daily))
        adv = _arr(adv_dollars)
        out = self.linear_rate(np.broadcast_to(_arr(price), q.shape)).copy()
        ok = np.isfinite(adv) & (adv > 0)
        ok = np.broadcast_to(ok, q.shape)
        if self.impact_eta > 0 and ok.any():
            sig_b = np.broadcast_to(sig, q.shape)
            adv_b = np.broadcast_to(adv, q.shape)
            out[ok] += self.impact_eta * sig_b[ok] * (q[ok] / adv_b[ok]) ** self.impact_exponent
        return out

    def dollars(self, notional, price, sigma_daily, adv_dollars) -> np.ndarray:
        """Cost in dollars of each order: ``rate * |notional|``."""
        return self.rate(notional, price, sigma_daily, adv_dollars) * np.abs(_arr(notional))

    # ---- in weight units (fractions of NAV) ----------------------------------------------------
    def impact_coefficients(self, sigma_daily, adv_dollars, nav) -> np.ndarray:
        """k_i with impact cost as a fraction of NAV = k_i * |t_i| ** (1 + exponent), t_i = trade as a
        fraction of NAV: k_i = eta * sigma_i * (nav / adv_i) ** exponent (0 where ADV is missing)."""
        sig = _arr(sigma_daily)
        sig = sig if np.isfinite(sig).all() else np.nan_to_num(sig)
        adv = _arr(adv_dollars)
        if sig.shape != adv.shape:
            raise ArgumentError("adv_dollars", f"expected {sig.shape[0]} values like sigma_daily, got {adv.shape}")
        ok = np.isfinite(adv) & (adv > 0)
        if ok.all():                     # the common case, in fewer array operations (same values)
            return self.impact_eta * sig * (float(nav) / adv) ** self.impact_exponent
        k = np.zeros_like(sig)
        k[ok] = self.impact_eta * sig[ok] * (float(nav) / adv[ok]) ** self.impact_exponent
        return k

    def of_weights(self, trades, nav, price, sigma_daily, adv_dollars) -> np.ndarray:
        """Per-asset cost as a fraction of NAV for ``trades`` given as signed fractions of NAV
        (the same formula as :meth:`rate`: equals ``dollars(trades * nav, ...) / nav``)."""
        t = np.abs(_arr(trades))
        lin = self.linear_rate(np.broadcast_to(_arr(price), t.shape))
        k = self.impact_coefficients(np.broadcast_to(_arr(sigma_daily), t.shape),
                                     np.broadcast_to(_arr(adv_dollars), t.shape), nav)
        return lin * t + k * t ** (1.0 + self.impact_exponent)

    def expression(self, abs_trades, linear, impact):
        """cvxpy expression of the same cost on ``u >= |t|``: ``linear @ u + impact @ power(u, 1 + exponent)``.

        ``linear``: (n,) array or nonneg Parameter of :meth:`linear_rate`; ``impact``: (n,) array or
        nonneg Parameter of :meth:`impact_coefficients`.
        """
        import cvxpy as cp

        lin = linear @ abs_trades if getattr(linear, "ndim", 0) else linear * cp.sum(abs_trades)
        if self.impact_eta == 0 and not hasattr(impact, "value"):
            return lin
        return lin + impact @ cp.power(abs_trades, 1.0 + self.impact_exponent)

    # ---- construction --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, d: dict, source: str = "costs") -> "CostModel":
        """Build from a plain mapping (the TOML ``[costs]`` table); unknown keys -> ArgumentError."""
        if not isinstance(d, dict):
            raise ArgumentError(source, f"expected a table of cost settings, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for k, v in d.items():
            if k not in known:
                raise ArgumentError(f"{source}: {k}", f"unknown key; known keys are {', '.join(sorted(known))}")
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ArgumentError(f"{source}: {k}", f"expected a number, got {v!r}")
            kwargs[k] = float(v)
        try:
            return cls(**kwargs)
        except ArgumentError as e:
            raise ArgumentError(f"{source}: {e.argument}", e.problem) from None
