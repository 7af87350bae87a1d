"""`rotation research exp002 [--from D] [--to D] [--json]`: published claims re-run, side by side."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from addin.cli.common import DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, handle_errors, out, spinner

app = typer.Typer(no_args_is_help=True)


def _f(v, kind: str) -> str:
    if v is None or v != v:
        return ""
    return f"{v:.2%}" if kind == "pct" else f"{v:.2f}"


def render_exp002(r: dict) -> None:
    from rich.panel import Panel
    from rich.table import Table

    t = Table(title=f"EXP-002 re-run, {r['from']} to {r['to']} ({r['window_note']}). "
                    "'claimed' = the note's published figures (2020-2024)", title_justify="left")
    t.add_column("cell")
    heads = ("CAGR claim", "CAGR meas.", "diff", "Sharpe claim", "Sharpe meas.", "max DD claim", "max DD meas.",
             "win rate claim", "win rate meas.", "avg lev. meas.")
    for h in heads:
        t.add_column(h, justify="right")
    for c in [*r["cells"], r["spy"]]:
        cl, me = c["claimed"], c["measured"]
        t.add_row(c["name"] + (" *" if c["name"] == r["best"]["name"] else ""),
                  _f(cl.get("cagr"), "pct"), _f(me["cagr"], "pct"), _f(c["difference"].get("cagr"), "pct"),
                  _f(cl.get("sharpe"), "num"), _f(me["sharpe"], "num"), _f(cl.get("max_drawdown"), "pct"),
                  _f(me["max_drawdown"], "pct"), _f(cl.get("win_rate_daily"), "pct"), _f(me["win_rate_daily"], "pct"),
                  _f(me.get("avg_leverage"), "num"))
    out.print(t)
    out.print("* = best Sharpe in the grid. Claimed (the note's, published) figures are for 2020-2024.")
    out.print(Panel(r["summary"], title="What the re-run says", expand=False))


@app.command("exp002")
def exp002(
    from_: Annotated[Optional[str], typer.Option("--from", help="First session (default: 2020-01-01 on data reaching 2024, else 2005-01-01).")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last session (default: 2024-12-31, else 2019-12-31).")] = None,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """EXP-002's momentum / VIX-overlay / trend-filter grid beside the note's claimed figures."""
    with handle_errors(as_json):
        from engine.dates import parse_as_of
        from usecases.context import open_market
        from usecases.research import exp002 as run

        start, end = parse_as_of(from_, "--from"), parse_as_of(to, "--to")
        with spinner(as_json, "EXP-002 grid (17 cells, one vectorised pass)"):
            market = open_market(data=data, store=store, demo=demo)
            r = run(market, start, end)
        r["label"] = market.label
        emit(r, as_json, render_exp002)
