"""Backtest use case: "what would following this rule have earned, against its benchmark and SPY,
after costs, and why?" -- one function every face calls (CLI, ribbon's Run Backtest, BACKTEST_STATS).

``run_backtest(market, strategy, **params)`` simulates the strategy, the benchmark (the SPY sector
replication re-estimated at every rebalance, no costs) and SPY (buy and hold, no costs) through the
same book, on the same sessions, and returns a :class:`BacktestResult`.
"""
from __future__ import annotations

import math
import weakref
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

STRATEGIES = ("rotation", "rotation-nosignal", "mean-variance", "momentum", "equal", "benchmark", "spy", "hy-rule",
              "hy-rule-nosignal")
ORIGINAL_SECTORS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
ZERO_COST = CostModel(half_spread_bps=0.0, impact_eta=0.0)
_KNOWN = {"start", "end", "lookback", "top", "leverage", "vix_overlay", "vix_daily_reset", "schedule", "every",
          "min_gap", "lag", "limits", "cost_bps", "universe", "capital", "financing_spread_bps", "attribution_method",
          "stress_config", "steps", "step_sessions"}


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
    expected: dict = field(default_factory=dict)     # decision date -> the allocator's Allocation (rotation)

    returns = property(lambda self: self.run.returns)
    transition_mask = property(lambda self: transition_mask(self.run))   # bool per session: inside a multi-step rebalance
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
                "verdict": verdict(self), "notes": self.notes}


def verdict(result: "BacktestResult") -> str:
    """The result in words, computed from the numbers: CAGR and Sharpe against SPY and the benchmark,
    and whether the alpha against SPY is significant (HAC t-statistic, 5% two-sided)."""
    m, s, b = result.metrics, result.spy_metrics, result.benchmark_metrics
    if any(not isinstance(x.get(k), float) or not math.isfinite(x.get(k)) for x in (m, s) for k in ("cagr", "sharpe")):
        return "too few sessions for a verdict"
    word = "beat" if m["cagr"] > s["cagr"] else "trailed"
    t = m.get("alpha_t")
    sig = ("significant at 5%" if t is not None and math.isfinite(t) and abs(t) >= 1.96
           else "not significant at 5% (|t| < 1.96)")
    return (f"{result.strategy} {word} SPY: CAGR {m['cagr']:.2%} vs {s['cagr']:.2%} ({m['cagr'] - s['cagr']:+.2%} a year), "
            f"Sharpe {m['sharpe']:.2f} vs {s['sharpe']:.2f}; vs the benchmark CAGR {b['cagr']:.2%}. Alpha vs SPY "
            f"{m['alpha']:+.2%} a year (HAC t {t:.2f}): {sig}. Max drawdown {m['max_drawdown']:.1%} vs "
            f"{s['max_drawdown']:.1%}; cost drag {m['cost_drag']:.2%} a year.")


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
         "attribution_method": "carino", "steps": 1, "step_sessions": None, **{k: v for k, v in params.items() if v is not None}}
    return p


def _cost_model(strategy: str, p: dict, limits: Limits) -> CostModel:
    if p["cost_bps"] is not None:
        return CostModel(half_spread_bps=float(p["cost_bps"]), impact_eta=0.0)
    if limits.costs is not None and strategy not in ("benchmark", "spy"):
        return limits.costs             # an explicit [costs] table applies to every traded strategy
    if strategy == "momentum":
        return CostModel(half_spread_bps=10.0, impact_eta=0.0)   # EXP-002: 10 bps of traded notional
    if strategy in ("benchmark", "spy"):
        return ZERO_COST
    return limits.cost_model()       # the allocator's own model: objective and simulator agree


def _policy(market, strategy: str, p: dict, limits: Limits):
    if str(p["steps"]) != "1" and strategy not in ("rotation", "rotation-nosignal", "mean-variance"):
        raise ArgumentError("--steps", f"multi-step rebalances are for the allocator strategies (rotation, "
                                       f"rotation-nosignal, mean-variance), not {strategy!r}")
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
    if strategy.startswith("hy-rule"):      # engine/backtest/hy_rule.py: the HY-change baseline over the benchmark
        from engine.backtest.hy_rule import HYRule
        return HYRule(Replication(sectors), use_signal=strategy == "hy-rule", name=strategy), None
    return _rotation_policy(market, strategy, p, limits, sectors)


_SIGNALS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # market -> {(end, stress config): signals}
_REFERENCES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # market -> {reference config: (bench, spy)}


def _rotation_policy(market, strategy, p, limits, sectors):
    """The allocator policy with its causal signals (stress regime, composite scores) computed on the
    point-in-time view at the end of the window: every row t of them uses data up to t only. The signals
    are kept per market object, end date and stress config, so a sweep of many rotation configurations
    (each worker holds one market) computes them once; they do not depend on the configuration."""
    from engine.backtest.rotation import Rotation
    from engine.factors.composite import composite_score
    from engine.factors.compute import factor_panel
    from usecases import signals

    end = pd.Timestamp(p["end"] or market.last)
    cfg = p.get("stress_config")
    per = _SIGNALS.setdefault(market, {})
    key = (end, cfg)
    if key not in per:        # one stress stage and one composite per market, end date and stress config
        view = market.asof(end)
        res = signals.stress_result(view, cfg)   # --stress-config reaches the decisions
        panel = factor_panel(view, res.daily["index"], rule=res.config.user_factors)   # [user_factors] cleaning
        per[key] = (res.daily["regime"], composite_score(panel, "equal"))
    regimes, composite = per[key]
    steps = p["steps"] if p["steps"] == "auto" else _whole(p["steps"], "--steps")
    pol = Rotation(sectors, limits, regimes, composite, use_signal=strategy == "rotation",
                   plain=strategy == "mean-variance", name=strategy, steps=steps,
                   step_sessions=None if p["step_sessions"] is None else _whole(p["step_sessions"], "--step-sessions"))
    return pol, None


def _whole(value, name: str) -> int:
    """A positive whole number from an int or its text (``--steps 3``), else ArgumentError naming ``name``."""
    try:
        v = int(str(value))
    except ValueError:
        v = 0
    if isinstance(value, bool) or v < 1 or str(v) != str(value).strip():
        raise ArgumentError(name, f"expected a positive whole number or 'auto', got {value!r}")
    return v


def _trigger_dates(market, end) -> pd.Series:
    """Dates of the stress triggers (regime changes, strength moves), each computed from data up to it."""
    from engine.stress.pipeline import triggers
    from usecases import signals

    per = _SIGNALS.setdefault(market, {})
    if ("triggers", end) not in per:
        per[("triggers", end)] = triggers(signals.stress_result(market.asof(end)))["date"]
    return per[("triggers", end)]


def run_backtest(market, strategy: str, **params) -> BacktestResult:
    """Backtest ``strategy`` (one of :data:`STRATEGIES`) on ``market``.

    Parameters (all optional): ``start``/``end`` (dates; default 2005-01-01 to the last session),
    ``lookback``/``top`` (momentum), ``leverage`` (gross exposure at each rebalance), ``vix_overlay``
    (EXP-002 scaling at rebalances), ``vix_daily_reset``, ``schedule`` (monthly, weekly, every, triggers),
    ``every`` (sessions), ``min_gap`` (triggers), ``lag`` (fill at decision + lag sessions; 0 =
    look-ahead), ``limits`` (:class:`Limits`, with its cost model), ``cost_bps`` (flat cost instead),
    ``universe``, ``capital``, ``financing_spread_bps``, ``attribution_method`` (carino or grap),
    ``steps`` (rotation strategies: 1, a whole number or ``"auto"``; a rebalance is executed in that many
    steps ``step_sessions`` apart, default the limits' liquidity_days, along the multi-step transition path
    of engine.optimize.multistep / transition, every step charged with the same CostModel).
    The result's ``transition_mask`` marks the sessions of those transitions; the metrics carry
    ``tracking_error_transition`` and ``tracking_error_outside`` (against the benchmark).
    """
    p = _params(strategy, params)
    limits = p.pop("limits", None) or Limits()
    end = pd.Timestamp(p["end"]) if p["end"] is not None else market.last
    cfg = BacktestConfig(start=pd.Timestamp(p["start"]), end=end, execution_lag=int(p["lag"]),
                         schedule=p["schedule"], every=int(p["every"]), min_gap=int(p["min_gap"]),
                         leverage=float(p["leverage"]), vix_overlay=bool(p["vix_overlay"]),
                         vix_daily_reset=bool(p["vix_daily_reset"]), financing_spread_bps=float(p["financing_spread_bps"]),
                         capital=float(p["capital"]), cost_model=_cost_model(strategy, p, limits))
    policy, _ = _policy(market, strategy, p, limits)
    trig = _trigger_dates(market, end) if cfg.schedule == "triggers" else None
    fast = None
    if isinstance(policy, Momentum) and not cfg.vix_daily_reset:
        i0, i1 = window(market.sessions, cfg.start, cfg.end)
        fast = policy.targets_at(market.prices, decisions_for(market.sessions, cfg, i0, i1, trig))
    main = run(market, policy, cfg, trigger_dates=trig, targets=fast)
    ref_cfg = BacktestConfig(start=cfg.start, end=cfg.end, execution_lag=cfg.execution_lag, schedule=cfg.schedule,
                             every=cfg.every, min_gap=cfg.min_gap, capital=cfg.capital, cost_model=ZERO_COST)
    bench, spy = _references(market, ref_cfg, trig)
    return _assemble(strategy, p, main, bench, spy, market, policy)


def _references(market, ref_cfg: BacktestConfig, trig) -> tuple[Run, Run]:
    """The benchmark (the SPY replication re-estimated at every rebalance) and SPY through the same
    book without costs, kept per market and reference configuration (dates, lag, schedule, capital):
    they do not depend on the strategy's parameters."""
    per = _REFERENCES.setdefault(market, {})
    key = (ref_cfg, None if trig is None else tuple(pd.DatetimeIndex(trig).asi8))
    if key not in per:
        sectors = [s for s in SECTORS if s in market.prices.columns]
        per[key] = (run(market, Replication(sectors), ref_cfg, trigger_dates=trig),
                    run(market, BuyHold("SPY"), ref_cfg, trigger_dates=trig))
    return per[key]


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
    in_tr = transition_mask(main)
    tte = split_tracking_error(main.returns - bench.returns, in_tr)
    m.update(tracking_error_transition=tte["transition"], tracking_error_outside=tte["other"],
             transition_sessions=tte["transition_sessions"])
    notes = [main.config.timing_note] if main.config.execution_lag == 0 else []
    if market.is_demo:
        notes.append("DEMO DATA (synthetic): not a market result")
    shown = {k: v for k, v in p.items() if k not in ("universe",)}
    shown["universe"] = list(policy.tickers)
    shown["cost_model"] = main.config.cost_model.to_dict()
    return BacktestResult(strategy, shown, main, bench, spy, m, bm, sm, attr, tte, rf, notes,
                          dict(getattr(policy, "expected", {})))


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


def transition_mask(run: Run) -> pd.Series:
    """True on the sessions of multi-step rebalances, from the fill of the first step to the fill of
    the last one made (both included: the first step's cost and the last step's move are inside)."""
    mask = np.zeros(len(run.dates), bool)
    for first, last in run.transitions:
        mask[run.dates.searchsorted(first):run.dates.searchsorted(last) + 1] = True
    return pd.Series(mask, index=run.dates, name="transition")


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


def workbook_frames(result: BacktestResult, every: int = 21) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decision workbook's Backtest and Attribution tables from ``result``.

    Backtest (every ``every``-th session and the last; date index): growth of 1 for the strategy, its
    benchmark and SPY, both drawdowns, rolling 12-month active return and tracking error against SPY;
    ``attrs["metrics"]``: rows (metric, strategy, benchmark, SPY). Attribution (sector index): linked
    allocation, selection, interaction and total, plus a ``costs`` row; ``attrs`` holds the active return.
    """
    r = result.returns
    roll = M.rolling_active(r, result.spy.returns)
    df = pd.DataFrame({"strategy": (1 + r).cumprod(), "benchmark": (1 + result.benchmark.returns).cumprod(),
                       "spy": (1 + result.spy.returns).cumprod(), "drawdown": M.drawdown(r),
                       "spy_drawdown": M.drawdown(result.spy.returns), "rolling_active_12m": roll["active_return"],
                       "rolling_te_12m": roll["tracking_error"]})
    keep = np.r_[np.arange(0, len(df), every), len(df) - 1]
    df = df.iloc[np.unique(keep)].rename_axis("date")
    keys = ("total_return", "cagr", "volatility", "sharpe", "sharpe_tbill", "sortino", "max_drawdown", "calmar",
            "win_rate_daily", "alpha", "beta", "tracking_error", "information_ratio", "turnover", "cost_drag",
            "avg_leverage")
    df.attrs["metrics"] = [(k, result.metrics.get(k), result.benchmark_metrics.get(k), result.spy_metrics.get(k))
                           for k in keys]
    df.attrs["title"] = (f"{result.strategy} {r.index[0].date()} to {r.index[-1].date()}, "
                         f"{result.run.config.timing_note}")
    a = result.attribution
    att = a.sectors[["allocation", "selection", "interaction", "total"]].copy()
    att.loc["costs"] = [0.0, 0.0, 0.0, a.costs]
    att.index.name = "sector"
    att.attrs.update(active_return=a.active_return, method=a.method)
    return df, att


def signal_value(market, **params) -> dict:
    """What the bond-stress signal adds: ``rotation`` against ``rotation-nosignal`` (same allocator,
    limits, costs and dates), the mean return difference a year with its HAC t-statistic, in words."""
    a = run_backtest(market, "rotation", **params)
    b = run_backtest(market, "rotation-nosignal", **params)
    test = M.difference_test(a.returns, b.returns)
    sig = abs(test["t"]) >= 1.96 if math.isfinite(test["t"]) else False
    words = (f"the signal {'adds' if test['mean'] > 0 else 'costs'} {test['mean']:+.2%} a year "
             f"(standard error {test['se']:.2%}, HAC t {test['t']:.2f}): "
             f"{'significant' if sig else 'not distinguishable from zero'} at 5%")
    return {"rotation": _clean(a.metrics), "rotation_nosignal": _clean(b.metrics), "difference": _clean(test),
            "verdict": words, "from": a.to_dict()["from"], "to": a.to_dict()["to"]}
