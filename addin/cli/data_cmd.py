"""`rotation data import|status`: import vendor files into the local store and inspect it."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, StoreOpt, emit, err, handle_errors, out, spinner

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_cmd(
    folders: Annotated[list[Path], typer.Argument(help="Folders (or files) of Yahoo / FRED / Cboe CSV files.")],
    store: StoreOpt = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="TOML file: [series] \"vendor name\" = \"canonical_name\".")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate every file and import all of them in one transaction (nothing is imported if any file fails)."""
    from usecases.context import import_folders

    with handle_errors(as_json):
        with spinner(as_json, "validating and importing"):
            rep = import_folders(folders, store, mapping)
        result = {"store": str(rep.store), "files": rep.files, "series": rep.series,
                  "new": sum(v == "new" for v in rep.series.values()),
                  "updated": sum(v == "updated" for v in rep.series.values()),
                  "unchanged": sum(v == "unchanged" for v in rep.series.values())}

        def render(r: dict) -> None:
            out.print(f"Imported {len(r['series'])} series from {r['files']} files into {r['store']} "
                      f"({r['new']} new, {r['updated']} updated, {r['unchanged']} unchanged).")
        emit(result, as_json, render)


@app.command("status")
def status_cmd(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """A table of stored series: first and last date, rows, gaps, source, last import."""
    from engine.data.assemble import MAX_FILL
    from engine.data.store import Store

    with handle_errors(as_json):
        st = Store(store)
        rows = st.status()
        if rows:       # forward fills happen when the series are aligned to sessions: report them per series
            fills = st.load().fills
            for r in rows:
                r["filled"] = fills.get(r["name"], 0)
        result = {"store": str(st.path), "last_import": st.last_import(), "series": rows,
                  "max_fill_sessions": MAX_FILL}

        def render(r: dict) -> None:
            if not r["series"]:
                err.print(f"No data in {r['store']}: run `rotation data import FOLDER`.")
                return
            t = Table(title=f"Store {r['store']}", title_justify="left")
            for c, j in (("series", "left"), ("format", "left"), ("first", "left"), ("last", "left"),
                         ("rows", "right"), ("gaps", "right"), ("filled", "right"), ("imported (UTC)", "left"),
                         ("source", "left")):
                t.add_column(c, justify=j)
            for s in r["series"]:
                t.add_row(s["name"], s["format"], s["first"], s["last"], f"{s['rows']:,}", f"{s['gaps']:,}",
                          f"{s.get('filled', 0):,}",
                          (s["imported_at"] or "")[:19], Path(s["source"]).name)
            out.print(t)
            li = r["last_import"]
            if li:
                out.print(f"Last import #{li['id']} at {li['at']}: {li['files']} files, {li['series']} series. "
                          "gaps = rows without a value (holiday rows, missing prints); filled = sessions "
                          f"forward-filled when aligned to the trading calendar (at most {r['max_fill_sessions']} "
                          "in a row, inside a series only).")
        emit(result, as_json, render)
