"""`rotation calc build --out SectorRotation.oxt` and `rotation calc install [--profile DIR]` (LibreOffice Calc)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import JsonOpt, emit, handle_errors, out

app = typer.Typer(no_args_is_help=True)

MISMATCH = ("LibreOffice runs Python {lo} but this environment is Python {py}: the extension would not "
            "import the product there; install the product into a Python {lo} environment and build from it.")


@app.command("build")
def build(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the extension (.oxt).", dir_okay=False)] = Path("SectorRotation.oxt"),
    as_json: JsonOpt = False,
) -> None:
    """Build the Calc extension: the worksheet functions, the Sector Rotation menu and toolbar, the .xlsx job."""
    from engine.errors import ArgumentError

    with handle_errors(as_json):
        if out_path.suffix.lower() != ".oxt":
            raise ArgumentError("--out", f"expected a file name ending in .oxt, got {out_path.name!r}")
        if not out_path.parent.is_dir():
            raise ArgumentError("--out", f"folder {str(out_path.parent)!r} does not exist")
        from addin.calc.build import build_oxt

        r = build_oxt(out_path)

        def render(r: dict) -> None:
            out.print(f"Extension written to {r['path']} ({r['bytes']:,} bytes).")
            out.print(f"Worksheet functions: {', '.join(r['functions'])}.")
            out.print(f"Menu and toolbar: {', '.join(r['actions'])}.")
            out.print(f"Product environment: {', '.join(r['paths'])} (Python {r['python']}).")
            if r["libreoffice_python"] is None:
                out.print("[yellow]LibreOffice's Python was not found here: install LibreOffice and python3-uno.[/]")
            elif not r["python_matches"]:
                out.print(f"[bold red]{MISMATCH.format(lo=r['libreoffice_python'], py=r['python'])}[/]")
        emit(r, as_json, render)


@app.command("install")
def install(
    profile: Annotated[Optional[Path], typer.Option("--profile", help="LibreOffice user profile folder (default: your own, ~/.config/libreoffice/4); LibreOffice must not be running on it.", file_okay=False)] = None,
    oxt: Annotated[Optional[Path], typer.Option("--oxt", help="Install this built extension instead of building one now.", dir_okay=False, exists=True)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Install the Calc extension into a LibreOffice profile (through LibreOffice's deployment API)."""
    from engine.errors import ArgumentError

    with handle_errors(as_json):
        from addin.calc.build import build_oxt, libreoffice_python
        from addin.calc.office import install as install_oxt

        lo = libreoffice_python()
        py = "%d.%d" % sys.version_info[:2]
        if lo is not None and lo != py:
            raise ArgumentError("calc install", MISMATCH.format(lo=lo, py=py))
        with tempfile.TemporaryDirectory() as tmp:
            path = oxt or Path(build_oxt(Path(tmp) / "SectorRotation.oxt")["path"])
            r = install_oxt(path, profile)

        def render(r: dict) -> None:
            bad = [p for p, ok in r["registered"].items() if not ok]
            out.print(f"Installed {r['identifier']} {r['version']} into {r['profile']}.")
            out.print(f"[bold red]not registered: {', '.join(bad)}[/]" if bad else
                      "Every part registered; start LibreOffice Calc on that profile.")
        emit(r, as_json, render)
        if not all(r["registered"].values()):
            raise typer.Exit(1)
