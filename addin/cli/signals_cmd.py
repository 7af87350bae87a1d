"""`rotation signals [--as-of] | validate | history | sectors | triggers`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import (AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, StressConfigOpt, emit, handle_errors, out,
                              spinner, stress_config)

app = typer.Typer(no_args_is_help=False, invoke_without_command=True)
_config = stress_config


def _fmt(v, spec=".2f"):
    return "n/a" if v is None else format(v, spec)


def _market(data, store, demo, as_json, what="computing the stress index"):
    from usecases.context import open_market

    with spinner(as_json, what):
        return open_market(data=data, store=store, demo=demo)


def _check_output(path: Path, opt: str = "--csv", example: str = "stress.csv") -> None:
    """ArgumentError unless ``path`` can be written as a new or replaced file."""
    from engine.errors import ArgumentError

    if path.is_dir():
        raise ArgumentError(opt, f"{path} is a folder; expected a file path such as {path / example}")
    if not path.parent.is_dir():
        raise ArgumentError(opt, f"the folder {path.parent} does not exist")


@app.callback()
def reading_cmd(ctx: typer.Context, as_of: AsOfOpt = None, data: DataOpt = None, store: StoreOpt = None,
                demo: DemoOpt = False, stress_config: StressConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The bond stress reading: index, percentile, regime, strength, 20-session change, warning probability."""
    if ctx.invoked_subcommand is not None:
        return
    from usecases import signals

    with handle_errors(as_json):
        cfg = _config(stress_config)
        market = _market(data, store, demo, as_json)
        r = signals.reading(market, as_of, cfg)

        def render(r: dict) -> None:
            t = Table(title=f"Bond stress reading {r['as_of']}  [{r['label']}]", title_justify="left", show_header=False)
            t.add_column("k")
            t.add_column("v", justify="right")
            t.add_row("Composite index (sd units)", _fmt(r["index"]))
            t.add_row("Percentile vs own history", _fmt(r["percentile"], ".0f"))
            t.add_row("Regime", str(r["regime"]).upper())
            t.add_row("Signal strength (0-100)", _fmt(r["strength"], ".0f"))
            t.add_row("20-session change", _fmt(r["change_20d"], "+.2f"))
            t.add_row("P(tech selloff starts in 20-60 sessions)", _fmt(r["warning_probability"], ".1%"))
            t.add_row("Warning", "YES" if r["warning"] else "no")
            ts = r["tech_selloff"]
            t.add_row("Tech selloff in progress", f"YES, since {ts['since']} (the probability above is for a "
                      "new one after it ends)" if ts["in_progress"] else "no")
            t.add_row("Best vs tech in past stress (evidence)", ", ".join(
                f"{d['sector']} ({d['score'] * 100:+.1f}%, t {d['t_stat']:+.1f}, {d['strength']})" for d in r["defensive"]) or "n/a")
            if r.get("defensive_tilt"):
                from engine.stress.defensive import tilt_words

                t.add_row("Allocator's defensive tilt", tilt_words(r["defensive_tilt"]))
            out.print(t)
            if r.get("defensive_tilt"):
                out.print(r["defensive_tilt"]["text"], markup=False)     # the size, its basis and the evidence
            for note in r.get("notes", []):
                out.print(f"Note: {note}", markup=False)
            if r.get("warning_procedure"):
                out.print(f"Procedure: {r['warning_procedure']['verdict']}", markup=False)
        emit(r, as_json, render)


def _metric_table(rep: dict) -> Table:
    t = Table(title=f"Early warning vs baselines, {rep['period']['start']} to {rep['period']['end']}  [{rep['label']}]",
              title_justify="left")
    cols = ("hit_rate", "false_alarm_rate", "precision", "recall", "accuracy", "brier", "auc")
    t.add_column("signal")
    for c in cols:
        t.add_column(c, justify="right")
    rows = [("model", rep["model"])] + list(rep["baselines"].items())
    for name, m in rows:
        t.add_row(name, *[_fmt(m.get(c), ".3f") for c in cols])
    return t


@app.command("validate")
def validate_cmd(data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False,
                 stress_config: StressConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Walk-forward validation of the early warning on de-duplicated tech selloff events, against baselines."""
    from usecases import signals

    with handle_errors(as_json):
        market = _market(data, store, demo, as_json, "fitting the warning model walk-forward")
        rep = signals.validation_report(market, _config(stress_config))

        def render(rep: dict) -> None:
            out.print(_metric_table(rep))
            t = Table(title="Tech selloff events: first warning and lead time", title_justify="left")
            for c in ("start", "from calm", "first warning", "lead (sessions)", "within 20-60"):
                t.add_column(c)
            for e in rep["events"]:
                t.add_row(str(e["start"])[:10], "yes" if e.get("from_calm") else "no",
                          str(e.get("first_warning") or "-")[:10], str(e.get("lead_sessions") or "-"),
                          "yes" if e.get("within_window") else "no")
            out.print(t)
            ext = rep.get("external_check")
            if ext:
                out.print(f"External check: weekly mean vs STLFSI4, correlation {ext['correlation']:.2f} "
                          f"over {ext['n_weeks']} weeks ({ext['start']} to {ext['end']}).")
            if rep.get("procedure"):
                out.print(_research_table("the procedure readings use, on the research schedule", rep["procedure"]))
            if rep.get("warning_procedure"):
                out.print(f"Procedure: {rep['warning_procedure']['verdict']}", markup=False)
            out.print(f"[bold]Verdict:[/] {rep['verdict']}")
        emit(rep, as_json, render)


@app.command("history")
def history_cmd(
    start: Annotated[Optional[str], typer.Option("--from", help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
    csv: Annotated[Optional[Path], typer.Option("--csv", help="Write the daily series to this CSV file.")] = None,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, stress_config: StressConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The daily signal series (index, percentile, regime, strength, change_20d, warning_probability)."""
    from usecases import signals

    with handle_errors(as_json):
        if csv is not None:
            _check_output(Path(csv))
        market = _market(data, store, demo, as_json)
        h = signals.history(market, start, end, _config(stress_config))
        if not len(h):
            from engine.errors import NoDataError

            raise NoDataError(f"no sessions with a stress reading between {start or 'the start'} and "
                              f"{end or 'the end'} (data: {market.first.date()} to {market.last.date()})")
        if csv is not None:
            from workbooks.atomic import atomic_write_bytes

            atomic_write_bytes(Path(csv), h.to_csv(date_format="%Y-%m-%d").encode())
        result = {"label": market.label, "rows": len(h), "from": h.index[0] if len(h) else None,
                  "to": h.index[-1] if len(h) else None, "csv": str(csv) if csv else None}

        def render(r: dict) -> None:
            if csv is None:
                out.print(h.tail(20).to_string())
            out.print(f"{r['rows']} sessions {str(r['from'])[:10]} to {str(r['to'])[:10]}"
                      + (f" written to {csv}" if csv else "") + f"  [{r['label']}]")
        emit(result, as_json, render)


@app.command("sectors")
def sectors_cmd(data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False,
                stress_config: StressConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Forward excess returns of each sector on stress level and change (Newey-West t), by regime."""
    from usecases import signals

    with handle_errors(as_json):
        market = _market(data, store, demo, as_json)
        rep = signals.sectors_report(market, _config(stress_config))

        def render(rep: dict) -> None:
            t = Table(title=f"Forward excess return over SPY on stress (HAC t-stats)  [{rep['label']}]", title_justify="left")
            for c in ("sector", "horizon", "beta_level", "t_level", "beta_change", "t_change", "n"):
                t.add_column(c, justify="right" if c != "sector" else "left")
            for r in rep["regressions"]:
                t.add_row(r["sector"], str(r["horizon"]), f"{r['beta_level']:+.4f}", f"{r['t_level']:+.2f}",
                          f"{r['beta_change']:+.4f}", f"{r['t_change']:+.2f}", str(r["n"]))
            out.print(t)
            if rep["note"]:
                out.print(rep["note"])
            _render_evidence(rep)
        emit(rep, as_json, render)


def _render_evidence(rep: dict) -> None:
    t = Table(title="Ranked on evidence only: forward 60-session return vs XLK from sessions in stress/crisis "
              "(walk-forward)", title_justify="left")
    for c in ("sector", "mean vs XLK", "95% interval", "t (NW)", "n", "evidence"):
        t.add_column(c, justify="left" if c in ("sector", "evidence") else "right")
    for d in rep["defensive"]:
        ci = "-" if d["ci_low"] is None else f"[{d['ci_low'] * 100:+.1f}%, {d['ci_high'] * 100:+.1f}%]"
        t.add_row(d["sector"], f"{d['score'] * 100:+.1f}%", ci, f"{d['t_stat']:+.2f}", str(d["n"]),
                  f"{d['strength']} ({d['direction']})")
    out.print(t)
    tilt = rep.get("defensive_tilt") or {}
    if tilt:
        out.print(tilt["text"], markup=False)
        out.print(f"Threshold: {tilt['threshold']}.", markup=False)
        out.print(f"Size: {tilt['rule']}.", markup=False)


@app.command("triggers")
def triggers_cmd(data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False,
                 stress_config: StressConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Dated rebalancing triggers: regime changes and signal-strength moves, each with its reason."""
    from usecases import signals

    with handle_errors(as_json):
        market = _market(data, store, demo, as_json)
        tr = signals.trigger_list(market, _config(stress_config))
        result = {"label": market.label, "triggers": tr.reset_index().to_dict(orient="records")}
        emit(result, as_json, lambda r: out.print(tr.tail(30).to_string()))


def _ci_cell(m: dict | None, spec: str = ".3f") -> str:
    if not m or m.get("value") is None:
        return "n/a"
    lo, hi = m.get("ci_low"), m.get("ci_high")
    iv = "" if lo is None else f" [{format(lo, spec)}, {format(hi, spec)}]"
    return format(m["value"], spec) + iv


def _research_table(name: str, r: dict) -> Table:
    t = Table(title=f"{name} (horizon {r['horizon']} sessions; out of sample from {r['oos_from']})",
              title_justify="left")
    cols = ["auc", "brier", "balanced_accuracy"] if r["binary"] else ["rank_ic"]
    t.add_column("model")
    for c in cols:
        t.add_column(f"{c} [95% CI]", justify="right")
    if not r["binary"]:
        t.add_column("HAC t", justify="right")
    t.add_column("rows", justify="right")
    for model, row in r["metrics"].items():
        cells = [_ci_cell(row.get(c)) for c in cols]
        if not r["binary"]:
            cells.append(_fmt((row.get("rank_ic") or {}).get("hac_t")))
        t.add_row(model, *cells, str(row.get("n")))
    return t


@app.command("research")
def research_cmd(
    target: Annotated[Optional[list[str]], typer.Option("--target", help="Only this target (repeatable): event, "
                      "major_under, rel_spy_20/40/60, rel_def_20/40/60.")] = None,
    money: Annotated[bool, typer.Option("--money", help="Also backtest rotation vs rotation-nosignal and "
                     "hy-rule vs its base: the IRs and their difference with intervals (minutes).")] = False,
    save: Annotated[Optional[Path], typer.Option("--save", help="Also write the selection record (the event "
                    "target's procedure, which readings use) to this file.")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not file the selection record in the state "
                       "folder ($ROTATION_SELECTIONS) where readings find it.")] = False,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, stress_config: StressConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Models x targets x metrics out of sample with intervals, the nested walk-forward procedure's choices,
    beside VIX-only, HY-only, always, never and base-rate baselines; the verdict in words."""
    from usecases.selection_store import save_selection
    from usecases.signals_research import research

    with handle_errors(as_json):
        cfg = _config(stress_config)
        market = _market(data, store, demo, as_json)
        if save is not None:
            _check_output(save, "--save", "selection.json")
        with spinner(as_json, "walk-forward research (minutes on 20 years)"):
            rep = research(market, cfg, only=target, keep_record=save is not None or not no_save)
        rep["selection_saved"] = save_selection(rep, market, cfg, save, home=not no_save)
        if money:
            from usecases.signals_research import signal_money

            with spinner(as_json, "backtesting rotation, rotation-nosignal and the HY rule"):
                rep["signal_value"] = signal_money(market)

        def render(rep: dict) -> None:
            for name, r in rep["targets"].items():
                out.print(_research_table(name, r))
                counts = ", ".join(f"{k} {v}" for k, v in r["chosen_counts"].items())
                out.print(f"Procedure: best past out-of-sample candidate at each of {r['refits']} refits among "
                          f"{r['candidates_tried']} candidates; chosen: {counts}")
                out.print(f"By decade: {_point(r['by_decade'])}; by stress regime at t: {_point(r['by_regime'])}")
            out.print(f"Candidates tried in all: {rep['candidates_tried']}")
            if "signal_value" in rep:
                out.print(f"Signal value ({rep['signal_value']['from']} to {rep['signal_value']['to']}): "
                          f"{rep['signal_value']['words']}")
                for k in ("hy_rule", "vs_hy_rule"):
                    if k in rep["signal_value"]:
                        out.print(rep["signal_value"][k]["words"])
            out.print(f"[bold]Verdict:[/] {rep['verdict']}")
            sv = rep.get("selection_saved")
            if sv:
                where = " and ".join(p for p in (sv["path"], sv["copy"]) if p)
                out.print(f"Selection record (readings use it): {where} (SHA-256 {sv['sha256'][:16]}...)")
            elif "event" not in rep["targets"]:
                out.print("No selection record filed: the event target, which drives the warning, was not in this run.")
        emit(rep, as_json, render)


def _point(d: dict) -> str:
    return ", ".join(f"{k} {_fmt(v, '.3f')}" for k, v in d.items()) or "n/a"
