"""Raw (unstandardized) sector factors, one date x sector frame each.

Every value at session t uses data up to and including t only (rolling windows end at t;
nothing is shifted backwards). A sector with no data yet (XLRE before 2015-10, XLC before
2018-06) has NaN until it has a full window; nothing is filled.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, DataError

log = logging.getLogger(__name__)

TRADING_DAYS = 252


def _check_window(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or value < 2:
        raise ArgumentError(name, f"expected an integer window of at least 2 sessions, got {value!r}")
    return int(value)


def daily_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Simple daily returns ``p_t / p_{t-1} - 1`` (date x ticker).

    NaN where either price is missing; gaps are not filled (a return across a gap is NaN).
    """
    return prices / prices.shift(1) - 1.0


def momentum(prices: pd.DataFrame, lookback: int, skip: int = 0) -> pd.DataFrame:
    """Total return from ``t - lookback`` to ``t - skip``: ``p_{t-skip} / p_{t-lookback} - 1``.

    ``momentum(p, 252, 21)`` is 12-1 month momentum. NaN until ``lookback`` sessions of history.
    """
    lookback = _check_window("lookback", lookback)
    if not 0 <= skip < lookback:
        raise ArgumentError("skip", f"expected 0 <= skip < lookback ({lookback}), got {skip!r}")
    return prices.shift(skip) / prices.shift(lookback) - 1.0


def trend(prices: pd.DataFrame, window: int = 200) -> pd.DataFrame:
    """Price against its moving average: ``p_t / mean(p_{t-window+1..t}) - 1``.

    NaN until a full ``window`` of prices exists.
    """
    window = _check_window("window", window)
    return prices / prices.rolling(window, min_periods=window).mean() - 1.0


def low_volatility(prices: pd.DataFrame, window: int = 63) -> pd.DataFrame:
    """Minus the annualized realized volatility of daily log returns over ``window`` sessions.

    Higher is calmer. Needs ``window`` returns (``window + 1`` prices); NaN before.
    """
    window = _check_window("window", window)
    lr = np.log(prices / prices.shift(1))
    return -lr.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(TRADING_DAYS)


def _rolling_moments(x: pd.DataFrame, y: pd.DataFrame, window: int, min_obs: int):
    """Rolling pairwise-complete count, covariance and variances of x and y (same shape)."""
    m = x.notna() & y.notna()
    x0 = x.where(m)
    y0 = y.where(m)
    roll = lambda f: f.rolling(window, min_periods=1).sum()  # noqa: E731
    n = m.astype(float).rolling(window, min_periods=1).sum()
    sx, sy = roll(x0), roll(y0)
    sxy, sxx, syy = roll(x0 * y0), roll(x0 * x0), roll(y0 * y0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * sy / n) / (n - 1)
        vx = (sxx - sx * sx / n) / (n - 1)
        vy = (syy - sy * sy / n) / (n - 1)
    ok = n >= min_obs
    return cov.where(ok), vx.where(ok), vy.where(ok)


def stress_beta(prices: pd.DataFrame, stress_index: pd.Series, benchmark: str = "SPY",
                window: int = 126, min_obs: int | None = None) -> pd.DataFrame:
    """Rolling OLS slope of each sector's daily excess return over ``benchmark`` on daily stress changes.

    ``beta_t = cov(r_sector - r_bench, d stress) / var(d stress)`` over the ``window`` sessions ending
    at t (pairwise-complete; NaN with fewer than ``min_obs`` pairs, default 80% of the window).
    Sign: a sector that beats the benchmark on days stress rises gets a POSITIVE beta, so a high
    score favours the defensives when stress rises. Returns date x sector (benchmark column dropped).

    ``stress_index`` is reindexed to the price sessions; it is not filled.
    """
    window = _check_window("window", window)
    min_obs = int(0.8 * window) if min_obs is None else min_obs
    if benchmark not in prices.columns:
        raise DataError(f"benchmark {benchmark!r} missing from prices (have {list(prices.columns)})")
    s = _as_series("stress_index", stress_index).reindex(prices.index)
    ds = s.diff()
    r = daily_returns(prices)
    ex = r.drop(columns=[benchmark]).sub(r[benchmark], axis=0)
    y = pd.DataFrame(np.repeat(ds.to_numpy()[:, None], ex.shape[1], axis=1), index=ex.index, columns=ex.columns)
    cov, _, var_s = _rolling_moments(ex, y, window, min_obs)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = cov / var_s.where(var_s > 0)
    return beta


def correlation_to(prices: pd.DataFrame, benchmark: str = "SPY", window: int = 126,
                   min_obs: int | None = None) -> pd.DataFrame:
    """Rolling Pearson correlation of each sector's daily return with the benchmark's (date x sector).

    Window of ``window`` sessions ending at t, pairwise-complete, NaN with fewer than ``min_obs``
    (default: the full window) pairs.
    """
    window = _check_window("window", window)
    min_obs = window if min_obs is None else min_obs
    if benchmark not in prices.columns:
        raise DataError(f"benchmark {benchmark!r} missing from prices (have {list(prices.columns)})")
    r = daily_returns(prices)
    sec = r.drop(columns=[benchmark])
    b = pd.DataFrame(np.repeat(r[benchmark].to_numpy()[:, None], sec.shape[1], axis=1),
                     index=sec.index, columns=sec.columns)
    cov, vx, vy = _rolling_moments(sec, b, window, min_obs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cov / np.sqrt(vx * vy)).clip(-1.0, 1.0)


def liquidity(close: pd.DataFrame, volume: pd.DataFrame, window: int = 63) -> pd.DataFrame:
    """Log of the average dollar volume (raw close x shares) over ``window`` sessions ending at t.

    Days without a close or volume are skipped; NaN with fewer than ``window // 2`` valid days or a
    non-positive average.
    """
    window = _check_window("window", window)
    dv = (close * volume).where(volume > 0)
    avg = dv.rolling(window, min_periods=max(1, window // 2)).mean()
    return np.log(avg.where(avg > 0))


def _as_series(name: str, s) -> pd.Series:
    if isinstance(s, pd.DataFrame):
        if s.shape[1] != 1:
            raise ArgumentError(name, f"expected a Series (or one-column frame), got {s.shape[1]} columns")
        s = s.iloc[:, 0]
    if not isinstance(s, pd.Series):
        raise ArgumentError(name, f"expected a pandas Series indexed by session, got {type(s).__name__}")
    if not isinstance(s.index, pd.DatetimeIndex):
        raise ArgumentError(name, "expected a DatetimeIndex of sessions")
    if s.index.has_duplicates:
        raise ArgumentError(name, "has duplicate dates")
    return s.astype(float).sort_index()
