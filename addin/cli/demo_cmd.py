"""`rotation demo`: the main job end to end, printing real results of every stage."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.panel import Panel
from rich.table import Table

from addin.cli.common import AsOfOpt, DataOpt, JsonOpt, StoreOpt, handle_errors, out, print_json, spinner


def _kv(title: str, d: dict) -> Table:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("k")
    t.add_column("v")
    for k, v in d.items():
        if isinstance(v, float):
            v = f"{v:.4g}"
        elif isinstance(v, (list, dict)):
            v = ", ".join(map(str, v)) if isinstance(v, list) else "; ".join(f"{a}: {b}" for a, b in v.items())
        t.add_row(str(k), str(v))
    return t


def _render(key: str, title: str, r: dict) -> None:
    if key == "export":
        from addin.cli.export_cmd import render_export

        render_export(r)
        return
    if key == "scorecard":
        from addin.cli.scorecard_cmd import render_scorecard

        return render_scorecard(r)
    if key == "optimize":
        t = Table(title=f"{title} as of {r['as_of']} (regime {r['regime']})", title_justify="left")
        for c in ("sector", "current", "target", "benchmark", "change"):
            t.add_column(c, justify="left" if c == "sector" else "right")
        for tk, w in r["weights"].items():
            t.add_row(tk, f"{r['current'][tk]:.1%}", f"{w:.1%}", f"{r['benchmark'][tk]:.1%}", f"{w - r['current'][tk]:+.1%}")
        out.print(t)
        out.print(f"Ex-ante tracking error {r['tracking_error']:.2%}, turnover {r['turnover']:.1%}, "
                  f"expected cost {r['expected_cost_bps']:.1f} bps. Binding: {'; '.join(r['binding_text']) or 'none'}. "
                  f"Transition: {r['transition_note']}.")
        return
    if key == "early_warning":
        t = Table(title=title, title_justify="left")
        cols = list(r["model"])
        t.add_column("signal")
        for c in cols:
            t.add_column(c, justify="right")
        for name, m in [("model", r["model"]), *r["baselines"].items()]:
            t.add_row(name, *["n/a" if m[c] is None else f"{m[c]:.3f}" for c in cols])
        out.print(t)
        out.print(f"{r['events_warned_in_window']} of {r['events']} tech selloff events warned 20-60 sessions ahead.")
        if r.get("external_check"):
            e = r["external_check"]
            out.print(f"External check: correlation with STLFSI4 (weekly) {e['correlation']:.2f} over {e['n_weeks']} weeks.")
        out.print(Panel(r["verdict"], title="Verdict", expand=False))
        return
    if key == "factors":
        t = Table(title=f"{title} as of {r['as_of']} (composite: {r['method']} weights)", title_justify="left")
        t.add_column("sector")
        t.add_column("composite", justify="right")
        t.add_column("rank", justify="right")
        for s, v in sorted(r["composite"].items(), key=lambda kv: r["rank"][kv[0]]):
            t.add_row(s, f"{v:+.3f}", str(r["rank"][s]))
        out.print(t)
        return
    if key == "sectors":
        out.print(_kv(title, {"best vs tech in past stress (evidence only)":
                              [f"{d['sector']} ({d['score'] * 100:+.1f}%, evidence {d['strength']})" for d in r["defensive"]]}))
        out.print(r["defensive_tilt"]["text"], markup=False)     # walk-forward (the in-sample table is not shown here)
        return
    shown = {k: v for k, v in r.items() if k not in ("prices", "stress_inputs", "forward_filled", "defensive",
                                                      "defensive_tilt")}
    if key == "signals":
        shown["defensive"] = [f"{d['sector']} ({d['name']}, evidence {d['strength']})" for d in r["defensive"]]
        if r.get("defensive_tilt"):
            from engine.stress.defensive import tilt_words

            shown["defensive tilt"] = tilt_words(r["defensive_tilt"])
    if key == "data":
        shown["series"] = f"{len(r['prices'])} price series, {len(r['stress_inputs'])} stress inputs"
        shown["forward filled (<= 5 sessions)"] = sum(r["forward_filled"].values())
    out.print(_kv(title, shown))


def demo(
    data: DataOpt = None,
    store: StoreOpt = None,
    as_of: AsOfOpt = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for the signed workbook (default: ./rotation-demo-output).", file_okay=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the main job end to end (synthetic demo market by default; --data FOLDER for real files)."""
    with handle_errors(as_json):
        from usecases.context import open_market
        from usecases.demo import STAGES, DemoContext
        market = open_market(data=data, store=store, demo=data is None and store is None)
        ctx = DemoContext(market=market, as_of=as_of, out_dir=out_dir or Path.cwd() / "rotation-demo-output")
        if not as_json:
            out.rule(f"[bold]rotation demo[/]  [{market.label}]")
        results = {}
        for key, title, fn in STAGES:
            with spinner(as_json, f"{title}..."):
                results[key] = fn(ctx)
            if not as_json:
                _render(key, title, results[key])
        if as_json:
            print_json({"label": market.label, **results})
        if not (results["export"].get("verify") or {}).get("ok"):
            raise typer.Exit(1)

