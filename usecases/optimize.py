"""Allocation use cases: "what weights should I hold at date D, within my limits, and how do I get
there?" and the out-of-sample comparison with plain mean-variance.

Pipeline at D (every input uses data up to D only): stress reading -> factor composite scores ->
expected excess returns (IC x vol x score, plus the defensive tilt in stress: the documented prior unless
the evidence known at D supports an estimate, :func:`engine.stress.defensive.tilt_basis`) -> shrunk
covariance -> benchmark (sector replication of SPY) -> allocator (all limits) -> transition path.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.model import Market
from engine.errors import ArgumentError, DataError
from engine.optimize.benchmark import replicating_weights
from engine.optimize.costs import average_dollar_volume, trade_bounds
from engine.optimize.covariance import risk_model
from engine.optimize.expected import expected_returns
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs, allocate
from engine.optimize.transition import transition_path
from engine.universe import SECTORS
from usecases import factors, signals
from usecases.weights import read_weights_csv  # noqa: F401  (the weights-file reader, re-exported)

TICKERS = list(SECTORS)


def describe_binding(name: str, limits: Limits) -> str:
    """A binding constraint's name (from the allocator) in words, with its limit."""
    key, _, ticker = name.partition(":")
    words = {
        "tech_cap": f"tech (XLK) at its {limits.tech_cap:.0%} cap",
        "tracking_error": f"ex-ante tracking error at its {limits.tracking_error:.1%} limit",
        "turnover": f"one-way turnover at its {limits.turnover:.0%} limit per rebalance",
        "defensive_floor": f"defensives (XLU+XLP+XLV) at their {limits.defensive_floor:.0%} floor",
        "sector_max": f"{ticker} at the {limits.sector_max:.0%} sector maximum",
        "sector_min": f"{ticker} at the {limits.sector_min:.0%} sector minimum",
        "liquidity": (f"{ticker} trade at its liquidity limit ({limits.participation:.0%} of "
                      f"{limits.liquidity_days:g}-day volume)"),
        "cash_max": f"cash at its {limits.cash_max:.0%} maximum",
    }
    return words.get(key, name.replace("_", " "))


def binding_sentences(names: list[str], limits: Limits) -> list[str]:
    """Binding constraints in words, with per-sector liquidity limits grouped into one sentence."""
    liquid = [n.partition(":")[2] for n in names if n.startswith("liquidity:")]
    out = [describe_binding(n, limits) for n in names if not n.startswith("liquidity:")]
    if liquid:
        out.append(f"liquidity limit ({limits.participation:.0%} of {limits.liquidity_days:g}-day volume) "
                   f"on the {', '.join(liquid)} trade{'s' if len(liquid) > 1 else ''}")
    return out


def _plan(market, t, inputs, limits, steps, current, bound, cov, sigma_daily, adv):
    """Target and step count of the transition (:func:`engine.optimize.multistep.plan_steps`)."""
    from engine.optimize.multistep import cost_model_of, path_tradeoff, plan_steps

    price = market.close[TICKERS].loc[:t].ffill().iloc[-1].reindex(TICKERS)

    def tradeoff(target, m):
        return path_tradeoff(current, target, m, cov, cost_model_of(limits), limits.portfolio_value, price,
                             sigma_daily, adv, limits.risk_aversion, limits.liquidity_days)

    return plan_steps(lambda lim: allocate(inputs, lim, TICKERS), limits, steps, current, bound, tradeoff)


def optimize_as_of(market: Market, as_of=None, current: pd.Series | None = None, limits: Limits | None = None,
                   steps: int | str = 4, adv_dollars: pd.Series | None = None, stress_config=None,
                   scores: pd.DataFrame | None = None) -> dict:
    """Target weights at ``as_of`` within ``limits`` (the regime from ``stress_config``, default: the shipped one); keys ``as_of, regime, weights, current, benchmark,
    tracking_error, turnover, expected_cost_bps, binding, expected_return, volatility, transition,
    scores, expected_returns, label, steps, steps_tradeoff, defensive_tilt`` (:func:`tilt_label`). ``steps``: rebalances in the path, or
    ``"auto"``; the target is the allocation every per-step limit lets the path reach (see
    :mod:`engine.optimize.multistep`). ``adv_dollars``: the liquidity figure per ticker (default: the
    63-session average dollar volume). Raises InfeasibleError (with conflicts) for limits that cannot hold.
    ``scores``: the :func:`usecases.factors.current_scores` table at ``as_of`` when the caller has it already."""
    limits = limits or Limits()
    res = signals.stress_result(market, stress_config)
    reading = res.reading(as_of)
    t = pd.Timestamp(reading["as_of"])
    regime = reading["regime"] or "calm"
    if scores is None:
        scores = factors.current_scores(market, res.daily["index"], t, stress_config=res.config)
    rets = market.prices[TICKERS].pct_change(fill_method=None)
    risk = risk_model(rets, t)
    cov = risk.cov.loc[TICKERS, TICKERS]
    sigma = pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=TICKERS)
    composite = scores["composite"].reindex(TICKERS)
    composite[[tk for tk in TICKERS if tk not in risk.investable]] = np.nan
    tilt = tilt_label(market, res, t, regime)
    mu = expected_returns(composite, sigma.where(sigma > 0), regime, defensive_tilt=tilt["size"])
    bench = replicating_weights(rets, market.prices["SPY"].pct_change(fill_method=None), t)
    bench = bench.reindex(TICKERS).fillna(0.0)
    if current is None:
        current = bench.copy()
    current = current.reindex(TICKERS).fillna(0.0)
    excluded_held = [tk for tk in TICKERS if tk not in risk.investable and current[tk] > 0]
    if excluded_held:
        raise ArgumentError("current", f"holds {', '.join(excluded_held)}, which has no price history at {t.date()}")
    adv = (average_dollar_volume(market.close[TICKERS], market.volume[TICKERS], t) if adv_dollars is None
           else adv_dollars).reindex(TICKERS)
    sigma_daily = sigma / np.sqrt(252)
    price = market.close[TICKERS].loc[:t].ffill().iloc[-1].reindex(TICKERS)   # for a per-share commission
    inputs = AllocationInputs(mu=mu, cov=cov, current=current, benchmark=bench, regime=regime,
                              sigma_daily=sigma_daily, adv_dollars=adv, investable=tuple(risk.investable),
                              prices=price)
    impact = pd.Series(limits.cost_model().impact_coefficients(sigma_daily.fillna(0).to_numpy(), adv.to_numpy(),
                                                               limits.portfolio_value), index=TICKERS)
    bound = pd.Series(trade_bounds(adv.to_numpy(), limits.portfolio_value, limits.participation,
                                   limits.liquidity_days), index=TICKERS)
    plan = _plan(market, t, inputs, limits, steps, current, bound, cov, sigma_daily, adv)
    alloc, target = plan.allocation, plan.allocation.weights
    path = transition_path(current, target, plan.steps, limits, impact=impact, trade_bound=bound, prices=price)
    return {
        "as_of": t.date().isoformat(), "label": market.label, "regime": regime,
        "weights": {k: float(v) for k, v in target.items()}, "cash": alloc.cash,
        "current": {k: float(v) for k, v in current.items()},
        "benchmark": {k: float(v) for k, v in bench.items()},
        "tracking_error": alloc.tracking_error, "turnover": alloc.turnover,
        "expected_cost_bps": alloc.expected_cost_bps, "binding": list(alloc.binding),
        "binding_text": binding_sentences(alloc.binding, limits),
        "expected_return": alloc.expected_return, "volatility": alloc.volatility, "status": alloc.status,
        "expected_returns": {k: (None if pd.isna(v) else float(v)) for k, v in mu.items()},
        "scores": {k: (None if pd.isna(v) else float(v)) for k, v in composite.items()},
        "limits": limits.to_dict(),
        "transition": path.reset_index().to_dict(orient="records"),
        "transition_note": "; ".join(x for x in (plan.note, path.attrs.get("message", "")) if x),
        "steps": plan.steps, "steps_tradeoff": plan.tradeoff, "target_steps": plan.target_steps,
        "covariance": {"method": risk.method, "shrinkage": risk.shrinkage, "excluded": list(risk.excluded)},
        "defensive_tilt": tilt,
    }


def tilt_label(market, res, t, regime: str) -> dict:
    """The defensive tilt at ``t`` (:func:`usecases.signals.defensive_tilt`: basis, size, text, evidence)
    with ``applied`` (does the regime switch it on), ``applied_size`` (the size times the regime's
    multiplier: what the expected returns carry for each defensive and against XLK) and ``sentence``."""
    from engine.optimize.expected import TILT_MULTIPLIER

    basis = signals.defensive_tilt(market, res, t)
    mult = TILT_MULTIPLIER.get(regime, 0.0)
    applied = mult > 0
    times = "" if mult == 1 else f", {mult:g} x the base size"
    sentence = (f"Defensive tilt applied ({regime} regime{times}): {basis['size'] * mult:+.1%} a year for XLU, XLP and XLV "
                f"and {-basis['size'] * mult:+.1%} for XLK in the expected returns. {basis['text']}" if applied else
                f"No defensive tilt in the {regime} regime (the tilt, the documented prior of "
                f"{basis['prior']:.1%} a year unless the evidence supports an estimate, applies in stress and "
                "crisis, twice in crisis).")
    return {**basis, "applied": applied, "applied_size": basis["size"] * mult, "sentence": sentence}


def compare_allocators(market: Market, limits: Limits | None = None, start="1999-01-01", end=None,
                       stress_config=None) -> dict:
    """Plain mean-variance (long only, no turnover, tracking-error or cost control) against the allocator
    (``rotation``: every limit, costs in the objective), monthly, walk-forward out of sample through the
    backtest simulator: same expected returns (scores and regime at t), fills one session after the
    decision, both charged the allocator's cost model. The window is labelled from the first scored
    session (the first rebalance that could be solved: 252 sessions of returns are needed)."""
    from usecases.backtest import run_backtest

    limits = limits or Limits()
    runs = {name: run_backtest(market, strat, start=start, end=end, limits=limits, lag=1,
                                     stress_config=stress_config)
            for name, strat in (("mean-variance", "mean-variance"), ("allocator", "rotation"))}
    first = max(_first_filled(r) for r in runs.values())
    table = {}
    for name, r in runs.items():
        ret = r.returns.loc[first:]
        bench = r.benchmark.returns.loc[first:]
        mm = metrics_of(ret, r, bench)
        table[name] = {k: (None if v is None or pd.isna(v) else float(v)) for k, v in mm.items()}
    main = runs["allocator"]
    return {"label": market.label, "timing": main.run.config.timing_note,
            "note": ("walk-forward out of sample through the backtest simulator (shares and cash, fills at the "
                     "next close, the allocator's cost model); tracking error is ex post against the SPY "
                     "replication re-estimated at every rebalance; window from the first scored session"),
            "period": {"start": str(pd.Timestamp(first).date()), "end": str(main.returns.index[-1].date()),
                       "simulated_from": str(main.returns.index[0].date())},
            "table": table}


def _first_filled(result) -> pd.Timestamp:
    """The first fill of a rebalance that was solved (the first scored session's trade)."""
    fills = [f for _, f in result.run.decisions]
    if not fills:
        raise DataError("no rebalance could be solved in the window (too little history for the risk model)")
    return fills[0]


def metrics_of(ret: pd.Series, result, bench: pd.Series) -> dict:
    """The comparison's measures on the returns from the first scored session."""
    from engine.backtest import metrics as M

    run = result.run
    years = len(ret) / 252.0
    prev = run.nav.shift(1).fillna(run.config.capital)
    te, ir = M.tracking(ret, bench)
    return {"annual_return": M.annual_return(ret), "annual_volatility": M.volatility(ret), "sharpe": M.sharpe(ret),
            "max_drawdown": M.max_drawdown(ret)["value"],
            "turnover_per_year": float(run.turnover.loc[ret.index].sum() / years),
            "tracking_error_ex_post": te, "information_ratio": ir,
            "cost_bps_per_year": float(1e4 * (run.cost / prev).loc[ret.index].sum() / years),
            "sessions": len(ret), "rebalances": sum(1 for _, f in run.decisions if f >= ret.index[0]),
            "infeasible_rebalances": sum(1 for f in run.failed if f.date >= ret.index[0])}
