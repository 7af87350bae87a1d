"""Performance summary of many configurations at once (columns of a T x C matrix of daily returns).

Conventions (those of empyrical-reloaded and of engine.backtest.metrics, which the tests check to
1e-10): 252 sessions a year; ``annual_return`` = (1 + total)^(252 / T) - 1 and ``cagr`` the same over
calendar time when ``calendar_days`` is given; ``volatility`` = std (ddof 1) * sqrt(252); ``sharpe`` = mean / std
* sqrt(252) (rf 0); ``sharpe_tbill`` the same on returns in excess of the T-bill; ``sortino`` = 252 *
mean / (sqrt(252 * mean(min(r, 0)^2))); ``max_drawdown`` from a NAV starting at 1; ``calmar`` = annual_return /
|max_drawdown|; ``beta`` = cov(r, b) / var(b) and ``alpha`` = (1 + mean(r - beta b))^252 - 1 against the
benchmark b; ``tracking_error`` = std(r - b) * sqrt(252) and ``information_ratio`` = 252 mean(r - b) /
tracking_error; ``win_rate_daily`` = share of sessions with r > 0; ``turnover`` (one way, given per session) and
``cost_drag`` are sums per year; ``avg_leverage`` the mean gross exposure at the closes. Rows where the
benchmark is NaN are dropped for alpha, beta, tracking error and IR only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

YEAR = 252
KEYS = ("total_return", "cagr", "annual_return", "volatility", "sharpe", "sharpe_tbill", "sortino", "max_drawdown", "calmar",
        "win_rate_daily", "tracking_error", "information_ratio", "alpha", "beta", "turnover", "cost_drag",
        "avg_leverage")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan)


def summarize(returns: np.ndarray, benchmark: np.ndarray | None = None, rf: np.ndarray | None = None,
              turnover: np.ndarray | None = None, cost: np.ndarray | None = None,
              leverage: np.ndarray | None = None, calendar_days: float | None = None) -> dict[str, np.ndarray]:
    """Metrics (module doc) per column of ``returns`` (T x C, no NaN); ``benchmark``/``rf``: length T
    (daily returns of the benchmark and of cash); ``turnover``/``cost``/``leverage``: T x C (traded
    notional and cost per session as fractions of NAV, gross exposure). Missing inputs give NaN.
    ``calendar_days`` (from the opening close to the last date): ``cagr`` over calendar time,
    (1 + total)^(365.25 / days) - 1, as engine.backtest.metrics; without it ``cagr`` = ``annual_return``."""
    r = np.asarray(returns, float)
    r = r.reshape(len(r), -1)
    t = len(r)
    nan = np.full(r.shape[1], np.nan)
    total = np.prod(1.0 + r, axis=0) - 1.0
    years = t / YEAR
    annual = (1.0 + total) ** (1.0 / years) - 1.0
    cagr = annual if calendar_days is None else (1.0 + total) ** (365.25 / calendar_days) - 1.0
    sd = r.std(axis=0, ddof=1)
    mean = r.mean(axis=0)
    nav = np.cumprod(1.0 + r, axis=0)
    peak = np.maximum.accumulate(np.vstack([np.ones((1, r.shape[1])), nav]), axis=0)[1:]
    mdd = np.minimum((nav / peak - 1.0).min(axis=0), 0.0)
    down = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2, axis=0) * YEAR)
    out = {"total_return": total, "cagr": cagr, "annual_return": annual, "volatility": sd * np.sqrt(YEAR),
           "sharpe": _ratio(mean, sd) * np.sqrt(YEAR), "sortino": _ratio(mean * YEAR, down),
           "max_drawdown": mdd, "calmar": _ratio(annual, np.abs(mdd)), "win_rate_daily": (r > 0).mean(axis=0)}
    if rf is not None:
        ex = r - np.asarray(rf, float)[:, None]
        out["sharpe_tbill"] = _ratio(ex.mean(0), ex.std(0, ddof=1)) * np.sqrt(YEAR)
    out.update(_relative(r, benchmark) if benchmark is not None else {})
    out["turnover"] = nan if turnover is None else np.asarray(turnover).sum(0) / years
    out["cost_drag"] = nan if cost is None else np.asarray(cost).sum(0) / years
    out["avg_leverage"] = nan if leverage is None else np.asarray(leverage).mean(0)
    return {k: out.get(k, nan) for k in KEYS}


def _relative(r: np.ndarray, benchmark: np.ndarray) -> dict[str, np.ndarray]:
    b = np.asarray(benchmark, float)
    ok = np.isfinite(b)
    r, b = r[ok], b[ok]
    active = r - b[:, None]
    te = active.std(0, ddof=1) * np.sqrt(YEAR)
    bc = b - b.mean()
    beta = (bc @ (r - r.mean(0))) / (bc @ bc)
    alpha = (1.0 + (r - beta[None, :] * b[:, None]).mean(0)) ** YEAR - 1.0
    return {"tracking_error": te, "information_ratio": _ratio(active.mean(0) * YEAR, te), "alpha": alpha, "beta": beta}


def summary_frame(returns: pd.DataFrame, **kw) -> pd.DataFrame:
    """``summarize`` as a DataFrame: one row per column of ``returns``, one column per metric key."""
    m = summarize(returns.to_numpy(float), **kw)
    return pd.DataFrame(m, index=returns.columns)
