"""`rotation ledger ...`: show and verify the hash-chained audit ledger."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, emit, handle_errors, out

app = typer.Typer(no_args_is_help=True, help="The append-only, hash-chained audit ledger.")

LedgerOpt = Annotated[Optional[Path], typer.Option(
    "--ledger", help="Ledger file (default: $ROTATION_LEDGER or the user data directory).", dir_okay=False)]


def _open(path: Path | None):
    from engine.errors import NoDataError
    from workbooks.ledger import Ledger, default_ledger_path
    p = path or default_ledger_path()
    if not p.exists():
        raise NoDataError(f"no ledger at {p} (nothing has been recorded yet; pass --ledger PATH)")
    return Ledger(p)


@app.command("show")
def show(ledger: LedgerOpt = None,
         last: Annotated[int, typer.Option("--last", help="Only the newest N entries (0: all).", min=0)] = 0,
         as_json: JsonOpt = False) -> None:
    """List the ledger's entries (seq, UTC time, operator, kind, payload, hash)."""
    with handle_errors(as_json):
        led = _open(ledger)
        entries = led.entries()
        if last:
            entries = entries[-last:]
        result = {"path": str(led.path), "entries": [e.as_dict() for e in entries]}

        def render(r: dict) -> None:
            t = Table(title=f"Ledger {r['path']}")
            for c in ("seq", "time (UTC)", "operator", "kind", "payload", "hash"):
                t.add_column(c, overflow="fold")
            for e in r["entries"]:
                t.add_row(str(e["seq"]), e["time"], e["operator"], e["kind"],
                          json.dumps(e["payload"], sort_keys=True)[:120], e["hash"][:16])
            out.print(t)

        emit(result, as_json, render)


AnchorOpt = Annotated[Optional[list[str]], typer.Option(
    "--anchor", help="SEQ:HASH printed earlier by `rotation ledger anchor` (repeatable): proves nothing at or "
                     "before it was changed or removed.")]


@app.command("anchor")
def anchor(ledger: LedgerOpt = None, as_json: JsonOpt = False) -> None:
    """Print the ledger head (sequence, hash, time) to keep outside the ledger (an email, a ticket)."""
    with handle_errors(as_json):
        result = _open(ledger).anchor()
        emit(result, as_json, lambda r: out.print(
            f"ledger anchor {r['anchor']}\n(entry {r['seq']} of {r['path']}, {r['time'] or 'empty ledger'}); keep it "
            "outside the ledger and check later with `rotation ledger verify --anchor SEQ:HASH`", highlight=False))


@app.command("verify")
def verify(ledger: LedgerOpt = None, anchor: AnchorOpt = None, as_json: JsonOpt = False) -> None:
    """Check the hash chain (and anchors); exit 0 only if no entry was deleted, inserted, changed or reordered."""
    with handle_errors(as_json):
        from workbooks.ledger import parse_anchor
        anchors = [parse_anchor(a) for a in anchor or []]
        result = _open(ledger).verify(anchors=anchors)

        def render(r: dict) -> None:
            for w in r.get("warnings", []):
                out.print(f"[yellow]warning[/]: {w}", highlight=False)
            if r["ok"]:
                out.print(f"[green]ledger valid[/]: {r['entries']} entries, head {r['last_seq']}:{r['head']}"
                          + (f", {r['anchors_checked']} anchor(s) hold" if r["anchors_checked"] else ""),
                          highlight=False)
            else:
                out.print(f"[bold red]ledger INVALID[/] ({r['entries']} entries):", highlight=False)
                for p in r["problems"]:
                    out.print(f"  - {p}", highlight=False)

        emit(result, as_json, render)
    if not result["ok"]:
        raise typer.Exit(1)
