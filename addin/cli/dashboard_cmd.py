"""`rotation dashboard --holdings h.csv [--as-of D] [--json]`: the morning view of the real book."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, handle_errors, out, spinner


def _pct(x, spec="6.1%"):
    return "n/a" if x is None else format(x, spec)


def _render(r: dict) -> None:
    from rich.table import Table

    s, tech = r["stress"], r["tech"]
    out.print(f"Dashboard {r['as_of']}  ({r['label']})  NAV {r['nav']:,.0f}  cash {r['cash_weight']:.1%}",
              highlight=False, markup=False)
    flag = "OVER ITS CAP" if tech["over_cap"] else "within its cap"
    out.print(f"Tech {tech['ticker']} {tech['weight']:.1%} against its {tech['cap']:.0%} cap: {flag} "
              f"(target {_pct(tech['target'], '.1%')}, benchmark {_pct(tech['benchmark'], '.1%')})",
              highlight=False, markup=False, style="bold red" if tech["over_cap"] else None)
    t = Table(title="Book against the benchmark and the latest target", title_justify="left")
    for c in ("ticker", "sector", "book", "target", "benchmark", "vs benchmark", "vs target"):
        t.add_column(c, justify="left" if c in ("ticker", "sector") else "right")
    for w in r["weights"]:
        t.add_row(w["ticker"], w["name"] + (" (defensive)" if w["defensive"] else ""), _pct(w["book"]),
                  _pct(w["target"]), _pct(w["benchmark"]), _pct(w["vs_benchmark"], "+6.1%"), _pct(w["vs_target"], "+6.1%"))
    out.print(t)
    stale = ", ".join(f"{k} {v} sessions" for k, v in s["stale_inputs"].items()) or "none"
    out.print(f"Stress {s['as_of']}: {str(s['regime']).upper()}, index {s['index']:.2f} sd, strength "
              f"{s['strength']:.0f}, P(new tech selloff in 20-60 sessions) {_pct(s['warning_probability'], '.0%')}"
              + (f"; tech selloff running since {s['tech_selloff']['since']}" if s["tech_selloff"]["in_progress"] else "")
              + f". Inputs without a value that day: {stale}."
              + (f" Data last session {s['as_of']}, {s['data_age_days']} days ago." if s["data_age_days"] is not None
                 else ""), highlight=False, markup=False)
    if s.get("warning_procedure"):
        out.print(f"Warning procedure: {s['warning_procedure']['verdict']}", highlight=False, markup=False)
    out.print(f"Last rebalance {r['last_rebalance']}; next scheduled ({r['next_rebalance']['schedule']}) "
              f"{r['next_rebalance']['date']}.", highlight=False, markup=False)
    p = Table(title="Performance and attribution (active = book - benchmark)", title_justify="left")
    for c in ("window", "from", "sessions", "book", "benchmark", "SPY", "active", "tracking error"):
        p.add_column(c, justify="left" if c in ("window", "from") else "right")
    for k, v in r["performance"].items():
        p.add_row(k, v["start"], str(v["sessions"]), _pct(v["book"], "+.2%"), _pct(v["benchmark"], "+.2%"),
                  _pct(v["spy"], "+.2%"), _pct(v["active"], "+.2%"), _pct(v["tracking_error"], ".1%"))
    out.print(p)
    att = r.get("attribution", {}).get("since_rebalance")
    if att and att.get("sectors"):
        a = Table(title="Attribution since the last rebalance (linked Brinson-Fachler)", title_justify="left")
        for c in ("sector", "allocation", "selection", "interaction", "total"):
            a.add_column(c, justify="left" if c == "sector" else "right")
        for sec, e in att["sectors"].items():
            a.add_row(sec, *(_pct(e[c], "+.3%") for c in ("allocation", "selection", "interaction", "total")))
        out.print(a)
    tr = r.get("transition")
    if tr:
        out.print(f"Transition from {tr['first_step']} ({tr['steps']} step{'s' if tr['steps'] > 1 else ''}, last "
                  f"{tr['last_step']}): tracking error so far {_pct(tr['tracking_error'], '.1%')} over "
                  f"{tr['sessions']} sessions (other sessions {_pct(tr['other_tracking_error'], '.1%')}).",
                  highlight=False, markup=False)
    out.print(f"Alerts since the last rebalance ({len(r['alerts'])}):", highlight=False, markup=False)
    for al in r["alerts"]:
        out.print(f"  {al['date']}  {al['kind']:<14} {al['message']}\n{'':16}-> {al['recommendation']}",
                  highlight=False, markup=False)
    for n in r["notes"]:
        out.print(f"Note: {n}", highlight=False, markup=False)


def dashboard(
    holdings: Annotated[Path, typer.Option("--holdings", help="Holdings CSV, a CSV with a date column, or a folder of dated holdings files.")],
    as_of: AsOfOpt = None,
    limits: Annotated[Optional[Path], typer.Option("--limits", help="Limits TOML (tech cap, ...).", dir_okay=False)] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Alert TOML.", dir_okay=False)] = None,
    fills: Annotated[Optional[Path], typer.Option("--fills", help="Fills since the --holdings starting book (with --orders).", dir_okay=False)] = None,
    orders: Annotated[Optional[Path], typer.Option("--orders", help="The orders file the fills belong to (sides).", dir_okay=False)] = None,
    schedule: Annotated[str, typer.Option("--schedule", help="Rebalance schedule: monthly, weekly or quarterly.")] = "monthly",
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """The book against the benchmark and target, tech against its cap, the stress reading, alerts, attribution."""
    from engine.alerts.config import AlertConfig
    from engine.errors import ArgumentError
    from engine.optimize.limits import Limits
    from usecases.context import open_market
    from usecases.dashboard import dashboard as build

    with handle_errors(as_json):
        if schedule not in ("monthly", "weekly", "quarterly"):
            raise ArgumentError("--schedule", f"expected monthly, weekly or quarterly, got {schedule!r}")
        lim = Limits.from_toml(limits) if limits else Limits()
        cfg = AlertConfig.from_toml(config)
        with spinner(as_json, "valuing the book and computing the dashboard"):
            market = open_market(data=data, store=store, demo=demo)
            r = build(market, holdings, as_of, lim, cfg, schedule=schedule, fills=fills, orders=orders)
        emit(r, as_json, _render)
