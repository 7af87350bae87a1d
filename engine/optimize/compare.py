"""Walk-forward, out-of-sample comparison: plain mean-variance (no turnover control) vs the allocator.

At each rebalance date t (last session of each period): the covariance comes from the ``window``
daily returns up to and including t, expected returns from ``expected_fn(t, returns.loc[:t])``; both
portfolios are re-solved and traded at t's close, so the new weights earn returns from the next
session on. Between rebalances weights drift with realized returns (no constant-weight shortcut):
w_i <- w_i (1 + r_i) / (1 + r_p). Costs of each trade are charged with the optimizer's cost model
(:func:`engine.optimize.costs.cost`) as a deduction from the portfolio's return on the trade date.

"mean-variance": maximize mu'w - gamma w'Σw, long only, fully invested, no other limit, costs
not in the objective. "allocator": every limit of ``limits`` and costs in the objective.

Reported (from realized daily net returns): annualized return and volatility, Sharpe (rf given per
day, annualized with 252 sessions), one-way turnover per year, ex-post tracking error against
``benchmark_returns`` (std of daily active return x sqrt(252)), total costs in bps per year.
"""
from __future__ import annotations

import logging
import math
from typing import Callable

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, InfeasibleError, NoDataError, SolverError
from engine.optimize import costs as costs_mod
from engine.optimize.covariance import risk_model
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs

log = logging.getLogger(__name__)
PLAIN_LIMITS = dict(tech_cap=1.0, tracking_error=math.inf, turnover=1.0, sector_min=0.0, sector_max=1.0,
                    defensive_floor=0.0, cost_bps=0.0, impact_coef=0.0, allow_cash=False, cash_max=0.0,
                    active_risk=False)


def rebalance_dates(index: pd.DatetimeIndex, freq: str = "ME") -> pd.DatetimeIndex:
    """Last session of each period (``ME`` monthly, ``QE`` quarterly, ``W`` weekly) present in ``index``."""
    s = pd.Series(index, index=index)
    return pd.DatetimeIndex(s.groupby(pd.Grouper(freq=freq)).last().dropna().to_numpy())


def _simulate(returns: np.ndarray, dates: pd.DatetimeIndex, targets: dict, impact: dict, model):
    n_days, n = returns.shape
    w = np.zeros(n)
    cash = 1.0
    net = np.full(n_days, np.nan)
    turnover = []
    cost_total = 0.0
    started = False
    for i, t in enumerate(dates):
        if started:
            r = np.nan_to_num(returns[i])
            gross = w @ r
            net[i] = gross
            total = cash + w.sum() + gross
            w = w * (1 + r) / total
            cash = cash / total
        if t in targets:
            new_w, new_cash = targets[t]
            trade = new_w - w
            turn = 0.5 * (np.abs(trade).sum() + abs(new_cash - cash))
            c = costs_mod.cost(trade, 1e4 * float(model.linear_rate(np.nan)[0]), impact.get(t), model.impact_exponent)
            if started:              # the first purchase is neither cost nor turnover of the comparison
                net[i] -= c
                cost_total += c
            turnover.append(turn if started else 0.0)
            w, cash = new_w.copy(), new_cash
            started = True
    return net, float(np.sum(turnover)), cost_total


def _stats(net: pd.Series, bench: pd.Series, turnover: float, cost: float, rf_daily: float) -> dict:
    net = net.dropna()
    years = len(net) / 252.0
    ex = net - rf_daily
    vol = net.std(ddof=1) * math.sqrt(252)
    active = (net - bench.reindex(net.index)).dropna()
    return {
        "annual_return": float((1 + net).prod() ** (1 / years) - 1) if years > 0 else float("nan"),
        "annual_volatility": float(vol),
        "sharpe": float(ex.mean() / ex.std(ddof=1) * math.sqrt(252)) if ex.std(ddof=1) > 0 else float("nan"),
        "turnover_per_year": turnover / years if years > 0 else float("nan"),
        "tracking_error_ex_post": float(active.std(ddof=1) * math.sqrt(252)),
        "cost_bps_per_year": 1e4 * cost / years if years > 0 else float("nan"),
        "sessions": int(len(net)),
    }


def compare(returns: pd.DataFrame, benchmark_returns: pd.Series,
            expected_fn: Callable[[pd.Timestamp, pd.DataFrame], pd.Series],
            limits: Limits | None = None, freq: str = "ME", window: int = 252,
            cov_method: str = "ledoit_wolf_constant_corr", benchmark_weights: pd.Series | None = None,
            regime_fn: Callable[[pd.Timestamp], str] | None = None, adv_dollars: pd.DataFrame | None = None,
            rf_daily: float = 0.0, start=None) -> pd.DataFrame:
    """Side-by-side out-of-sample statistics; columns ``mean-variance`` and ``allocator``.

    ``returns``: date x ticker simple daily returns (NaN before a sector exists); ``benchmark_returns``:
    daily returns of the benchmark (e.g. SPY), for ex-post tracking error. ``expected_fn(t, past)`` gets
    only returns up to t. ``benchmark_weights``: weights for the allocator's ex-ante tracking error
    (default equal weights over the sectors investable at t, renormalized). ``regime_fn(t)``: regime at t
    (default calm). ``adv_dollars``: date x ticker average dollar volume known at t (None = no impact
    cost and no liquidity limit). A rebalance whose limits are infeasible keeps the drifted weights and is
    counted in ``infeasible_rebalances``. ``attrs["daily"]`` holds both portfolios' net daily returns. Both portfolios start from the benchmark weights at the first
    rebalance (that purchase is not charged), so the first solve is within the turnover limit.
    """
    limits = limits or Limits()
    if not isinstance(returns, pd.DataFrame) or returns.empty:
        raise ArgumentError("returns", "expected a non-empty date x ticker DataFrame of daily returns")
    tickers = list(returns.columns)
    rets = returns.sort_index()
    dates = rets.index
    rebal = rebalance_dates(dates, freq)
    if start is not None:
        rebal = rebal[rebal >= pd.Timestamp(start)]
    rebal = [t for t in rebal if rets.loc[:t].shape[0] >= window]
    if not rebal:
        raise NoDataError(f"no rebalance date has {window} sessions of returns before it")
    plain_lim = limits.with_(**PLAIN_LIMITS, costs=None)
    engines = {"mean-variance": (FastAllocator(tickers), plain_lim), "allocator": (FastAllocator(tickers), limits)}
    targets = {k: {} for k in engines}
    impacts: dict = {}
    infeasible = {k: 0 for k in engines}
    current = {k: pd.Series(0.0, index=tickers) for k in engines}
    last_t = None
    arr = rets.to_numpy(float)
    pos = {t: i for i, t in enumerate(dates)}
    for t in rebal:
        past = rets.loc[:t]
        rm = risk_model(past, t, window=window, method=cov_method)
        mu = expected_fn(t, past).reindex(tickers)
        inv = list(rm.investable)
        b = (benchmark_weights.reindex(tickers).fillna(0.0) if benchmark_weights is not None
             else pd.Series(1.0, index=tickers)).where(pd.Index(tickers).isin(inv), 0.0)
        b = b / b.sum()
        adv = adv_dollars.loc[:t].iloc[-1].reindex(tickers) if adv_dollars is not None else None
        sig_d = rm.daily_vol
        if adv is not None:
            impacts[t] = limits.cost_model().impact_coefficients(sig_d.to_numpy(), adv.to_numpy(),
                                                                 limits.portfolio_value)
        regime = regime_fn(t) if regime_fn else "calm"
        for name, (eng, lim) in engines.items():
            w_now = b.copy() if last_t is None else current[name]   # both start from the benchmark
            if last_t is not None:  # drift the held weights to t to know the current portfolio
                w_now = _drifted(w_now, arr[pos[last_t] + 1: pos[t] + 1])
            inp = AllocationInputs(mu=mu, cov=rm.cov, current=w_now, benchmark=b, regime=regime,
                                   sigma_daily=sig_d if adv is not None else None, adv_dollars=adv,
                                   investable=rm.investable)
            try:
                a = eng.solve(inp, lim)
                new = a.weights
                targets[name][t] = (new.to_numpy(), a.cash)
            except (InfeasibleError, SolverError) as e:
                infeasible[name] += 1
                log.info("%s at %s: %s Weights kept.", name, t.date(), e)
                new = w_now
                if last_t is None:
                    targets[name][t] = (new.to_numpy(), 0.0)
            current[name] = new
        last_t = t
    first = pos[rebal[0]]
    sim_dates = dates[first:]
    bench = benchmark_returns.reindex(sim_dates)
    out = {}
    daily = {}
    for name in engines:
        net, turn, cost = _simulate(arr[first:], sim_dates, targets[name], impacts, limits.cost_model())
        daily[name] = pd.Series(net, index=sim_dates).iloc[1:]
        stats = _stats(daily[name], bench, turn, cost, rf_daily)
        stats["rebalances"] = len(rebal)
        stats["infeasible_rebalances"] = infeasible[name]
        out[name] = stats
    df = pd.DataFrame(out)
    df.attrs["daily"] = pd.DataFrame(daily)     # net daily returns of both portfolios
    df.attrs["note"] = ("walk-forward out of sample; tracking error is ex-post from realized daily returns "
                        "against the benchmark series; costs charged with the optimizer's cost model")
    return df


def _drifted(w: pd.Series, period_returns: np.ndarray) -> pd.Series:
    """Weights after holding ``w`` (plus cash 1 - sum w) through the given daily returns."""
    x = w.to_numpy(float).copy()
    cash = 1.0 - x.sum()
    for r in period_returns:
        r = np.nan_to_num(r)
        x = x * (1 + r)
        tot = x.sum() + cash
        x, cash = x / tot, cash / tot
    return pd.Series(x, index=w.index)
