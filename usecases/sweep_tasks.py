"""What one sweep worker runs: a chunk of configurations of one strategy on one market.

Everything here is importable by a fresh process (a local pool worker or a Dask worker): the task
receives only plain data (the Market's frames, the strategy name, parameter dicts, dates) and builds
its own solver objects inside; nothing unpicklable crosses the wire. A configuration that fails is
returned as a row with ``error`` set, never raised.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.errors import ArgumentError

MOMENTUM_UNIVERSE = ("XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY", "TLT")
MOMENTUM_PARAMS = ("lookback", "top", "leverage", "vix_overlay", "trend", "cost_bps", "lag", "spread")
_MOMENTUM_DEFAULTS = {"lookback": 126, "top": 3, "leverage": 1.0, "vix_overlay": False, "trend": 0,
                      "cost_bps": 10.0, "lag": 1, "spread": 0.0}


def reference_returns(market, start, end, lag: int = 1) -> dict:
    """SPY (buy and hold) and the benchmark (the SPY sector replication re-estimated at every
    rebalance) through the backtester's own book, without costs, as ``rotation backtest`` computes
    them; and the daily T-bill rate. Series on the window's sessions."""
    from engine.backtest.policies import BuyHold, Replication
    from engine.backtest.simulate import BacktestConfig, run
    from engine.universe import SECTORS
    from usecases.backtest import ZERO_COST

    cfg = BacktestConfig(start=pd.Timestamp(start or "2005-01-01"), end=pd.Timestamp(end) if end else market.last,
                         execution_lag=int(lag), cost_model=ZERO_COST)
    spy = run(market, BuyHold("SPY"), cfg)
    bench = run(market, Replication([t for t in SECTORS if t in market.prices.columns]), cfg)
    rf = (market.stress["dgs3mo"].reindex(market.sessions).shift(1) / 100 / 252) if "dgs3mo" in market.stress \
        else pd.Series(0.0, index=market.sessions)
    return {"spy": spy.returns, "benchmark": bench.returns, "rf": rf}


def momentum_group(market, configs: list[dict], start, end):
    """Vectorised momentum over ``configs`` (one lag, cost and spread per call): the SweepResult."""
    from engine.research.momentum import momentum_sweep

    for c in configs:
        bad = sorted(set(c) - set(MOMENTUM_PARAMS))
        if bad:
            raise ArgumentError(bad[0], f"momentum has no parameter {bad[0]!r}; expected one of {', '.join(MOMENTUM_PARAMS)}")
    full = [{**_MOMENTUM_DEFAULTS, **c} for c in configs]
    shared = {k: full[0][k] for k in ("cost_bps", "lag", "spread")}
    if any(any(f[k] != shared[k] for k in shared) for f in full):
        raise ArgumentError("grid", "cost_bps, lag and spread must be the same for configurations run together")
    uni = [t for t in MOMENTUM_UNIVERSE if t in market.prices.columns]
    cols = {k: [f[k] for f in full] for k in ("lookback", "top", "leverage", "vix_overlay", "trend")}
    vix = market.stress["vix"] if "vix" in market.stress else None
    return momentum_sweep(market.prices[uni], market.stress.get("dgs3mo"), vix, market.prices.get("SPY"),
                          **cols, **shared, start=start, end=end)


def _momentum_rows(market, configs: list[dict], start, end, refs: dict) -> list[dict]:
    """Rows with the metric keys of ``rotation backtest`` (engine.backtest.metrics' conventions;
    HAC t-statistics of alpha and beta are left out of sweeps)."""
    from engine.research.summary import summarize

    res = momentum_group(market, configs, start, end)
    idx = res.returns.index
    opening = market.sessions[market.sessions.get_loc(idx[0]) - 1]
    fill = lambda s: s.reindex(idx).fillna(0.0).to_numpy(float)  # noqa: E731
    kw = dict(turnover=res.turnover.to_numpy(), cost=res.cost.to_numpy(), leverage=res.leverage.to_numpy(),
              calendar_days=(idx[-1] - opening).days)
    m = summarize(res.returns.to_numpy(), benchmark=refs["spy"].reindex(idx).to_numpy(float), rf=fill(refs["rf"]), **kw)
    mb = summarize(res.returns.to_numpy(), benchmark=refs["benchmark"].reindex(idx).to_numpy(float))
    m["tracking_error_benchmark"], m["information_ratio_benchmark"] = mb["tracking_error"], mb["information_ratio"]
    return [{"params": c, "metrics": {k: float(v[j]) for k, v in m.items()}, "error": None,
             "returns": res.returns.iloc[:, j].rename(None)} for j, c in enumerate(configs)]


def _backtest_row(market, strategy: str, config: dict, start, end) -> dict:
    try:
        from usecases.backtest import run_backtest
    except ImportError:
        raise ArgumentError("--strategy", f"strategy {strategy!r} needs the backtester (usecases.backtest), "
                                          "which is not part of this build; only 'momentum' can be swept") from None
    res = run_backtest(market, strategy, start=start, end=end, **config)
    return {"params": config, "metrics": {k: _num(v) for k, v in dict(res.metrics).items()}, "error": None,
            "returns": res.returns.rename(None), "failed_rebalances": len(res.failed or [])}


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) else v


def _failed(config: dict, exc: BaseException) -> dict:
    return {"params": config, "metrics": {}, "error": f"{type(exc).__name__}: {exc}", "returns": None}


def evaluate_chunk(market, strategy: str, configs: list[dict], start=None, end=None, refs: dict | None = None) -> list[dict]:
    """Rows for ``configs`` (same order): ``params``, ``metrics`` (the backtest's metric keys),
    ``returns`` (daily Series) and ``error`` (None, or the failure in one line). ``refs``: what
    ``reference_returns`` gives, for momentum (computed once per sweep by the caller)."""
    if strategy == "momentum":
        try:
            return _momentum_rows(market, configs, start, end, refs)
        except Exception:  # noqa: BLE001 - isolate the failing configuration(s), one by one
            if len(configs) == 1:
                import sys
                return [_failed(configs[0], sys.exc_info()[1])]
            return [r for c in configs for r in evaluate_chunk(market, strategy, [c], start, end, refs)]
    rows = []
    for c in configs:
        try:
            rows.append(_backtest_row(market, strategy, c, start, end))
        except Exception as exc:  # noqa: BLE001 - a failed configuration is a row, not a crash
            rows.append(_failed(c, exc))
    return rows
