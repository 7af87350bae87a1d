"""Expected excess returns from a composite score and the stress regime (Grinold's alpha = IC x vol x score).

    z_i  = (score_i - mean(score)) / std(score)          cross-sectional, over sectors with a score
    mu_i = ic * sigma_i * z_i  +  tilt_i
    tilt_i = +defensive_tilt for XLU, XLP, XLV and -tech_tilt for XLK in ``stress``; twice that in
             ``crisis``; 0 otherwise (the product's thesis: rotate out of tech into defensives under stress).

``sigma_i`` is the annualized volatility, so ``mu`` is an annualized expected excess return. With an IC
of 0.05 and 20% volatility a one-sigma score is worth 1% a year. The tilt expresses the product's view
that defensives outperform and tech underperforms while bond stress is high. Its size is the documented
prior ``PRIOR_TILT`` (2% a year) unless the defensive basket's evidence known at the decision supports
an estimate, capped at ``MAX_TILT`` (4% a year): the rule is :func:`engine.stress.defensive.tilt_basis`;
callers pass the size as ``defensive_tilt`` (on 1999-2019 data the evidence never supports one: the
prior applies throughout).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from engine.universe import DEFENSIVE, TECH

TILT_MULTIPLIER = {"calm": 0.0, "elevated": 0.0, "stress": 1.0, "crisis": 2.0}
PRIOR_TILT = 0.02        # the documented prior, a year (per defensive and against XLK, in stress)
MAX_TILT = 0.04          # the cap on a tilt estimated from the evidence (engine.stress.defensive)


def expected_returns(score: pd.Series, sigma: pd.Series, regime: str = "calm", ic: float = 0.05,
                     defensive_tilt: float = PRIOR_TILT, tech_tilt: float | None = None) -> pd.Series:
    """Annualized expected excess return per sector.

    ``score``: composite score per sector (any scale; NaN = no score, e.g. a sector that does not exist
    yet); ``sigma``: annualized volatility per sector (same index). Returns a Series on ``score.index``;
    NaN where the score or sigma is NaN. With fewer than two scores or zero dispersion, z is 0.
    ``tech_tilt`` defaults to ``defensive_tilt``.
    """
    sig = sigma.reindex(score.index).to_numpy(dtype=float)
    mu = expected_returns_array(score.to_numpy(dtype=float), sig, tilt_vector(list(score.index), regime),
                                regime, ic, defensive_tilt, tech_tilt)
    return pd.Series(mu, index=score.index)


def tilt_vector(tickers: list[str], regime: str = "stress", defensive_tilt: float = 1.0,
                tech_tilt: float | None = None) -> np.ndarray:
    """Per ticker: +1 for the defensives (XLU, XLP, XLV), -1 for XLK, 0 otherwise (the unit tilt pattern;
    :func:`expected_returns_array` scales it by the regime and the tilts). ``regime`` and the tilts are
    accepted for symmetry and ignored."""
    return np.array([1.0 if t in DEFENSIVE else -1.0 if t == TECH else 0.0 for t in tickers])


def expected_returns_array(score: np.ndarray, sigma: np.ndarray, pattern: np.ndarray, regime: str = "calm",
                           ic: float = 0.05, defensive_tilt: float = PRIOR_TILT, tech_tilt: float | None = None) -> np.ndarray:
    """:func:`expected_returns` on arrays in one ticker order (``pattern`` from :func:`tilt_vector`): the
    per-rebalance path of backtests, without pandas. NaN where the score or sigma is NaN."""
    if regime not in TILT_MULTIPLIER:
        raise ArgumentError("regime", f"expected one of {', '.join(TILT_MULTIPLIER)}, got {regime!r}")
    tech_tilt = defensive_tilt if tech_tilt is None else tech_tilt
    if not np.isfinite(ic) or not np.isfinite(defensive_tilt) or not np.isfinite(tech_tilt):
        raise ArgumentError("ic", "ic and defensive_tilt must be finite numbers")
    s, sig = np.asarray(score, dtype=float), np.asarray(sigma, dtype=float)
    valid = ~np.isnan(s) & ~np.isnan(sig)
    z = np.full(len(s), np.nan)
    sv = s[valid]
    sd = float(np.std(sv)) if valid.sum() >= 2 else 0.0       # ddof 0, the same sums as pandas' std
    z[valid] = (sv - sv.mean()) / sd if sd > 0 else 0.0
    mult = TILT_MULTIPLIER[regime]
    tilt = np.where(pattern > 0, defensive_tilt * mult, np.where(pattern < 0, -tech_tilt * mult, 0.0))
    return np.where(valid, ic * sig * z + tilt, np.nan)
