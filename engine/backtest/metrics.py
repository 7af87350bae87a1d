"""Performance measures from daily returns (pure functions).

Shapes: ``r`` and ``b`` are daily simple returns as pd.Series on a DatetimeIndex (``b`` is aligned to
``r``'s index). NaN handling: NaN returns are dropped (a session without a return has no result);
a measure that needs at least two returns, or a positive deviation, is NaN otherwise.
Conventions equal empyrical-reloaded's where it has the measure (tests check to 1e-8): 252 sessions a
year, volatility with ddof=1, Sharpe = mean/std * sqrt(252), Sortino with downside deviation
sqrt(mean(min(r, 0)^2)), drawdown anchored at a starting value of 1, Calmar = annual return / |MDD|,
alpha = (1 + mean(r - beta b))^252 - 1 with beta = cov/var. CAGR is over calendar time (365.25 days).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

A = 252


def _clean(r: pd.Series) -> pd.Series:
    return pd.Series(r, dtype=float).dropna()


def total_return(r: pd.Series) -> float:
    """prod(1 + r) - 1."""
    return float(np.prod(1.0 + _clean(r).to_numpy()) - 1.0)


def annual_return(r: pd.Series) -> float:
    """(1 + total)^(252 / n) - 1 (empyrical's ``annual_return``)."""
    x = _clean(r)
    return float((1.0 + total_return(x)) ** (A / len(x)) - 1.0) if len(x) else float("nan")


def cagr(r: pd.Series, start: pd.Timestamp | None = None) -> float:
    """(1 + total)^(365.25 / days) - 1, days from ``start`` (the opening close; default the session
    before the first return is unknown, so the first return's date minus one day) to the last date."""
    x = _clean(r)
    if not len(x):
        return float("nan")
    t0 = pd.Timestamp(start) if start is not None else x.index[0] - pd.Timedelta(days=1)
    days = (x.index[-1] - t0).days
    return float((1.0 + total_return(x)) ** (365.25 / days) - 1.0) if days > 0 else float("nan")


def volatility(r: pd.Series) -> float:
    """std(r, ddof=1) * sqrt(252)."""
    x = _clean(r)
    return float(x.std(ddof=1) * math.sqrt(A)) if len(x) > 1 else float("nan")


def sharpe(r: pd.Series, rf: pd.Series | float = 0.0) -> float:
    """mean(r - rf) / std(r - rf, ddof=1) * sqrt(252); ``rf`` a daily rate (scalar or Series on r's index)."""
    x = _clean(r)
    ex = (x - (rf.reindex(x.index).fillna(0.0) if isinstance(rf, pd.Series) else rf)).to_numpy()
    sd = ex.std(ddof=1) if len(ex) > 1 else float("nan")
    return float(ex.mean() / sd * math.sqrt(A)) if sd and sd > 0 else float("nan")


def sortino(r: pd.Series) -> float:
    """mean(r) * 252 / (sqrt(mean(min(r, 0)^2)) * sqrt(252))."""
    x = _clean(r).to_numpy()
    dd = math.sqrt(np.mean(np.minimum(x, 0.0) ** 2)) * math.sqrt(A) if len(x) else float("nan")
    return float(x.mean() * A / dd) if len(x) > 1 and dd > 0 else float("nan")


def drawdown(r: pd.Series) -> pd.Series:
    """NAV / running peak - 1 per session, the peak anchored at the starting value 1."""
    x = _clean(r)
    nav = np.cumprod(1.0 + x.to_numpy())
    peak = np.maximum.accumulate(np.r_[1.0, nav])[1:]
    return pd.Series(nav / peak - 1.0, index=x.index, name="drawdown")


def max_drawdown(r: pd.Series) -> dict:
    """``value`` (<= 0), ``peak`` (date of the high before the trough; None = the start), ``trough`` and
    ``recovery`` (first date back at the peak; None = not recovered) as ISO dates."""
    dd = drawdown(r)
    if not len(dd):
        return {"value": float("nan"), "peak": None, "trough": None, "recovery": None}
    k = int(np.argmin(dd.to_numpy()))
    nav = np.cumprod(1.0 + _clean(r).to_numpy())
    before = np.flatnonzero(dd.to_numpy()[:k + 1] >= 0)
    peak = dd.index[before[-1]].date().isoformat() if len(before) else None
    after = np.flatnonzero(dd.to_numpy()[k:] >= 0)
    rec = dd.index[k + after[0]].date().isoformat() if len(after) else None
    del nav
    return {"value": float(dd.iloc[k]), "peak": peak, "trough": dd.index[k].date().isoformat(), "recovery": rec}


def calmar(r: pd.Series) -> float:
    """annual_return / |max drawdown| (NaN without a drawdown)."""
    m = max_drawdown(r)["value"]
    return float(annual_return(r) / abs(m)) if m < 0 else float("nan")


def win_rates(r: pd.Series) -> tuple[float, float]:
    """Fraction of sessions and of calendar months (compounded) with a positive return."""
    x = _clean(r)
    monthly = (1.0 + x).groupby([x.index.year, x.index.month]).prod() - 1.0
    return float((x > 0).mean()), float((monthly > 0).mean())


def alpha_beta(r: pd.Series, b: pd.Series) -> dict:
    """``alpha`` (annualized, empyrical's), ``beta`` and their HAC (Newey-West) t-statistics from the
    OLS of r on b (statsmodels, maxlags = floor(4 (n/100)^(2/9))), plus ``alpha_daily``."""
    import statsmodels.api as sm

    df = pd.concat([_clean(r), pd.Series(b, dtype=float)], axis=1, join="inner").dropna()
    if len(df) < 3:
        return {"alpha": float("nan"), "beta": float("nan"), "alpha_t": float("nan"), "beta_t": float("nan")}
    y, x = df.iloc[:, 0].to_numpy(), df.iloc[:, 1].to_numpy()
    xr = x - x.mean()
    beta = float(np.mean(xr * y) / np.mean(xr * xr))
    alpha_d = float(np.mean(y - beta * x))
    lags = int(math.floor(4 * (len(y) / 100.0) ** (2.0 / 9.0)))
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return {"alpha": (1.0 + alpha_d) ** A - 1.0, "beta": beta, "alpha_daily": alpha_d,
            "alpha_t": float(fit.tvalues[0]), "beta_t": float(fit.tvalues[1]), "hac_lags": lags}


def tracking(r: pd.Series, b: pd.Series) -> tuple[float, float]:
    """(tracking error = std(r - b, ddof=1) * sqrt(252), information ratio = mean(r - b) * 252 / TE)."""
    a = (_clean(r) - pd.Series(b, dtype=float)).dropna()
    te = float(a.std(ddof=1) * math.sqrt(A)) if len(a) > 1 else float("nan")
    return te, (float(a.mean() * A / te) if te and te > 0 else float("nan"))


def rolling_active(r: pd.Series, b: pd.Series, window: int = 252) -> pd.DataFrame:
    """Rolling ``window``-session compounded active return (r over b) and tracking error; NaN until full."""
    df = pd.concat([_clean(r), pd.Series(b, dtype=float)], axis=1, join="inner").dropna()
    lr = np.log1p(df.iloc[:, 0]).rolling(window).sum()
    lb = np.log1p(df.iloc[:, 1]).rolling(window).sum()
    te = (df.iloc[:, 0] - df.iloc[:, 1]).rolling(window).std(ddof=1) * math.sqrt(A)
    return pd.DataFrame({"active_return": np.expm1(lr) - np.expm1(lb), "tracking_error": te})


def summary(r: pd.Series, spy: pd.Series | None = None, rf: pd.Series | None = None,
            turnover: pd.Series | None = None, cost: pd.Series | None = None,
            leverage: pd.Series | None = None, start=None) -> dict:
    """Every measure of the issue in one dict (fractions; per year = per 252 sessions).

    ``spy``: SPY daily returns (alpha, beta, tracking error, information ratio); ``rf``: daily T-bill
    rate for ``sharpe_tbill``; ``turnover``/``cost``: one-way turnover and cost as fractions of NAV per
    session; ``leverage``: gross exposure per session.
    """
    x = _clean(r)
    years = len(x) / A
    mdd = max_drawdown(x)
    wd, wm = win_rates(x)
    out = {"total_return": total_return(x), "cagr": cagr(x, start), "annual_return": annual_return(x),
           "volatility": volatility(x), "sharpe": sharpe(x),
           "sharpe_tbill": sharpe(x, rf) if rf is not None else float("nan"), "sortino": sortino(x),
           "max_drawdown": mdd["value"], "max_drawdown_peak": mdd["peak"], "max_drawdown_trough": mdd["trough"],
           "max_drawdown_recovery": mdd["recovery"], "calmar": calmar(x), "win_rate_daily": wd,
           "win_rate_monthly": wm, "sessions": int(len(x))}
    if spy is not None:
        ab = alpha_beta(x, spy)
        te, ir = tracking(x, spy)
        out.update(alpha=ab["alpha"], beta=ab["beta"], alpha_t=ab["alpha_t"], beta_t=ab["beta_t"],
                   tracking_error=te, information_ratio=ir)
    out["turnover"] = float(turnover.reindex(x.index).fillna(0).sum() / years) if turnover is not None else 0.0
    out["cost_drag"] = float(cost.reindex(x.index).fillna(0).sum() / years) if cost is not None else 0.0
    out["avg_leverage"] = float(leverage.reindex(x.index).mean()) if leverage is not None else 1.0
    return out
