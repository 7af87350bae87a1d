"""`rotation sweep --strategy NAME --grid k=a:b:step [--grid k=v1,v2] [--scheduler tcp://HOST:PORT] ...`."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, handle_errors, out, progress

FromOpt = Annotated[Optional[str], typer.Option("--from", help="First session YYYY-MM-DD (default: the first the data allow).")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last session YYYY-MM-DD (default: the last).")]
SHOWN = ("cagr", "sharpe", "max_drawdown", "volatility", "information_ratio", "turnover", "avg_leverage")


def _fmt(key: str, v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if key in ("cagr", "max_drawdown", "volatility"):
        return f"{v:.2%}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def render_sweep(r: dict) -> None:
    """Rows, the sensitivity view around the best point, and the multiple-testing figures."""
    from rich.table import Table

    names = list(r["grid"])
    best = (r.get("best") or {}).get("index")
    t = Table(title=f"{r['strategy']} sweep {r['from']} to {r['to']}: {r['configs_tried']} configurations "
                    f"({r['executor']})", title_justify="left")
    for c in (*names, *SHOWN, "error"):
        t.add_column(c, justify="left" if c == "error" else "right")
    for i, row in enumerate(r["rows"]):
        mark = " *" if i == best else ""
        t.add_row(*[str(row[n]) + (mark if j == 0 else "") for j, n in enumerate(names)],
                  *[_fmt(k, row.get(k)) for k in SHOWN], row.get("error") or "")
    out.print(t)
    for s in r["sensitivity"]:
        st = Table(title=f"Sensitivity around the best point ({r['score']}): {s['param']} "
                         f"(best {s['best_value']}, others held)", title_justify="left")
        st.add_column("metric")
        for v in s["values"]:
            st.add_column(str(v) + (" *" if v == s["best_value"] else ""), justify="right")
        st.add_column("best - neighbours", justify="right")
        for key, m in s["metrics"].items():
            st.add_row(key, *[_fmt(key, x) for x in m["values"]], _fmt(key, m["drop"]))
        out.print(st)
    d, p = r.get("deflated_sharpe"), r.get("pbo")
    if d:
        out.print(f"Best point {r['best']['params']}: Sharpe {d['sr_annual']:.2f} a year; deflated Sharpe ratio "
                  f"{d['dsr']:.3f} for {d['n_trials']} configurations tried (expected best Sharpe of as many "
                  f"worthless trials {d['sr0_annual']:.2f}).")
    if p:
        out.print(f"Probability of backtest overfitting (CSCV, {p['n_blocks']} blocks, {p['n_splits']} splits): {p['pbo']:.2f}.")
    if r["failed"]:
        out.print(f"[bold red]{len(r['failed'])} configuration(s) failed[/] (see the error column).")


def sweep(
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy to sweep (momentum, or any `rotation backtest` strategy).")],
    grid: Annotated[list[str], typer.Option("--grid", help="NAME=a:b:step (inclusive) or NAME=v1,v2; repeat for more parameters.")],
    from_: FromOpt = None, to: ToOpt = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run on an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Local processes (default: one per CPU).")] = None,
    csv: Annotated[Optional[Path], typer.Option("--csv", help="Write one row per configuration to this CSV.", dir_okay=False)] = None,
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help="Write a workbook with heat maps and the sensitivity view.", dir_okay=False)] = None,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """Every configuration of a parameter grid: metrics, sensitivity around the best point, deflated Sharpe and PBO."""
    with handle_errors(as_json):
        from engine.dates import parse_as_of
        from usecases.context import open_market
        from usecases.sweep import parse_grid, record_sweep, run_sweep, write_csv, write_xlsx

        g = parse_grid(grid)
        start, end = parse_as_of(from_, "--from"), parse_as_of(to, "--to")
        market = open_market(data=data, store=store, demo=demo)
        t0 = time.perf_counter()
        with progress(as_json) as bar:
            task = bar.add_task(f"{strategy} sweep", total=None)
            r = run_sweep(market, strategy, g, start, end, scheduler=scheduler, workers=workers,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
        r["wall_seconds"] = time.perf_counter() - t0
        record_sweep(r, market.label)
        r.pop("returns")
        if csv:
            write_csv(r, csv)
        if xlsx:
            write_xlsx(r, xlsx)
        r["label"] = market.label
        emit(r, as_json, render_sweep)
