"""Backtest use case: "what would following this rule have earned, against its benchmark and SPY,
after costs, and why?" -- one function every face calls (CLI, ribbon's Run Backtest, BACKTEST_STATS).

``run_backtest(market, strategy, **params)`` simulates the strategy, the benchmark (the SPY sector
replication re-estimated at every rebalance, no costs) and SPY (buy and hold, no costs) through the
same book, on the same sessions, and returns a :class:`BacktestResult`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.backtest import metrics as M
from engine.backtest.attribution import Attribution, brinson_fachler, split_tracking_error
from engine.backtest.policies import BuyHold, EqualWeight, Momentum, Replication
from engine.backtest.simulate import BacktestConfig, Run, arrays_for, decisions_for, run, window
from engine.costs import CostModel
from engine.errors import ArgumentError
from engine.optimize.limits import Limits
from engine.universe import SECTORS

STRATEGIES = ("rotation", "rotation-nosignal", "mean-variance", "momentum", "equal", "benchmark", "spy")
ORIGINAL_SECTORS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
ZERO_COST = CostModel(half_spread_bps=0.0, impact_eta=0.0)
_KNOWN = {"start", "end", "lookback", "top", "leverage", "vix_overlay", "vix_daily_reset", "schedule", "every",
          "min_gap", "lag", "limits", "cost_bps", "universe", "capital", "financing_spread_bps", "attribution_method"}


@dataclass
class BacktestResult:
    """``returns`` (daily net Series), ``weights`` (close weights incl. cash), ``trades`` (orders),
    ``metrics`` / ``benchmark_metrics`` / ``spy_metrics`` (dicts), ``attribution``
    (:class:`engine.backtest.attribution.Attribution`), ``failed`` (list of (date, reason, conflicts))."""

    strategy: str
    params: dict
    run: Run
    benchmark: Run
    spy: Run
    metrics: dict
    benchmark_metrics: dict
    spy_metrics: dict
    attribution: Attribution
    transition_te: dict
    rf_daily: pd.Series
    notes: list[str] = field(default_factory=list)

    returns = property(lambda self: self.run.returns)
    weights = property(lambda self: self.run.weights)
    trades = property(lambda self: self.run.trades)
    failed = property(lambda self: [(f.date, f.reason, f.conflicts) for f in self.run.failed])

    def daily(self) -> pd.DataFrame:
        """One row per session: date, nav, return, benchmark_return, spy_return, leverage, turnover, cost
        (cost as a fraction of the previous NAV)."""
        r = self.run
        prev = pd.Series(np.r_[r.config.capital, r.nav.to_numpy()[:-1]], index=r.dates)
        return pd.DataFrame({"nav": r.nav, "return": r.returns, "benchmark_return": self.benchmark.returns,
                             "spy_return": self.spy.returns, "leverage": r.leverage, "turnover": r.turnover,
                             "cost": r.cost / prev}, index=r.dates).rename_axis("date")

    def to_dict(self) -> dict:
        r = self.run
        return {"strategy": self.strategy, "params": self.params,
                "from": r.dates[0].date().isoformat(), "to": r.dates[-1].date().isoformat(),
                "timing": r.config.timing_note, "metrics": _clean(self.metrics),
                "benchmark_metrics": _clean(self.benchmark_metrics), "spy_metrics": _clean(self.spy_metrics),
                "failed_rebalances": [f.to_dict() for f in r.failed], "rebalances": len(r.decisions),
                "attribution": _clean(self.attribution.to_dict()), "transition_tracking_error": _clean(self.transition_te),
                "notes": self.notes}


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, (np.floating, np.integer)):
        return _clean(x.item())
    return x


def _params(strategy: str, params: dict) -> dict:
    unknown = set(params) - _KNOWN
    if unknown:
        raise ArgumentError(sorted(unknown)[0], f"unknown backtest parameter; known: {', '.join(sorted(_KNOWN))}")
    if strategy not in STRATEGIES:
        raise ArgumentError("--strategy", f"expected one of {', '.join(STRATEGIES)}, got {strategy!r}")
    p = {"start": "2005-01-01", "end": None, "lookback": 126, "top": 3, "leverage": 1.0, "vix_overlay": False,
         "vix_daily_reset": False, "schedule": "monthly", "every": 21, "min_gap": 5, "lag": 1,
         "cost_bps": None, "universe": None, "capital": 1e9, "financing_spread_bps": 0.0,
         "attribution_method": "carino", **{k: v for k, v in params.items() if v is not None}}
    return p


def _cost_model(strategy: str, p: dict, limits: Limits) -> CostModel:
    if p["cost_bps"] is not None:
        return CostModel(half_spread_bps=float(p["cost_bps"]), impact_eta=0.0)
    if strategy == "momentum":
        return CostModel(half_spread_bps=10.0, impact_eta=0.0)   # EXP-002: 10 bps of traded notional
    if strategy in ("benchmark", "spy"):
        return ZERO_COST
    return limits.cost_model()       # the allocator's own model: objective and simulator agree


def _policy(market, strategy: str, p: dict, limits: Limits):
    sectors = [s for s in SECTORS if s in market.prices.columns]
    if strategy == "momentum":
        uni = p["universe"] or sectors + [t for t in ("TLT",) if t in market.prices.columns]
        return Momentum(list(uni), p["lookback"], p["top"]), None
    if strategy == "equal":
        return EqualWeight(list(p["universe"] or sectors)), None
    if strategy == "benchmark":
        return Replication(sectors), None
    if strategy == "spy":
        return BuyHold("SPY"), None
    return _rotation_policy(market, strategy, p, limits, sectors)


def _rotation_policy(market, strategy, p, limits, sectors):
    """The allocator policy with its causal signals (stress regime, composite scores) computed on the
    point-in-time view at the end of the window: every row t of them uses data up to t only."""
    from engine.backtest.rotation import Rotation
    from engine.factors.composite import composite_score
    from engine.factors.compute import factor_panel
    from usecases import signals

    end = p["end"] or market.last
    view = market.asof(end)
    res = signals.stress_result(view)
    composite = composite_score(factor_panel(view, res.daily["index"]), "equal")
    pol = Rotation(sectors, limits, res.daily["regime"], composite, use_signal=strategy == "rotation",
                   plain=strategy == "mean-variance", name=strategy)
    trig = None
    if p["schedule"] == "triggers":
        from engine.stress.pipeline import triggers
        trig = triggers(res)["date"]
    return pol, trig


def run_backtest(market, strategy: str, **params) -> BacktestResult:
    """Backtest ``strategy`` (one of :data:`STRATEGIES`) on ``market``.

    Parameters (all optional): ``start``/``end`` (dates; default 2005-01-01 to the last session),
    ``lookback``/``top`` (momentum), ``leverage`` (gross exposure at each rebalance), ``vix_overlay``
    (EXP-002 scaling at rebalances), ``vix_daily_reset``, ``schedule`` (monthly, weekly, every, triggers),
    ``every`` (sessions), ``min_gap`` (triggers), ``lag`` (fill at decision + lag sessions; 0 =
    look-ahead), ``limits`` (:class:`Limits`, with its cost model), ``cost_bps`` (flat cost instead),
    ``universe``, ``capital``, ``financing_spread_bps``, ``attribution_method`` (carino or grap).
    """
    p = _params(strategy, params)
    limits = p.pop("limits", None) or Limits()
    end = pd.Timestamp(p["end"]) if p["end"] is not None else market.last
    cfg = BacktestConfig(start=pd.Timestamp(p["start"]), end=end, execution_lag=int(p["lag"]),
                         schedule=p["schedule"], every=int(p["every"]), min_gap=int(p["min_gap"]),
                         leverage=float(p["leverage"]), vix_overlay=bool(p["vix_overlay"]),
                         vix_daily_reset=bool(p["vix_daily_reset"]), financing_spread_bps=float(p["financing_spread_bps"]),
                         capital=float(p["capital"]), cost_model=_cost_model(strategy, p, limits))
    policy, trig = _policy(market, strategy, p, limits)
    fast = None
    if isinstance(policy, Momentum) and not cfg.vix_daily_reset:
        i0, i1 = window(market.sessions, cfg.start, cfg.end)
        fast = policy.targets_at(market.prices, decisions_for(market.sessions, cfg, i0, i1, trig))
    main = run(market, policy, cfg, trigger_dates=trig, targets=fast)
    ref_cfg = BacktestConfig(start=cfg.start, end=cfg.end, execution_lag=cfg.execution_lag, schedule=cfg.schedule,
                             every=cfg.every, min_gap=cfg.min_gap, capital=cfg.capital, cost_model=ZERO_COST)
    sectors = [s for s in SECTORS if s in market.prices.columns]
    bench = run(market, Replication(sectors), ref_cfg, trigger_dates=trig)
    spy = run(market, BuyHold("SPY"), ref_cfg)
    return _assemble(strategy, p, main, bench, spy, market, policy)


def _assemble(strategy, p, main: Run, bench: Run, spy: Run, market, policy) -> BacktestResult:
    rf = market.stress["dgs3mo"].reindex(market.sessions).shift(1).reindex(main.dates) / 100 / 252 \
        if "dgs3mo" in market.stress else pd.Series(0.0, index=main.dates)
    prev = pd.Series(np.r_[main.config.capital, main.nav.to_numpy()[:-1]], index=main.dates)
    start = market.sessions[market.sessions.get_loc(main.dates[0]) - 1]
    kw = dict(spy=spy.returns, rf=rf, start=start)
    m = M.summary(main.returns, turnover=main.turnover, cost=main.cost / prev, leverage=main.leverage, **kw)
    bm = M.summary(bench.returns, turnover=bench.turnover, leverage=bench.leverage, **kw)
    sm = M.summary(spy.returns, **kw)
    te_b, ir_b = M.tracking(main.returns, bench.returns)
    m.update(tracking_error_benchmark=te_b, information_ratio_benchmark=ir_b)
    attr = attribute(main, bench, p["attribution_method"])
    in_tr = _transition_mask(main, policy)
    tte = split_tracking_error(main.returns - bench.returns, in_tr)
    notes = [main.config.timing_note] if main.config.execution_lag == 0 else []
    if market.is_demo:
        notes.append("DEMO DATA (synthetic): not a market result")
    shown = {k: v for k, v in p.items() if k not in ("universe",)}
    shown["universe"] = list(policy.tickers)
    shown["cost_model"] = main.config.cost_model.to_dict()
    return BacktestResult(strategy, shown, main, bench, spy, m, bm, sm, attr, tte, rf, notes)


def attribute(main: Run, bench: Run, method: str = "carino") -> Attribution:
    """Brinson-Fachler of ``main`` against ``bench`` per session (weights held through the session,
    cash as a sector at the T-bill), linked across sessions and summed by month."""
    cols = list(dict.fromkeys([c for c in main.bod_weights.columns if c != "cash"]
                              + [c for c in bench.bod_weights.columns if c != "cash"])) + ["cash"]
    rp = main.asset_returns.assign(cash=main.cash_return).reindex(columns=cols)
    rb = bench.asset_returns.assign(cash=bench.cash_return).reindex(columns=cols)
    rp = rp.fillna(rb)
    rb = rb.fillna(rp)
    return brinson_fachler(main.bod_weights.reindex(columns=cols), rp, main.returns,
                           bench.bod_weights.reindex(columns=cols), rb, method=method, period="M")


def _transition_mask(main: Run, policy) -> pd.Series:
    """Sessions inside a multi-step transition: from a fill whose allocation had the turnover limit
    binding (the target was not reached in one step) to the next fill where it did not."""
    mask = pd.Series(False, index=main.dates)
    steps = getattr(policy, "turnover_bound", None)
    if not steps:
        return mask
    fill_of = dict(main.decisions)
    fills = sorted((fill_of[d], b) for d, b in steps if d in fill_of)
    active_from = None
    for f, binding in fills:
        if binding and active_from is None:
            active_from = f
        elif not binding and active_from is not None:
            mask.loc[active_from:f] = True
            active_from = None
    if active_from is not None:
        mask.loc[active_from:] = True
    return mask


def write_daily_csv(result: BacktestResult, path) -> None:
    """Write :meth:`BacktestResult.daily` to ``path`` atomically (a temporary file renamed into place)."""
    import os
    import tempfile
    from pathlib import Path

    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=p.name, suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            result.daily().reset_index().assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d")).to_csv(
                fh, index=False, float_format="%.17g")
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
