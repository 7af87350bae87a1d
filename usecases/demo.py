"""The main job end to end: data -> stress signal -> early-warning validation -> sector mapping ->
factor scores -> allocation and transition path -> signed workbook, verified.

Each stage is a function ``(ctx) -> dict`` that adds its results to a shared context; the CLI prints
each stage as it completes. The demo runs on the synthetic market unless a data folder is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from engine.data.model import Market
from usecases import factors, signals
from usecases.export import export_decision
from usecases.optimize import optimize_as_of


@dataclass
class DemoContext:
    market: Market
    as_of: Any = None
    out_dir: Any = None
    results: dict[str, Any] = field(default_factory=dict)


def stage_data(ctx: DemoContext) -> dict:
    m = ctx.market
    return {"label": m.label, "first": m.first.date().isoformat(), "last": m.last.date().isoformat(),
            "sessions": len(m.sessions),
            "prices": sorted(m.prices.columns), "stress_inputs": sorted(m.stress.columns),
            "forward_filled": m.fills}


def stage_signals(ctx: DemoContext) -> dict:
    r = signals.reading(ctx.market, ctx.as_of)
    ctx.as_of = r["as_of"]
    return r


def stage_validation(ctx: DemoContext) -> dict:
    rep = signals.validation_report(ctx.market)
    keep = ("hit_rate", "false_alarm_rate", "precision", "recall", "accuracy", "brier", "auc")
    return {"period": rep["period"],
            "model": {k: rep["model"][k] for k in keep},
            "baselines": {b: {k: m[k] for k in keep} for b, m in rep["baselines"].items()},
            "events": len(rep["events"]),
            "events_warned_in_window": sum(bool(e["within_window"]) for e in rep["events"]),
            "external_check": rep.get("external_check"),
            "verdict": rep["verdict"]}


def stage_sectors(ctx: DemoContext) -> dict:
    rep = signals.sectors_report(ctx.market)
    return {"defensive": rep["defensive"][:5], "defensive_tilt": rep["defensive_tilt"], "note": rep["note"]}


def stage_factors(ctx: DemoContext) -> dict:
    res = signals.stress_result(ctx.market)
    scores = factors.current_scores(ctx.market, res.daily["index"], ctx.as_of)
    ic = factors.factor_ic_report(ctx.market, res.daily["index"], res.daily["regime"], horizons=(21,))
    ctx.results["scores_frame"] = scores
    return {"as_of": str(scores.attrs.get("as_of"))[:10], "method": scores.attrs.get("method"),
            "composite": scores["composite"].round(3).to_dict(),
            "rank": {k: int(v) for k, v in scores["rank"].items()},
            "ic_21d": [{k: r[k] for k in ("factor", "mean_ic", "t_stat", "hit_rate")} for r in ic["table"]]}


def stage_optimize(ctx: DemoContext) -> dict:
    r = optimize_as_of(ctx.market, ctx.as_of)
    keep = ("as_of", "regime", "weights", "current", "benchmark", "tracking_error", "turnover",
            "expected_cost_bps", "binding_text", "transition_note")
    return {k: r[k] for k in keep}


def stage_scorecard(ctx: DemoContext) -> dict:
    """The success-metrics scorecard on data up to the decision date (labels known by then only)."""
    from usecases.scorecard import scorecard
    from workbooks.scorecard_sheet import scorecard_frame

    m = ctx.market
    if ctx.as_of is not None and pd.Timestamp(ctx.as_of) < m.last:
        m = m.asof(ctx.as_of)
    bt = ctx.results.get("backtest_result")          # the backtest stage's run: same window, not run twice
    start = bt.returns.index[0] if bt is not None else None
    card = scorecard(m, start, m.last, reps=500, rotation=bt)
    ctx.results.setdefault("sheets", {})["scorecard"] = scorecard_frame(card)
    return card


def stage_backtest(ctx: DemoContext) -> dict:
    """The rotation strategy walk-forward up to the decision date (from 2005, or three years of data in)."""
    import pandas as pd

    from usecases.backtest import run_backtest

    end = pd.Timestamp(ctx.as_of)
    start = max(pd.Timestamp("2005-01-01"), ctx.market.first + pd.DateOffset(years=3))
    res = run_backtest(ctx.market, "rotation", start=start, end=end)
    ctx.results["backtest_result"] = res
    d = res.to_dict()
    keep = ("total_return", "cagr", "volatility", "sharpe", "max_drawdown", "tracking_error", "information_ratio",
            "turnover", "cost_drag")
    return {"from": d["from"], "to": d["to"], "timing": d["timing"],
            "metrics": {k: d["metrics"][k] for k in keep},
            "spy_metrics": {k: d["spy_metrics"][k] for k in keep},
            "active_return_vs_benchmark": d["attribution"]["active_return"],
            "failed_rebalances": len(d["failed_rebalances"])}


def stage_export(ctx: DemoContext) -> dict:
    from pathlib import Path

    out = Path(ctx.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # the demo may always fall back to an ephemeral trial certificate (labelled), and re-runs supersede
    return export_decision(ctx.market, ctx.as_of, out, allow_ephemeral_key=True, force=True,
                           backtest=ctx.results.get("backtest_result"), sheets=ctx.results.get("sheets"))


STAGES: list[tuple[str, str, Callable[[DemoContext], dict]]] = [
    ("data", "Market data", stage_data),
    ("signals", "Bond stress reading", stage_signals),
    ("early_warning", "Early-warning validation (walk-forward, vs baselines)", stage_validation),
    ("sectors", "Stress-to-sector mapping", stage_sectors),
    ("factors", "Sector factor scores", stage_factors),
    ("optimize", "Recommended weights (allocator, all limits)", stage_optimize),
    ("backtest", "Walk-forward backtest of the rotation (lag 1, the allocator's costs)", stage_backtest),
    ("scorecard", "Success-metrics scorecard (out of sample)", stage_scorecard),
    ("export", "Signed decision workbook", stage_export),
]
