"""Momentum (EXP-002's rule) for many configurations in one vectorised pass.

Rule, per configuration c = (lookback N, top K, leverage L, VIX overlay, SPY trend window):
- decisions at the last session of every month (the first one at ``lag`` sessions before the first
  session on or after ``start``: the backtest starts invested), using prices up to the decision only;
- score = P_t / P_{t-N} - 1 (adjusted closes); a ticker is eligible once it has N + 1 prices;
  the K highest scores (ties: universe order) get L / K each; the rest of the book is cash;
- VIX overlay: L is scaled by 1.2 / 1.0 / 0.8 / 0.6 when the VIX close at the decision is below
  15 / 20 / 30 / otherwise; trend filter: when SPY closes below its W-session mean at the decision,
  the book holds only cash until the next decision;
- orders fill at the close of t + ``lag``; the post-cost value solves V' = V - c * sum_i |w_i V' - h_i|
  (c = cost_bps / 1e4 of traded notional, h = drifted holdings); holdings then drift in shares;
- cash (1 - L) V' accrues the previous session's 3-month T-bill (DGS3MO / 100 / 252), plus
  ``spread`` a year when negative (financing of leverage above 1).
Returns are indexed from the first fill session; the NAV before it is 1 (all cash).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, NoDataError

VIX_STEPS = ((15.0, 1.2), (20.0, 1.0), (30.0, 0.8), (np.inf, 0.6))


@dataclass(frozen=True)
class SweepResult:
    """Daily results of every configuration: ``returns``, ``leverage`` (gross exposure at each close),
    ``turnover`` (one way: traded notional / 2 / pre-trade NAV) and ``cost`` (as a fraction of the
    previous close's NAV, like the return), on fill sessions and 0 elsewhere, are sessions x
    configurations (the conventions of engine.backtest's Run); ``configs`` has one row per column."""
    returns: pd.DataFrame
    leverage: pd.DataFrame
    turnover: pd.DataFrame
    cost: pd.DataFrame
    configs: pd.DataFrame


def vix_scale(vix: np.ndarray) -> np.ndarray:
    """Overlay multiplier for VIX closes (NaN VIX: 1.0, no scaling)."""
    v = np.asarray(vix, float)
    out = np.ones_like(v)
    for bound, scale in reversed(VIX_STEPS):
        out = np.where(v < bound, scale, out)
    return np.where(np.isnan(v), 1.0, out)


def decision_positions(sessions: pd.DatetimeIndex, first_fill: int, last: int, lag: int) -> np.ndarray:
    """Decision session positions: ``first_fill - lag``, then every month's last session whose fill
    (position + lag) falls in ``(first_fill, last]``."""
    month = sessions.year * 12 + sessions.month
    month_end = np.flatnonzero(np.append(month[1:] != month[:-1], True))
    later = month_end[(month_end + lag > first_fill) & (month_end + lag <= last)]
    return np.unique(np.append(first_fill - lag, later))


def _targets(p: np.ndarray, dec: np.ndarray, cfg: dict, vx: np.ndarray, spy: np.ndarray) -> np.ndarray:
    """Target weights (decisions x configs x assets) at the decision positions ``dec``."""
    n_cfg, n_assets = len(cfg["lookback"]), p.shape[1]
    back = dec[:, None] - cfg["lookback"][None, :]                          # decisions x configs
    past = np.where((back >= 0)[:, :, None], p[np.maximum(back, 0)], np.nan)
    score = p[dec][:, None, :] / past - 1.0
    score = np.where(np.isfinite(score), score, -np.inf)
    order = np.argsort(-score, axis=2, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n_assets), order.shape), axis=2)
    chosen = (rank < cfg["top"][None, :, None]) & np.isfinite(score)
    scale = np.where(cfg["vix_overlay"][None, :], vix_scale(vx[dec])[:, None], 1.0)   # decisions x configs
    w = chosen * (cfg["leverage"][None, :] * scale / cfg["top"][None, :])[:, :, None]
    for t in np.unique(cfg["trend"][cfg["trend"] > 0]):
        csum = np.concatenate([[0.0], np.cumsum(spy)])
        mean = np.where(dec + 1 >= t, (csum[dec + 1] - csum[np.maximum(dec + 1 - t, 0)]) / t, np.nan)
        off = ~(spy[dec] >= mean)                       # below its mean, or too little history: cash
        w[np.ix_(off, cfg["trend"] == t)] = 0.0
    return w


def _post_cost_value(v: np.ndarray, h: np.ndarray, w: np.ndarray, c: float) -> np.ndarray:
    """Solve V' = V - c * sum|w V' - h| per configuration (piecewise linear, increasing: exact in a few
    sign-fixed steps)."""
    vp = v.copy()
    for _ in range(50):
        s = np.sign(w * vp[:, None] - h)
        new = (v + c * (s * h).sum(1)) / (1.0 + c * (s * w).sum(1))
        if np.array_equal(new, vp):
            break
        vp = new
    return vp


def _configs(lookback, top, leverage, vix_overlay, trend) -> dict:
    arrays = [np.atleast_1d(np.asarray(a)) for a in (lookback, top, leverage, vix_overlay, trend)]
    n = max(len(a) for a in arrays)
    for name, a in zip(("lookback", "top", "leverage", "vix_overlay", "trend"), arrays):
        if len(a) not in (1, n):
            raise ArgumentError(name, f"expected 1 or {n} values (one per configuration), got {len(a)}")
    lb, top, lev, vo, tr = (np.broadcast_to(a, (n,)).copy() for a in arrays)
    cfg = {"lookback": lb.astype(int), "top": top.astype(int), "leverage": lev.astype(float),
           "vix_overlay": vo.astype(bool), "trend": tr.astype(int)}
    for name in ("lookback", "top"):
        if (cfg[name] < 1).any():
            raise ArgumentError(name, f"expected integers >= 1, got {sorted(set(cfg[name].tolist()))}")
    if (cfg["leverage"] < 0).any():
        raise ArgumentError("leverage", "expected a gross exposure >= 0")
    return cfg


def _window(sessions: pd.DatetimeIndex, start, end, lag: int, warmup: int = 0) -> tuple[int, int]:
    """First and last positions; without ``start``, the first fill at which every configuration can
    be invested (``warmup`` sessions of history before its decision)."""
    first = warmup + lag if start is None else int(sessions.searchsorted(pd.Timestamp(start)))
    first = max(first, lag)
    last = len(sessions) - 1 if end is None else int(sessions.searchsorted(pd.Timestamp(end), side="right")) - 1
    if first > last:
        raise NoDataError(f"no sessions between {start} and {end} (with {lag} session(s) of execution lag)")
    return first, last


def momentum_sweep(prices: pd.DataFrame, tbill: pd.Series | None = None, vix: pd.Series | None = None,
                   spy: pd.Series | None = None, *, lookback=126, top=3, leverage=1.0, vix_overlay=False,
                   trend=0, cost_bps: float = 10.0, lag: int = 1, spread: float = 0.0,
                   start=None, end=None) -> SweepResult:
    """Every configuration's daily result (see module doc) in one pass over the rebalances.

    ``prices``: sessions x universe (adjusted closes, NaN before listing); ``tbill``: DGS3MO in percent
    on the same sessions (None: cash earns 0); ``vix``/``spy``: closes, needed only for the overlay
    and the trend filter. Parameters are scalars or equal-length sequences (one value per config).
    Without ``start`` the run starts where the longest lookback (and trend window) first has history.
    """
    cfg = _configs(lookback, top, leverage, vix_overlay, trend)
    sessions = prices.index
    if lag < 0:
        raise ArgumentError("lag", f"expected an execution lag >= 0 sessions, got {lag}")
    warmup = int(max(cfg["lookback"].max(), cfg["trend"].max() - 1))
    first, last = _window(sessions, start, end, lag, warmup)
    p = prices.to_numpy(float)
    rate = np.zeros(len(sessions)) if tbill is None else tbill.reindex(sessions).ffill().fillna(0.0).to_numpy(float)
    r_cash = np.concatenate([[0.0], rate[:-1]]) / 100.0 / 252.0          # previous session's T-bill
    vx = np.full(len(sessions), np.nan) if vix is None else vix.reindex(sessions).to_numpy(float)
    sp = np.full(len(sessions), np.nan) if spy is None else spy.reindex(sessions).to_numpy(float)
    if (cfg["trend"] > 0).any() and spy is None:
        raise ArgumentError("spy", "the trend filter needs SPY closes")
    dec = decision_positions(sessions, first, last, lag)
    fills = dec + lag
    out = _simulate(p, r_cash, spread / 252.0, cfg, dec, fills, first, last, vx, sp, cost_bps / 1e4)
    idx = sessions[first:last + 1]
    cols = pd.RangeIndex(len(cfg["lookback"]), name="config")
    frames = [pd.DataFrame(a, index=idx, columns=cols, copy=False) for a in out]
    return SweepResult(*frames, configs=pd.DataFrame(cfg))


def _simulate(p, r_cash, spread_d, cfg, dec, fills, first, last, vx, sp, c):
    """Loop over holding periods, vectorised over configurations; arrays are (sessions x configs)."""
    n_cfg, n_assets, n_days = len(cfg["lookback"]), p.shape[1], last - first + 1
    nav = np.empty((n_days, n_cfg))
    lev = np.zeros((n_days, n_cfg)); turn = np.zeros((n_days, n_cfg)); cost = np.zeros((n_days, n_cfg))
    hold = np.zeros((n_cfg, n_assets))                 # dollar holdings after the last fill
    cash = np.ones(n_cfg)
    at = first - 1                                      # last marked session
    p0 = np.where(np.isnan(p), 1.0, p)
    targets = _targets(p, dec, cfg, vx, sp)
    for k, f in enumerate(fills):
        w = targets[k]
        h, cash = _drift(p0, hold, cash, at, f, r_cash, spread_d, nav, lev, first)
        v = h.sum(1) + cash
        vp = _post_cost_value(v, h, w, c)
        traded = np.abs(w * vp[:, None] - h).sum(1)
        hold, cash = w * vp[:, None], vp * (1.0 - w.sum(1))
        prev = nav[f - first - 1] if f > first else np.ones(n_cfg)
        nav[f - first], lev[f - first] = vp, hold.sum(1) / vp
        turn[f - first], cost[f - first] = traded / 2.0 / v, (v - vp) / prev
        at = f
    _drift(p0, hold, cash, at, last, r_cash, spread_d, nav, lev, first)
    prev = np.vstack([np.ones((1, n_cfg)), nav[:-1]])
    return nav / prev - 1.0, lev, turn, cost


def _cash_growth(r_cash, spread_d, cash, a, b):
    """Cumulative growth of cash from the close of ``a`` to each close in (a, b] (rows) per config."""
    r = r_cash[a + 1:b + 1][:, None] + np.where(cash < 0, spread_d, 0.0)[None, :]
    return np.cumprod(1.0 + r, axis=0)


def _drift(p0, hold, cash, a, b, r_cash, spread_d, nav, lev, first):
    """Mark holdings and cash from the close of ``a`` to the closes (a, b]; write NAV and leverage rows;
    return the holdings and cash at the close of ``b``."""
    if b <= a:
        return hold, cash
    rel = p0[a + 1:b + 1] / p0[a]                                   # days x assets
    g = _cash_growth(r_cash, spread_d, cash, a, b)
    c_path = cash[None, :] * g
    total = rel @ hold.T + c_path                                    # days x configs
    nav[a + 1 - first:b + 1 - first] = total
    lev[a + 1 - first:b + 1 - first] = (rel @ np.abs(hold).T) / total
    return hold * rel[-1][None, :], c_path[-1]
