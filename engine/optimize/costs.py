"""Transaction costs in weight units, thin users of :class:`engine.costs.CostModel` (the one model), plus
liquidity bounds and average dollar volume.

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

from engine.costs import CostModel


def impact_coefficients(sigma_daily, adv_dollars, portfolio_value: float, impact_coef: float,
                        exponent: float = 0.5) -> np.ndarray:
    """k_i = impact_coef * sigma_daily_i * (portfolio_value / adv_i) ** exponent; 0 where ADV is missing or 0.

    A thin user of :meth:`engine.costs.CostModel.impact_coefficients` (kept for existing callers).
    """
    return CostModel(impact_eta=impact_coef, impact_exponent=exponent).impact_coefficients(
        sigma_daily, adv_dollars, portfolio_value)


def trade_bounds(adv_dollars, portfolio_value: float, participation: float, days: float) -> np.ndarray:
    """Largest |trade| per asset as a fraction of the portfolio: participation * ADV * days / V (0 if no ADV)."""
    adv = np.asarray(adv_dollars, dtype=float)
    ok = np.isfinite(adv) & (adv > 0)
    if ok.all():
        return participation * adv * days / portfolio_value
    out = np.zeros_like(adv)
    out[ok] = participation * adv[ok] * days / portfolio_value
    return out


def cost_per_asset(trades, cost_bps: float, impact: np.ndarray | None = None, exponent: float = 0.5) -> np.ndarray:
    """Per-asset cost (fraction of V): ``cost_bps/1e4 * |t| + k * |t| ** (1 + exponent)`` (the weight-unit
    form of :class:`engine.costs.CostModel` with a flat linear rate)."""
    t = np.abs(np.asarray(trades, dtype=float))
    out = cost_bps / 1e4 * t
    if impact is not None:
        out = out + np.asarray(impact, dtype=float) * t ** (1.0 + exponent)
    return out


def cost(trades, cost_bps: float, impact: np.ndarray | None = None, exponent: float = 0.5) -> float:
    """Total cost as a fraction of portfolio value for ``trades`` (fractions of V, signed, length n)."""
    return float(cost_per_asset(trades, cost_bps, impact, exponent).sum())


def average_dollar_volume(close: pd.DataFrame, volume: pd.DataFrame, t=None, window: int = 63) -> pd.Series:
    """Mean of close * volume over the ``window`` sessions ending at ``t`` (inclusive), per ticker.

    Uses rows up to ``t`` only; NaN days are skipped; a ticker with no data gives NaN (treated as
    untradeable by :func:`trade_bounds`).
    """
    dv = (close * volume)
    if t is not None:
        dv = dv.loc[:pd.Timestamp(t)]
    return dv.iloc[-window:].mean(skipna=True)
