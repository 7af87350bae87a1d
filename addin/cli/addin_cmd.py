"""`rotation addin build --out SectorRotation.xlam` and `rotation addin run ACTION` (the ribbon's frozen path)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import JsonOpt, emit, handle_errors, out

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the add-in (.xlam).", dir_okay=False)] = Path("SectorRotation.xlam"),
    template: Annotated[Optional[Path], typer.Option("--template", help="xlwings add-in template (default: the one shipped with xlwings).", dir_okay=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the Excel add-in: ribbon tab, worksheet-function module, dispatcher and conf sheet, then check it."""
    from engine.errors import ArgumentError

    with handle_errors(as_json):
        try:
            from addin.xlam.build import build_xlam
            from addin.xlam.check import check_xlam
        except ImportError as exc:
            raise ArgumentError("addin build", f"needs {exc.name}: pip install 'sector-rotation[addin]'") from None

        if out_path.suffix.lower() != ".xlam":
            raise ArgumentError("--out", f"expected a file name ending in .xlam, got {out_path.name!r}")
        r = build_xlam(out_path, template)
        r["check"] = check_xlam(Path(r["path"]))

        def render(r: dict) -> None:
            c = r["check"]
            out.print(f"Add-in written to {r['path']} ({r['bytes']:,} bytes) from {Path(r['template']).name}.")
            out.print(f"Ribbon buttons: {', '.join(c['buttons'])} -> {', '.join(c['on_actions'])}.")
            out.print(f"Worksheet functions: {', '.join(r['functions'])}.")
            out.print(f"VBA modules: {', '.join(c['modules'])}; conf sheet {r['conf_sheet']}.")
            out.print("checks hold" if c["ok"] else f"[bold red]checks FAIL[/]: {c}")
        emit({k: v for k, v in r.items() if k != "parts"}, as_json, render)
        if not r["check"]["ok"]:
            raise typer.Exit(1)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(action: Annotated[str, typer.Argument(help="Button id: RefreshSignals, Optimize, GenerateTrades, RunBacktest, ExportSigned, Verify, Settings.")],
        book: Annotated[Optional[Path], typer.Option("--book", help="Run on this .xlsx instead of the calling Excel workbook.", dir_okay=False)] = None) -> None:
    """Run one ribbon button (called by RunFrozenPython, which appends --wb/--from_xl/--app/--hwnd)."""
    from addin.ribbon.callbacks import run as dispatch

    if book is not None:
        from addin.ribbon.workbook import OpenpyxlBook

        wb = OpenpyxlBook(book)
        ok = dispatch(action, wb)
        for m in wb.messages:
            out.print(m, highlight=False)
        if ok:
            wb.save()
    else:
        from addin.ribbon.xl import run as run_in_excel

        ok = run_in_excel(action)
    if not ok:
        raise typer.Exit(1)
