"""The factor panel: every sector factor, raw and standardized across sectors.

``factor_panel(market, stress_index)`` returns ``{factor name: DataFrame (date x sector)}``,
standardized per date (rank based, see :mod:`engine.factors.standardize`). ``raw_factors`` gives the
same frames before standardization. Everything at session t uses data up to t only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.factors import raw
from engine.factors.standardize import standardize
from engine.universe import BENCHMARK, SECTORS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FactorSpec:
    """Windows of every factor (sessions)."""

    mom_short: int = 126
    mom_alt: int = 134
    mom_long: int = 252
    mom_skip: int = 21
    trend_window: int = 200
    vol_window: int = 63
    beta_window: int = 126
    corr_window: int = 126
    liquidity_window: int = 63


# Factor names in display order; the meaning of a high score is in the docstring of each raw function.
FACTORS = ("mom_126", "mom_134", "mom_12_1", "trend_200", "low_vol_63",
           "stress_beta_126", "corr_spy_126", "liquidity_63")


def sector_columns(prices: pd.DataFrame) -> list[str]:
    """The sector tickers present in ``prices`` in universe order (raises DataError if none)."""
    cols = [t for t in SECTORS if t in prices.columns]
    if not cols:
        raise DataError(f"no sector ETF prices found (expected some of {list(SECTORS)})")
    return cols


def raw_factors(market, stress_index: pd.Series, spec: FactorSpec | None = None) -> dict[str, pd.DataFrame]:
    """Raw factor values by name (see :data:`FACTORS`), each date x sector on the market's sessions.

    ``market`` needs ``prices`` (adjusted close with sector columns and SPY), and for liquidity
    ``close`` and ``volume`` (falls back to adjusted prices if ``close`` lacks a sector; all NaN if
    no volume). ``stress_index`` is a Series by session (any scale; only its daily changes matter).
    """
    spec = spec or FactorSpec()
    prices = market.prices
    if BENCHMARK not in prices.columns:
        raise DataError(f"benchmark {BENCHMARK} prices missing; the factors need it")
    sectors = sector_columns(prices)
    p = prices[sectors]
    close = market.close.reindex(index=p.index, columns=sectors) if market.close is not None else None
    if close is None:
        close = p
    else:
        close = close.where(close.notna() | p.isna(), p)  # adjusted price where no raw close
    vol = (market.volume.reindex(index=p.index, columns=sectors)
           if market.volume is not None else pd.DataFrame(np.nan, index=p.index, columns=sectors))
    pb = prices[sectors + [BENCHMARK]]
    out = {
        "mom_126": raw.momentum(p, spec.mom_short),
        "mom_134": raw.momentum(p, spec.mom_alt),
        "mom_12_1": raw.momentum(p, spec.mom_long, spec.mom_skip),
        "trend_200": raw.trend(p, spec.trend_window),
        "low_vol_63": raw.low_volatility(p, spec.vol_window),
        "stress_beta_126": raw.stress_beta(pb, stress_index, BENCHMARK, spec.beta_window)[sectors],
        "corr_spy_126": raw.correlation_to(pb, BENCHMARK, spec.corr_window)[sectors],
        "liquidity_63": raw.liquidity(close, vol, spec.liquidity_window),
    }
    # A sector with no price on a day is out that day, whatever its window says.
    present = p.notna()
    return {k: v.where(present) for k, v in out.items()}


def user_panel(market, sectors: list[str], rule=None) -> dict[str, pd.DataFrame]:
    """The cleaned user factors of ``market`` (empty without a panel) on its sessions and ``sectors``,
    cleaned by ``rule`` (:class:`engine.factors.rule.CleaningRule`; None: the defaults)."""
    panel = getattr(market, "user_factors", None)
    if panel is None:
        return {}
    from engine.factors.user import user_factor_panel

    present = market.prices.reindex(columns=sectors).notna()
    return user_factor_panel(panel, market.sessions, sectors, present, rule)


def factor_panel(market, stress_index: pd.Series, spec: FactorSpec | None = None,
                 method: str = "rank", raw_values: bool = False, rule=None) -> dict[str, pd.DataFrame]:
    """Standardized factor panel: ``{name: DataFrame (date x sector)}``.

    Each frame is standardized across the sectors present that date (rank based by default; mean 0,
    sd 1; dates with fewer than 3 sectors are NaN). Sectors without data yet are NaN, not filled.
    ``raw_values=True`` returns the unstandardized values instead (same as :func:`raw_factors`).
    The user's own factors (``market.user_factors``, cleaned by :mod:`engine.factors.user`) follow the
    built-in ones, so every composite, IC test and allocation built on this panel includes them;
    ``rule`` is their cleaning (the stress TOML's ``[user_factors]``, ``StressConfig.user_factors``).
    """
    rf = raw_factors(market, stress_index, spec)
    if raw_values:
        return rf
    panel = {k: standardize(v, method=method) for k, v in rf.items()}
    panel.update(user_panel(market, list(rf[FACTORS[0]].columns), rule))
    log.debug("factor panel: %d factors, %d sessions", len(panel), len(market.prices))
    return panel
