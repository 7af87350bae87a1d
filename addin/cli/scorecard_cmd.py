"""`rotation scorecard [--from D] [--to D] [--json]`: the PM's story metrics, measured out of sample."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from addin.cli.common import DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, handle_errors, out, spinner

PCT = ("early_warning", "alpha_12m", "tracking_error_transitions", "accuracy", "alpha_12m_vs_nosignal")


def _f(name: str, v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1%}" if name in PCT else f"{v:.2f}"


def render_scorecard(r: dict) -> None:
    from rich.table import Table

    t = Table(title=f"Scorecard {r['from']} to {r['to']} (out of sample, {r['level']:.0%} intervals)  [{r['label']}]",
              title_justify="left", show_lines=True)
    for c in ("metric", "value", "interval", "target", "verdict", "definition and notes"):
        t.add_column(c, justify="right" if c in ("value", "interval", "target") else "left",
                     max_width=70 if c.startswith("definition") else None)
    colour = {"PASS": "green", "FAIL": "red", "INCONCLUSIVE": "yellow"}
    for m in r["metrics"]:
        n = m["name"]
        interval = "n/a" if m["ci_low"] is None else f"{_f(n, m['ci_low'])} .. {_f(n, m['ci_high'])}"
        target = ("> " if m["higher_is_better"] else "< ") + _f(n, m["target"])
        notes = m["definition"] + (f" {m['note']}" if m["note"] else "")
        if n == "accuracy" and m.get("base_rate") is not None:
            notes += (f" Plain accuracy {m['accuracy']:.1%}; base rate {m['base_rate']:.1%}, so always answering "
                      f"'no selloff' scores {m['always_no_accuracy']:.1%}.")
        if m["interval"]:
            notes += f" Interval: {m['interval']}."
        t.add_row(n, _f(n, m["value"]), interval, target, f"[{colour[m['verdict']]}]{m['verdict']}[/]", notes)
    out.print(t)
    d = r["deflated_sharpe"]
    dsr = "n/a (no rotation backtest)" if d is None else f"{d['dsr']:.3f} (Sharpe {d['sr'] * 252 ** 0.5:.2f} a year)"
    pbo = "n/a" if r["pbo"] is None else f"{r['pbo']:.2f}"
    tr = r.get("trials") or {}
    parts = f" (1 shown, {tr.get('rotation_sweeps', 0)} swept, {tr.get('signal_research', 0)} signal candidates)" if tr else ""
    out.print(f"Trials counted for the deflated Sharpe: {r['configs_tried']}{parts}; deflated Sharpe ratio {dsr}; "
              f"probability of backtest overfitting {pbo} ({r['pbo_note']}).")


def scorecard(
    from_: Annotated[Optional[str], typer.Option("--from", help="First session scored (default: the first the data allow).")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last session scored (default: the last).")] = None,
    reps: Annotated[int, typer.Option("--reps", help="Bootstrap replications.", min=100)] = 1000,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """Each story metric out of sample: value, bootstrap interval, target and a computed verdict; DSR and PBO."""
    with handle_errors(as_json):
        from engine.dates import parse_as_of
        from usecases.context import open_market
        from usecases.scorecard import scorecard as run

        start, end = parse_as_of(from_, "--from"), parse_as_of(to, "--to")
        with spinner(as_json, "walk-forward signal, backtests and bootstrap intervals"):
            market = open_market(data=data, store=store, demo=demo)
            r = run(market, start, end, reps=reps)
        emit(r, as_json, render_scorecard)
