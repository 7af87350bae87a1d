"""`rotation data ...`: import vendor files and inspect the store."""
from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
