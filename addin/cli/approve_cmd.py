"""`rotation approve BOOK.xlsx`: add a reviewer's or approver's own signature and ledger entry."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import JsonOpt, emit, handle_errors, out


def approve(book: Annotated[Path, typer.Argument(help="The signed decision workbook (.xlsx).", dir_okay=False)],
            role: Annotated[str, typer.Option("--role", help="reviewed or approved.")] = "approved",
            keys: Annotated[Optional[Path], typer.Option(
                "--keys", help="The approver's keys folder (default: $ROTATION_KEYS_DIR or the user config directory).",
                file_okay=False)] = None,
            ledger: Annotated[Optional[Path], typer.Option(
                "--ledger", help="Audit ledger (default: $ROTATION_LEDGER or the user data directory).",
                dir_okay=False)] = None,
            as_json: JsonOpt = False) -> None:
    """Sign BOOK as reviewed/approved beside the decision's signature (which stays valid); recorded in the ledger."""
    with handle_errors(as_json):
        from workbooks.approve import approve as do_approve
        from workbooks.keys import load_signer, operator_identity
        result = do_approve(book, load_signer(keys), ledger, role, operator=operator_identity(keys))
        emit(result, as_json, lambda r: out.print(
            f"{r['role']} by {r['approver']} at {r['signed_at']}: {r['path']} (ledger entry #{r['ledger_seq']})",
            highlight=False))
