"""Transaction costs: one model for the optimizer and the backtester.

Units: trades ``t_i`` are fractions of portfolio value V (dollars); costs are returned as fractions of V
(multiply by 1e4 for basis points of the portfolio).

    cost(t) = sum_i  c_lin * |t_i|  +  k_i * |t_i| ** 1.5
    c_lin   = cost_bps / 1e4                       (half spread + commission, per unit traded)
    k_i     = Y * sigma_i * sqrt(V / ADV_i)        (square-root market impact)

Derivation of the 3/2-power term from the square-root law: trading Q_i = |t_i| V dollars of an asset
with daily volatility sigma_i and average daily dollar volume ADV_i costs, per dollar traded,
Y * sigma_i * sqrt(Q_i / ADV_i) (Y ~ 0.5-1, 0.6 common). The dollar cost is that times Q_i,
Y * sigma_i * Q_i**1.5 / sqrt(ADV_i); dividing by V gives Y * sigma_i * sqrt(V / ADV_i) * |t_i|**1.5.
It is convex in t, so it can sit in the optimizer's objective (cvxpy: ``power(abs(t), 1.5)``).

Liquidity: a trade is at most participation * ADV_i * days dollars, i.e. |t_i| <= participation * ADV_i * days / V.
Assets with no ADV (not trading yet) get bound 0 and impact coefficient 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError


def impact_coefficients(sigma_daily, adv_dollars, portfolio_value: float, impact_coef: float) -> np.ndarray:
    """k_i = impact_coef * sigma_daily_i * sqrt(portfolio_value / adv_i); 0 where ADV is missing or 0.

    ``sigma_daily``: daily return volatility per asset (fraction); ``adv_dollars``: average daily dollar
    volume per asset. Both length n (arrays or Series in the same order).
    """
    sig = np.asarray(sigma_daily, dtype=float)
    adv = np.asarray(adv_dollars, dtype=float)
    if sig.shape != adv.shape:
        raise ArgumentError("adv_dollars", f"expected {sig.shape[0]} values like sigma_daily, got {adv.shape}")
    ok = np.isfinite(adv) & (adv > 0) & np.isfinite(sig)
    k = np.zeros_like(sig)
    k[ok] = impact_coef * sig[ok] * np.sqrt(portfolio_value / adv[ok])
    return k


def trade_bounds(adv_dollars, portfolio_value: float, participation: float, days: float) -> np.ndarray:
    """Largest |trade| per asset as a fraction of the portfolio: participation * ADV * days / V (0 if no ADV)."""
    adv = np.asarray(adv_dollars, dtype=float)
    ok = np.isfinite(adv) & (adv > 0)
    out = np.zeros_like(adv)
    out[ok] = participation * adv[ok] * days / portfolio_value
    return out


def cost(trades, cost_bps: float, impact: np.ndarray | None = None) -> float:
    """Total cost as a fraction of portfolio value for ``trades`` (fractions of V, signed, length n).

    ``impact``: the k_i from :func:`impact_coefficients` (None = no impact term).
    """
    t = np.abs(np.asarray(trades, dtype=float))
    total = cost_bps / 1e4 * t.sum()
    if impact is not None:
        total += float(np.asarray(impact, dtype=float) @ t ** 1.5)
    return float(total)


def cost_per_asset(trades, cost_bps: float, impact: np.ndarray | None = None) -> np.ndarray:
    """Per-asset cost (fraction of V) of the same model as :func:`cost`."""
    t = np.abs(np.asarray(trades, dtype=float))
    out = cost_bps / 1e4 * t
    if impact is not None:
        out = out + np.asarray(impact, dtype=float) * t ** 1.5
    return out


def cost_expression(trades, linear, impact):
    """cvxpy expression of the same cost: ``linear * sum(abs(t)) + impact @ power(abs(t), 1.5)``.

    ``trades``: cvxpy Variable/expression (n,); ``linear``: scalar (float or nonneg Parameter) =
    cost_bps / 1e4; ``impact``: (n,) array or nonneg Parameter of k_i.
    """
    import cvxpy as cp

    return cost_of_abs_trades(cp.abs(trades), linear, impact)


def cost_of_abs_trades(abs_trades, linear, impact):
    """The same cost on a nonnegative expression ``u`` standing for ``|t|``: ``linear * sum(u) + impact @ u^1.5``.

    The optimizer uses one epigraph variable u >= |w - w0| for the cost, the turnover and the
    liquidity limits together (the cost is increasing in u, so u = |t| at the optimum), which keeps
    the conic problem small enough to re-solve in well under a millisecond.
    """
    import cvxpy as cp

    return linear * cp.sum(abs_trades) + impact @ cp.power(abs_trades, 1.5)


def average_dollar_volume(close: pd.DataFrame, volume: pd.DataFrame, t=None, window: int = 63) -> pd.Series:
    """Mean of close * volume over the ``window`` sessions ending at ``t`` (inclusive), per ticker.

    Uses rows up to ``t`` only; NaN days are skipped; a ticker with no data gives NaN (treated as
    untradeable by :func:`trade_bounds`).
    """
    dv = (close * volume)
    if t is not None:
        dv = dv.loc[:pd.Timestamp(t)]
    return dv.iloc[-window:].mean(skipna=True)
