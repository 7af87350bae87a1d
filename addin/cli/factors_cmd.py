"""`rotation factors ...`: factor IC table and current sector scores."""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import (AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, StressConfigOpt, emit, err, handle_errors, out,
                              spinner, stress_config as read_stress_config)

app = typer.Typer(no_args_is_help=True, help="Sector factor scores and their information coefficients.")

HorizonOpt = Annotated[Optional[list[int]], typer.Option(
    "--horizon", "-h", help="Forward horizon in sessions (repeat for several; default 5, 21, 63).")]

MethodOpt = Annotated[str, typer.Option(
    "--method", help="Composite used for the rank: 'equal' (default) or 'ic' (weights from past ICs only).")]


def _fmt(v, spec: str) -> str:
    return "-" if v is None or v != v else format(v, spec)


def _render_ic(r: dict) -> None:
    if r.get("label"):
        err.print(f"[dim]{r['label']} | stress: {r['stress_source']} | {str(r['first'])[:10]} .. {str(r['last'])[:10]}[/]")
    t = Table(title="Daily rank IC vs forward returns (Newey-West t, lags = horizon)")
    for c in ("factor", "h", "mean IC", "IC IR", "t (NW)", "hit rate", "n"):
        t.add_column(c, justify="left" if c == "factor" else "right")
    for row in r["table"]:
        t.add_row(row["factor"], str(row["horizon"]), _fmt(row["mean_ic"], "+.4f"), _fmt(row["ic_ir"], "+.3f"),
                  _fmt(row["t_stat"], "+.2f"), _fmt(row["hit_rate"], ".1%"), str(row["n"]))
    out.print(t)
    if r["by_regime"]:
        regimes = list(dict.fromkeys(x["regime"] for x in r["by_regime"]))
        h = r["horizons"][len(r["horizons"]) // 2]
        rt = Table(title=f"Mean IC by stress regime at t (horizon {h})")
        rt.add_column("factor")
        for reg in regimes:
            rt.add_column(str(reg), justify="right")
        cells: dict = {}
        for x in r["by_regime"]:
            if x["horizon"] == h:
                cells.setdefault(x["factor"], {})[x["regime"]] = f"{_fmt(x['mean_ic'], '+.3f')} (n={x['n']})"
        for f, d in cells.items():
            rt.add_row(f, *[d.get(reg, "-") for reg in regimes])
        out.print(rt)
    _render_cleaning(r.get("user_factors"))
    out.print(f"[dim]{r['timing']}[/]")


def _render_cleaning(u: dict | None) -> None:
    if not u:
        return
    t = Table(title=f"Your factors ({u['source']}): what cleaning did, in sector-sessions")
    cols = (("rows", "file rows"), ("outside_sessions", "rows outside sessions"), ("cells", "sector-sessions"),
            ("no_price", "no price"), ("winsorized", "winsorized"), ("thin_cells", "too few sectors"),
            ("no_cap", "no cap"), ("thin_cap_cells", "too few caps"), ("scored", "scored"))
    t.add_column("factor")
    for _, head in cols:
        t.add_column(head, justify="right")
    t.add_column("cap-neutral")
    for name, c in u["factors"].items():
        off = not (u.get("settings") or {}).get("neutralize", True)
        t.add_row(name, *[str(c.get(k, 0)) for k, _ in cols],
                  "yes" if c.get("neutralized") else "off (settings)" if off else "no caps")
    out.print(t)
    out.print(f"[dim]Cleaning rule: {u['rule']}.[/]")


@app.command("ic")
def ic_cmd(data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, json: JsonOpt = False,
           horizon: HorizonOpt = None, stress_config: StressConfigOpt = None) -> None:
    """Print the IC table: mean IC, IC IR, Newey-West t, hit rate by factor and horizon, by regime."""
    from usecases.context import open_market
    from usecases.factors import factor_ic_report

    with handle_errors(json):
        cfg = read_stress_config(stress_config)
        with spinner(json, "computing factors and ICs"):
            market = open_market(data=data, store=store, demo=demo)
            report = factor_ic_report(market, horizons=tuple(horizon) if horizon else (5, 21, 63), stress_config=cfg)
        emit(report, json, _render_ic)


def _render_scores(r: dict) -> None:
    err.print(f"[dim]{r['label']} | stress: {r['stress_source']} | rank by {r['method']} composite[/]")
    cols = [c for c in r["columns"] if c not in ("rank", "composite")]
    t = Table(title=f"Sector factor scores on {str(r['as_of'])[:10]} (standardized across sectors)")
    t.add_column("rank", justify="right")
    t.add_column("sector")
    for c in cols:
        t.add_column(c, justify="right")
    for row in r["scores"]:
        t.add_row(_fmt(row["rank"], ".0f"), row["sector"], *[_fmt(row[c], "+.2f") for c in cols])
    out.print(t)
    _render_cleaning(r.get("user_factors"))


@app.command("scores")
def scores_cmd(data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, json: JsonOpt = False,
               as_of: AsOfOpt = None, method: MethodOpt = "equal", stress_config: StressConfigOpt = None) -> None:
    """Print each sector's factor scores and composite at a date (point in time: nothing later is used)."""
    from usecases.context import open_market
    from usecases.factors import current_scores

    with handle_errors(json):
        cfg = read_stress_config(stress_config)
        with spinner(json, "computing factor scores"):
            market = open_market(data=data, store=store, demo=demo)
            df = current_scores(market, asof=as_of, method=method, stress_config=cfg)
        result = {
            "as_of": df.attrs["as_of"],
            "label": market.label,
            "stress_source": df.attrs["stress_source"],
            "method": df.attrs["method"],
            "columns": list(df.columns),
            "scores": [{"sector": s, **row} for s, row in df.to_dict(orient="index").items()],
            "user_factors": df.attrs.get("user_factors"),
        }
        emit(result, json, _render_scores)
