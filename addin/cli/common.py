"""Options and output helpers shared by every `rotation` command.

Rules every command follows:
- ``--json`` prints exactly one JSON object on stdout and nothing else (progress goes to stderr
  and is switched off).
- A :class:`engine.errors.RotationError` becomes a short message (or ``{"error": ...}`` with
  ``--json``) and exit code 2; never a traceback.
"""
from __future__ import annotations

import json
import math
import sys
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from engine.errors import RotationError

# Wide enough for the tables when output is piped (rich would otherwise assume 80 columns).
out = Console(width=None if sys.stdout.isatty() else 150)               # human output (stdout)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)  # progress and messages

DataOpt = Annotated[Optional[Path], typer.Option(
    "--data", help="Folder of vendor CSV files (Yahoo, FRED, Cboe) to import into a temporary store and use.",
    file_okay=False)]
StoreOpt = Annotated[Optional[Path], typer.Option(
    "--store", help="SQLite store to use (default: $ROTATION_STORE or the user data directory).", dir_okay=False)]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the deterministic synthetic demo market.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: the last session).")]


def to_jsonable(obj: Any) -> Any:
    """Convert results (dataclasses already as dicts, numpy, pandas, dates) to plain JSON values. NaN -> null."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (pd.Timestamp, datetime, date)):
        return obj.isoformat()[:10] if isinstance(obj, pd.Timestamp) or type(obj) is date else obj.isoformat()
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def print_json(obj: dict) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def emit(result: dict, as_json: bool, render: Callable[[dict], None]) -> None:
    """Print ``result`` as JSON, or through ``render`` for people."""
    if as_json:
        print_json(result)
    else:
        render(result)


@contextmanager
def handle_errors(as_json: bool = False):
    """Turn product errors into a clear message and exit code 2."""
    try:
        yield
    except RotationError as exc:
        payload: dict[str, Any] = {"error": str(exc)}
        conflicts = getattr(exc, "conflicts", None)
        if conflicts:
            payload["conflicts"] = conflicts
        if as_json:
            print_json(payload)
        else:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            for c in conflicts or []:
                err.print(f"  - {c}", highlight=False)
        raise typer.Exit(2)


def progress(as_json: bool):
    """A rich progress bar on stderr, silent with --json."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=as_json)


@contextmanager
def spinner(as_json: bool, description: str):
    """A progress spinner on stderr for work of unknown length (silent with --json)."""
    with progress(as_json) as bar:
        bar.add_task(description, total=None)
        yield
