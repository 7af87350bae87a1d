"""`rotation backtest --strategy NAME ...`: metrics of the strategy, its benchmark and SPY, attribution."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import (DataOpt, DemoOpt, JsonOpt, StoreOpt, StressConfigOpt, emit, handle_errors, out, spinner,
                              stress_config as read_stress_config)

ROWS = (("total_return", "Total return", "%"), ("cagr", "CAGR", "%"), ("volatility", "Volatility", "%"),
        ("sharpe", "Sharpe (rf 0)", "f"), ("sharpe_tbill", "Sharpe (T-bill)", "f"), ("sortino", "Sortino", "f"),
        ("max_drawdown", "Max drawdown", "%"), ("calmar", "Calmar", "f"), ("win_rate_daily", "Win rate (days)", "%"),
        ("win_rate_monthly", "Win rate (months)", "%"), ("alpha", "Alpha vs SPY", "%"), ("alpha_t", "  t (HAC)", "f"),
        ("beta", "Beta vs SPY", "f"), ("tracking_error", "Tracking error vs SPY", "%"),
        ("information_ratio", "Information ratio", "f"), ("turnover", "Turnover / yr", "%"),
        ("cost_drag", "Cost drag / yr", "%"), ("avg_leverage", "Average leverage", "f"),
        ("tracking_error_transition", "TE vs benchmark, transitions", "%"),
        ("tracking_error_outside", "TE vs benchmark, other sessions", "%"))


def _fmt(v, kind: str) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2%}" if kind == "%" else f"{v:.2f}"


def render(r: dict) -> None:
    """The metrics table (strategy, benchmark, SPY), failures and the linked attribution."""
    from rich.table import Table

    t = Table(title=f"Backtest {r['strategy']} {r['from']} to {r['to']} ({r['timing']})", title_justify="left")
    for c in ("metric", r["strategy"], "benchmark", "SPY"):
        t.add_column(c, justify="left" if c == "metric" else "right")
    for key, label, kind in ROWS:
        t.add_row(label, *(_fmt(m.get(key), kind) for m in (r["metrics"], r["benchmark_metrics"], r["spy_metrics"])))
    out.print(t)
    a = r["attribution"]
    at = Table(title=f"Attribution vs the benchmark (Brinson-Fachler, {a['method']} linking)", title_justify="left")
    for c in ("sector", "allocation", "selection", "interaction", "total"):
        at.add_column(c, justify="left" if c == "sector" else "right")
    for s, e in a["sectors"].items():
        at.add_row(s, *(f"{e[k]:+.2%}" for k in ("allocation", "selection", "interaction", "total")))
    at.add_row("costs", "", "", "", f"{a['costs']:+.2%}")
    out.print(at)
    out.print(f"Linked effects {a['total']:+.4%} = active return {a['active_return']:+.4%}. "
              f"Rebalances {r['rebalances']}, failed {len(r['failed_rebalances'])}.")
    for f in r["failed_rebalances"][:5]:
        out.print(f"  failed {f['date']}: {f['reason']}")
    out.print(r["verdict"])
    for n in r["notes"]:
        out.print(n)


def backtest(
    strategy: Annotated[str, typer.Option("--strategy", help="rotation, rotation-nosignal, mean-variance, momentum, equal, benchmark, spy, hy-rule or hy-rule-nosignal.")] = "rotation",
    start: Annotated[str, typer.Option("--from", help="First session (on or after this date).")] = "2005-01-01",
    end: Annotated[Optional[str], typer.Option("--to", help="Last session (on or before; default the last).")] = None,
    lookback: Annotated[int, typer.Option("--lookback", help="Momentum lookback in sessions.")] = 126,
    top: Annotated[int, typer.Option("--top", help="Momentum: number of tickers held.")] = 3,
    leverage: Annotated[float, typer.Option("--leverage", help="Gross exposure set at each rebalance, financed at the T-bill.")] = 1.0,
    vix_overlay: Annotated[bool, typer.Option("--vix-overlay", help="Scale leverage 1.2/1.0/0.8/0.6 at VIX <15/<20/<30/else.")] = False,
    vix_daily: Annotated[bool, typer.Option("--vix-daily", help="Reset the overlay's leverage every session.")] = False,
    schedule: Annotated[str, typer.Option("--schedule", help="monthly, weekly, every or triggers.")] = "monthly",
    every: Annotated[int, typer.Option("--every", help="Sessions between rebalances with --schedule every.")] = 21,
    lag: Annotated[int, typer.Option("--lag", help="Sessions from decision to fill (0 = look-ahead for end-of-day data).")] = 1,
    steps: Annotated[str, typer.Option("--steps", help="Rotation strategies: execute each rebalance in N steps, or 'auto' (cost vs off-target risk).")] = "1",
    step_sessions: Annotated[Optional[int], typer.Option("--step-sessions", help="Sessions between steps (default the limits' liquidity_days).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="TOML with [limits] and optional [costs].", dir_okay=False)] = None,
    csv: Annotated[Optional[Path], typer.Option("--csv", help="Write one row per session: date,nav,return,benchmark_return,spy_return,leverage,turnover,cost.", dir_okay=False)] = None,
    stress_config: StressConfigOpt = None,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """What the strategy would have earned against its benchmark and SPY, after costs, and why."""
    from engine.optimize.limits import Limits
    from usecases.backtest import run_backtest, write_daily_csv
    from usecases.context import open_market

    with handle_errors(as_json):
        limits = Limits.from_toml(config) if config else None
        with spinner(as_json, f"backtest {strategy}"):
            market = open_market(data=data, store=store, demo=demo)
            res = run_backtest(market, strategy, start=start, end=end, lookback=lookback, top=top, leverage=leverage,
                               vix_overlay=vix_overlay, vix_daily_reset=vix_daily, schedule=schedule, every=every,
                               lag=lag, limits=limits, stress_config=read_stress_config(stress_config),
                               steps=steps, step_sessions=step_sessions)
        if csv is not None:
            write_daily_csv(res, csv)
        emit(res.to_dict(), as_json, render)
