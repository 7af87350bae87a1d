"""`rotation data import|status`: import vendor files into the local store and inspect it."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, StoreOpt, StressConfigOpt, emit, err, handle_errors, out, spinner
from addin.cli.common import stress_config as read_stress_config

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_cmd(
    folders: Annotated[list[Path], typer.Argument(help="Folders (or files) of Yahoo / FRED / Cboe CSV files.")],
    store: StoreOpt = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="TOML file: [series] \"vendor name\" = \"canonical_name\", date_format, [lags].")] = None,
    skip_unknown: Annotated[bool, typer.Option("--skip-unknown", help="Skip (and list) files whose series is not a known name instead of failing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate every file and import all of them in one transaction (nothing is imported if any file fails)."""
    from usecases.context import import_folders

    with handle_errors(as_json):
        with spinner(as_json, "validating and importing"):
            rep = import_folders(folders, store, mapping, skip_unknown)
        result = {"store": str(rep.store), "files": rep.files, "series": rep.series, "skipped": rep.skipped,
                  "new": sum(v == "new" for v in rep.series.values()),
                  "updated": sum(v == "updated" for v in rep.series.values()),
                  "unchanged": sum(v == "unchanged" for v in rep.series.values()), "user_factors": rep.user_factors}

        def render(r: dict) -> None:
            out.print(f"Imported {len(r['series'])} series from {r['files']} files into {r['store']} "
                      f"({r['new']} new, {r['updated']} updated, {r['unchanged']} unchanged).", markup=False)
            if r["user_factors"]:
                out.print(f"User factor panel imported from {r['user_factors']}.", markup=False)
            for f in r["skipped"]:
                out.print(f"Skipped (unknown series): {f}", markup=False)
        emit(result, as_json, render)


@app.command("status")
def status_cmd(store: StoreOpt = None, as_json: JsonOpt = False, stress_config: StressConfigOpt = None) -> None:
    """A table of stored series: first and last date, rows, gaps, source, last import (and the user factor
    panel with the cleaning settings of ``--stress-config``'s [user_factors], default the shipped ones)."""
    from engine.data.assemble import MAX_FILL
    from engine.data.store import Store

    with handle_errors(as_json):
        cfg = read_stress_config(stress_config)
        st = Store(store)
        rows = st.status()
        calendar_end, factors = None, None
        if rows:       # fills and staleness exist once the series are aligned to the session calendar
            market = st.load()
            calendar_end = market.last.date().isoformat()
            for r in rows:
                r.update(series_staleness(market, r))
            factors = (market.user_factors.summary(None if cfg is None else cfg.user_factors)
                       if market.user_factors is not None else None)
        result = {"store": str(st.path), "last_import": st.last_import(), "series": rows,
                  "max_fill_sessions": MAX_FILL, "calendar_end": calendar_end, "user_factors": factors}

        def render(r: dict) -> None:
            if not r["series"]:
                err.print(f"No data in {r['store']}: run `rotation data import FOLDER`.")
                return
            t = Table(title=f"Store {r['store']}", title_justify="left")
            for c, j in (("series", "left"), ("format", "left"), ("first", "left"), ("last", "left"),
                         ("rows", "right"), ("gaps", "right"), ("filled", "right"), ("stale", "right"),
                         ("lag", "right"), ("imported (UTC)", "left"),
                         ("source", "left")):
                t.add_column(c, justify=j)
            for s in r["series"]:
                fmt = s["format"] + (" (price only)" if s.get("adjustment", "").startswith("price") else "")
                t.add_row(s["name"], fmt, s["first"], s["last"], f"{s['rows']:,}", f"{s['gaps']:,}",
                          f"{s.get('filled', 0):,}", _stale_text(s), str(s.get("lag", "")),
                          (s["imported_at"] or "")[:19], Path(s["source"]).name)
            out.print(t)
            uf = r.get("user_factors")
            if uf:
                out.print(f"User factor panel {Path(uf['source']).name}: {uf['rows']:,} rows, {uf['first']} to "
                          f"{uf['last']} (published to {uf['available_last']}), factors {', '.join(uf['factors'])}, "
                          f"{uf['sectors']} sectors, market caps {'given' if uf['has_caps'] else 'not given'} "
                          f"(SHA-256 {uf['sha256'][:12]}).", markup=False, highlight=False)
                out.print(f"Cleaning: {uf['cleaning_rule']}.", markup=False, highlight=False)
            li = r["last_import"]
            if li:
                out.print(f"Last import #{li['id']} at {li['at']}: {li['files']} files, {li['series']} series. "
                          "gaps = rows without a value (holiday rows, missing prints); filled = sessions "
                          f"forward-filled when aligned to the trading calendar (at most {r['max_fill_sessions']} "
                          "in a row, inside a series only); stale = sessions of the calendar (which ends "
                          f"{r['calendar_end']}, the last session with sector prices) after the series' last "
                          "value; lag = sessions after its date at which a value is published.", markup=False)
        emit(result, as_json, render)


def _stale_text(s: dict) -> str:
    if s.get("after_calendar"):
        return "0 (later rows unused)"
    return f"{s.get('stale_sessions', 0):,}"


def series_staleness(market, row: dict) -> dict:
    """Forward fills, availability lag, and staleness against the session calendar for one store row:
    ``stale_sessions`` (calendar sessions after the series' last value) and ``after_calendar`` (true
    when the series has rows after the calendar's last session: kept in the store but not used)."""
    import pandas as pd

    from engine.data.formats import adjustment
    from engine.universe import availability_lag

    name, last = row["name"], row.get("last")
    info = {"filled": market.fills.get(name, 0), "lag": market.lags.get(name, availability_lag(name)),
            "adjustment": adjustment(row.get("format", "")), "stale_sessions": 0, "after_calendar": False}
    if last:
        t = pd.Timestamp(last)
        info["stale_sessions"] = int((market.sessions > t).sum())
        info["after_calendar"] = bool(t > market.last)
    return info

