"""Stress-to-sector mapping: forward excess returns over SPY regressed on stress level and change.

``sector_table`` is an IN-SAMPLE research table over the whole sample (it uses forward returns up to
the last session). For a decision at t use :func:`defensive_ranking` with ``asof=t``: it only uses
rows whose forward window has ended by t.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, NoDataError

IN_SAMPLE_NOTE = ("In-sample research table over the whole sample (forward returns up to the last "
                  "session); not a walk-forward result. Use defensive_ranking(asof=t) for decisions at t.")


def hac_ols(y: np.ndarray, x: np.ndarray, lags: int, small_sample: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS with Newey-West (Bartlett kernel) standard errors.

    ``y``: (n,), ``x``: (n, k) including any constant column; ``lags``: maximum lag L (weights
    1 - l/(L+1)). Returns ``(beta, se, t)``. ``small_sample`` multiplies the covariance by n/(n-k)
    (as statsmodels' ``use_correction=True``).
    """
    y = np.asarray(y, float)
    x = np.asarray(x, float)
    n, k = x.shape
    if n <= k:
        raise ArgumentError("y", f"need more observations ({n}) than regressors ({k})")
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    u = x * (y - x @ beta)[:, None]
    s = u.T @ u
    for lag in range(1, min(lags, n - 1) + 1):
        g = u[lag:].T @ u[:-lag]
        s += (1.0 - lag / (lags + 1.0)) * (g + g.T)
    cov = xtx_inv @ s @ xtx_inv
    if small_sample:
        cov *= n / (n - k)
    se = np.sqrt(np.diag(cov))
    return beta, se, beta / se


def forward_excess(prices: pd.DataFrame, horizon: int, benchmark: str = "SPY") -> pd.DataFrame:
    """Forward simple return over ``horizon`` sessions of each column minus the benchmark's:
    ``P_{t+h}/P_t - B_{t+h}/B_t`` (NaN in the last h rows and where a price is missing).
    The value at t is known only at t+h."""
    fwd = prices.shift(-horizon) / prices - 1.0
    return fwd.sub(fwd[benchmark], axis=0).drop(columns=[benchmark])


def _sectors(prices: pd.DataFrame, benchmark: str) -> list[str]:
    from engine.universe import SECTORS
    return [s for s in SECTORS if s in prices.columns and s != benchmark]


def sector_table(market, result, horizons=None) -> pd.DataFrame:
    """Per (sector, horizon): slopes and HAC t-statistics of forward excess return on the stress
    index level and its 20-session change (lags = horizon), n and R^2. Rows with any NaN are
    dropped. IN SAMPLE (see ``IN_SAMPLE_NOTE``, also in ``df.attrs['note']``)."""
    cfg = result.config.sectors
    horizons = tuple(horizons or cfg.horizons)
    rows = []
    for h in horizons:
        rows += _regress(market, result, h, cfg.benchmark, last=None)
    df = pd.DataFrame(rows)
    df.attrs["note"] = IN_SAMPLE_NOTE
    return df


def _regress(market, result, h, benchmark, last):
    d = result.daily
    fx = forward_excess(market.prices.reindex(d.index), h, benchmark)
    if last is not None:
        fx = fx.iloc[: max(last - h + 1, 0)]
    out = []
    level = d["index"].to_numpy(dtype=float)            # fx shares d's index (reindexed to it, or its head)
    change = d["change_20d"].to_numpy(dtype=float)
    both = ~np.isnan(level) & ~np.isnan(change)
    for s in _sectors(market.prices, benchmark):
        y = fx[s].to_numpy(dtype=float)
        keep = np.flatnonzero(both[: len(y)] & ~np.isnan(y))     # the rows an inner join + dropna keeps
        if len(keep) < 4 * h + 10:
            continue
        x = np.column_stack([np.ones(len(keep)), level[keep], change[keep]])
        yv = y[keep]
        beta, se, t = hac_ols(yv, x, lags=h)
        resid = yv - x @ beta
        r2 = 1.0 - resid.var() / yv.var() if yv.var() > 0 else np.nan
        out.append({"sector": s, "horizon": h, "alpha": beta[0], "beta_level": beta[1],
                    "t_level": t[1], "beta_change": beta[2], "t_change": t[2], "n": len(keep), "r2": r2})
    return out


def regime_returns(market, result, horizon: int = 60) -> pd.DataFrame:
    """Mean forward ``horizon``-session excess return over SPY by regime (sector x regime). IN SAMPLE."""
    cfg = result.config
    fx = forward_excess(market.prices.reindex(result.daily.index), horizon, cfg.sectors.benchmark)
    fx = fx[_sectors(market.prices, cfg.sectors.benchmark)]
    g = fx.groupby(result.daily["regime"]).mean().T
    out = g.reindex(columns=[n for n in cfg.regime.names if n in g.columns])
    out.attrs["note"] = IN_SAMPLE_NOTE
    return out


def defensive_ranking(market, result, asof=None, horizon: int = 60, min_obs: int | None = None) -> pd.DataFrame:
    """Sectors ranked ONLY on measured evidence of doing better than tech in past stress, known at ``asof``.

    See :mod:`engine.stress.defensive`: mean forward ``horizon``-session return relative to tech on
    sessions in the stress or crisis regime whose window ended by ``asof``, its Newey-West t, a block-
    bootstrap interval and the strength in words. Columns: sector, score, t_stat, ci_low, ci_high,
    p_independent, strength, direction, n (sorted by score, tech left out); ``attrs["basket"]`` holds the defensive
    basket's evidence (a dict) and ``attrs["as_of"]`` the session. Raises ``NoDataError`` when too little
    stress history has a completed forward window.
    """
    from engine.stress.defensive import BASKET, MIN_OBS, defensive_evidence

    cfg = result.config.sectors
    pos = result.position(asof) if asof is not None else len(result.daily) - 1
    prices = market.prices.reindex(result.daily.index)
    ev = defensive_evidence(prices, result.daily["regime"], pos, horizon, cfg.tech,
                            MIN_OBS if min_obs is None else min_obs)
    df = ev.drop(index=BASKET, errors="ignore").reset_index()
    df = df[["sector", "score", "t_stat", "ci_low", "ci_high", "p_independent", "strength", "direction", "n"]]
    df.attrs["as_of"] = result.daily.index[pos].date().isoformat()
    df.attrs["basket"] = ev.loc[BASKET].to_dict() if BASKET in ev.index else None
    df.attrs["evidence"] = ev
    return df
