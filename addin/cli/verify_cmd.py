"""`rotation verify BOOK.xlsx`: embedded signature, .p7s, content digest and ledger entry.

Register the function, not a sub-app (a typer group cannot take BOOK before a command):
``app.command("verify")(verify_cmd.verify)`` in addin/cli/main.py. ``app`` below is the same
command as a standalone single-command Typer (used by the tests).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, emit, handle_errors, out


LABELS = {"embedded_signature": "Embedded Office signature", "cms_signature": "Detached CMS signature (.p7s)",
          "trusted_signer": "Signer trusted (trust store, validity, key)",
          "content_digest": "Content digest (Audit sheet)", "ledger": "Ledger export entry and anchors"}


def _render(r: dict) -> None:
    t = Table(title=f"{Path(r['file']).name}", show_header=True)
    t.add_column("check")
    t.add_column("holds")
    for key, label in LABELS.items():
        t.add_row(label, "[green]yes[/]" if r[key] else "[bold red]NO[/]")
    out.print(t)
    for sig in r.get("signatures", []):
        state = "valid" if sig["valid"] else "INVALID"
        state += ", trusted" if sig["trusted"] else ", NOT trusted"
        out.print(f"{sig['role']}: {sig.get('signer') or '-'} at {sig.get('signed_at') or '-'} ({state}; "
                  f"certificate {(sig.get('cert_sha256') or '-')[:16]})", highlight=False)
    for p in r["problems"]:
        out.print(f"  - {p}", highlight=False)
    out.print("[green]all checks hold[/]" if r["ok"] else "[bold red]verification FAILED[/]")


def verify(book: Annotated[Path, typer.Argument(help="The signed workbook (.xlsx).", dir_okay=False)],
           ledger: Annotated[Optional[Path], typer.Option(
               "--ledger", help="Ledger file (default: $ROTATION_LEDGER or the user data directory).",
               dir_okay=False)] = None,
           keys: Annotated[Optional[Path], typer.Option(
               "--keys", help="Keys folder whose trust store decides which signers are accepted.",
               file_okay=False)] = None,
           anchor: Annotated[Optional[list[str]], typer.Option(
               "--anchor", help="SEQ:HASH from `rotation ledger anchor` (repeatable).")] = None,
           as_json: JsonOpt = False) -> None:
    """Check the workbook; exit 0 only when every check holds (1 otherwise, 2 for a usage error)."""
    with handle_errors(as_json):
        from workbooks.ledger import parse_anchor
        from workbooks.trust import TrustStore
        from workbooks.verify import verify_workbook
        result = verify_workbook(book, ledger=ledger, trust=TrustStore.for_keys(keys),
                                 anchors=[parse_anchor(a) for a in anchor or []])
        emit(result, as_json, _render)
    if not result["ok"]:
        raise typer.Exit(1)


app = typer.Typer(help="Check a signed audit workbook.", add_completion=False)
app.command("verify")(verify)
