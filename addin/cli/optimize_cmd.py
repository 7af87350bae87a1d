"""`rotation optimize [--as-of] [--current] [--config]` and `rotation optimize compare`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import (AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, StressConfigOpt, emit, handle_errors, out,
                              spinner, stress_config as read_stress_config)

if TYPE_CHECKING:   # engine and usecases are imported in the command bodies: `--help` stays fast
    from engine.optimize.limits import Limits

app = typer.Typer(invoke_without_command=True)

CurrentOpt = Annotated[Optional[Path], typer.Option("--current", help="CSV of ticker,weight: the portfolio held now (default: the benchmark).", dir_okay=False)]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="TOML file with a [limits] table (tech_cap, tracking_error, turnover, sector_min, sector_max, defensive_floor, ...).", dir_okay=False)]


def parse_steps(text: str) -> int | str:
    """``--steps``: a positive whole number or ``auto``."""
    from engine.errors import ArgumentError

    t = str(text).strip().lower()
    if t == "auto":
        return "auto"
    if not t.isdigit() or int(t) < 1:
        raise ArgumentError("--steps", f"expected a positive whole number or 'auto', got {text!r}")
    return int(t)


def render_tradeoff(rows: list[dict]) -> None:
    """The cost / off-target trade-off per step count (``--steps auto``)."""
    t = Table(title="Steps: expected trading cost vs cost of staying off target (bps of NAV)", title_justify="left")
    for c in ("steps", "trading cost", "off-target", "total", ""):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(str(r["steps"]), f"{r['cost_bps']:.2f}", f"{r['risk_bps']:.2f}", f"{r['total_bps']:.2f}",
                  "<- chosen" if r["chosen"] else "")
    out.print(t)


def load_limits(config: Path | None, **flags) -> Limits:
    """Limits from --config (if any), then the command-line flags that were given."""
    from engine.optimize.limits import Limits

    lim = Limits.from_toml(config) if config else Limits()
    given = {k: v for k, v in flags.items() if v is not None}
    return lim.with_(**given) if given else lim


@app.callback()
def optimize_cmd(
    ctx: typer.Context, as_of: AsOfOpt = None, current: CurrentOpt = None, config: ConfigOpt = None,
    tech_cap: Annotated[Optional[float], typer.Option("--tech-cap", help="Maximum XLK weight (fraction).")] = None,
    tracking_error: Annotated[Optional[float], typer.Option("--tracking-error", help="Maximum ex-ante tracking error (annual fraction).")] = None,
    turnover: Annotated[Optional[float], typer.Option("--turnover", help="Maximum one-way turnover per rebalance (fraction).")] = None,
    defensive_floor: Annotated[Optional[float], typer.Option("--defensive-floor", help="Minimum XLU+XLP+XLV in stress regimes.")] = None,
    steps: Annotated[str, typer.Option("--steps", help="Rebalances in the transition path (each within every per-step limit), or 'auto' (cheapest cost + off-target risk).")] = "4",
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
    stress_config: StressConfigOpt = None,
) -> None:
    """Target weights within the limits, with tracking error, turnover, cost, binding constraints and a transition path."""
    if ctx.invoked_subcommand is not None:
        return
    from usecases.optimize import optimize_as_of, read_weights_csv

    with handle_errors(as_json):
        lim = load_limits(config, tech_cap=tech_cap, tracking_error=tracking_error, turnover=turnover,
                          defensive_floor=defensive_floor)
        cur = read_weights_csv(current) if current else None
        scfg = read_stress_config(stress_config)
        with spinner(as_json, "scores, risk model and allocation"):
            from usecases.context import open_market
            market = open_market(data=data, store=store, demo=demo)
            r = optimize_as_of(market, as_of, cur, lim, parse_steps(steps), stress_config=scfg)

        def render(r: dict) -> None:
            t = Table(title=f"Allocation as of {r['as_of']} (regime {r['regime']})  [{r['label']}]", title_justify="left")
            for c in ("sector", "current", "target", "benchmark", "change", "exp. return"):
                t.add_column(c, justify="left" if c == "sector" else "right")
            for tk, w in r["weights"].items():
                mu = r["expected_returns"].get(tk)
                t.add_row(tk, f"{r['current'][tk]:.1%}", f"{w:.1%}", f"{r['benchmark'][tk]:.1%}",
                          f"{w - r['current'][tk]:+.1%}", "n/a" if mu is None else f"{mu:+.2%}")
            out.print(t)
            out.print(f"Ex-ante tracking error {r['tracking_error']:.2%}, turnover {r['turnover']:.1%}, "
                      f"expected cost {r['expected_cost_bps']:.1f} bps, volatility {r['volatility']:.1%}.")
            out.print("Binding: " + ("; ".join(r["binding_text"]) or "none"))
            out.print(r["defensive_tilt"]["sentence"], markup=False)
            if r.get("steps_tradeoff"):
                render_tradeoff(r["steps_tradeoff"])
            out.print(f"Transition: {r['transition_note']}")
        emit(r, as_json, render)


@app.command("compare")
def compare_cmd(config: ConfigOpt = None, data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False,
                as_json: JsonOpt = False, stress_config: StressConfigOpt = None) -> None:
    """Plain mean-variance vs the allocator, monthly, walk-forward out of sample: turnover, Sharpe, tracking error."""
    from usecases.optimize import compare_allocators

    with handle_errors(as_json):
        with spinner(as_json, "walk-forward comparison (monthly rebalances)"):
            from usecases.context import open_market
            market = open_market(data=data, store=store, demo=demo)
            r = compare_allocators(market, load_limits(config), stress_config=read_stress_config(stress_config))

        def render(r: dict) -> None:
            cols = list(r["table"])
            t = Table(title=f"Out of sample {r['period']['start']} to {r['period']['end']}  [{r['label']}]", title_justify="left")
            t.add_column("metric")
            for c in cols:
                t.add_column(c, justify="right")
            for k in r["table"][cols[0]]:
                vals = [r["table"][c][k] for c in cols]
                t.add_row(k, *["n/a" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}") for v in vals])
            out.print(t)
            out.print(r["note"])
        emit(r, as_json, render)
