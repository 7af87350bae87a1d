"""Options and output helpers shared by every `rotation` command.

Rules every command follows:
- ``--json`` prints exactly one JSON object on stdout and nothing else (progress goes to stderr
  and is switched off).
- A :class:`engine.errors.RotationError` becomes a short message (or ``{"error": ...}`` with
  ``--json``) and exit code 2; never a traceback. Any other exception becomes one line naming its
  type plus the path of a log file holding the traceback (``$ROTATION_LOG_DIR`` or the user log
  directory), also exit code 2.
- Bracketed text in messages, titles and cells is shown literally: only bracketed words that are
  rich styles (``[bold]``, ``[green]``, ``[/]`` ...) are markup.

This module imports only the standard library, typer and rich at the top (``rotation --help`` must
stay fast); pandas and numpy are imported where values are converted.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import traceback
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from rich.console import Console
from rich.text import Text

from engine.errors import RotationError

_TAG = re.compile(r"(\\*)\[([^\[\]]*)\]")


def _literal_brackets(text: str) -> str:
    """Escape every ``[...]`` that is not a rich style tag, so data text such as ``[series]`` or a
    data label ``[local store ...]`` prints as written."""
    from rich.style import Style

    def fix(m: re.Match) -> str:
        slashes, body = m.group(1), m.group(2)
        if len(slashes) % 2:                       # already escaped
            return m.group(0)
        tag = body[1:] if body.startswith("/") else body
        if body == "/" or (tag and _is_style(tag, Style)):
            return m.group(0)
        return f"{slashes}\\[{body}]"
    return _TAG.sub(fix, text)


def _is_style(tag: str, style_cls) -> bool:
    try:
        style_cls.parse(tag)
        return True
    except Exception:                              # rich raises StyleSyntaxError (and others) for non-styles
        return False


class SafeConsole(Console):
    """A rich Console whose markup only interprets style tags; any other bracketed text is literal."""

    def render_str(self, text, *args, **kwargs):  # noqa: D102 - see class docstring
        markup = kwargs.get("markup")
        if (markup if markup is not None else self._markup) and "[" in text:
            text = _literal_brackets(text)
        return super().render_str(text, *args, **kwargs)


# Wide enough for the tables when output is piped (rich would otherwise assume 80 columns).
out = SafeConsole(width=None if sys.stdout.isatty() else 150)               # human output (stdout)
err = SafeConsole(stderr=True, width=None if sys.stderr.isatty() else 150)  # progress and messages

DataOpt = Annotated[Optional[Path], typer.Option(
    "--data", help="Folder of vendor CSV files (Yahoo, FRED, Cboe) to import into a temporary store and use.",
    file_okay=False)]
StoreOpt = Annotated[Optional[Path], typer.Option(
    "--store", help="SQLite store to use (default: $ROTATION_STORE or the user data directory).", dir_okay=False)]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the deterministic synthetic demo market.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
StressConfigOpt = Annotated[Optional[Path], typer.Option(
    "--stress-config", help="TOML overriding engine/stress/default.toml (inputs, regime thresholds, events, warning, "
    "[user_factors] cleaning).",
    dir_okay=False)]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: the last session).")]


def to_jsonable(obj: Any) -> Any:
    """Convert results (dataclasses already as dicts, numpy, pandas, dates) to plain JSON values. NaN -> null."""
    import numpy as np
    import pandas as pd

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


def log_dir() -> Path:
    """Where unexpected failures are logged: ``$ROTATION_LOG_DIR``, else the user log directory."""
    env = os.environ.get("ROTATION_LOG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_log_dir

    return Path(user_log_dir("sector-rotation", appauthor=False))


def log_unexpected(exc: BaseException) -> Path | None:
    """Write the traceback of ``exc`` (and the command line) to a new log file; its path, or None."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        d = log_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"rotation-error-{stamp}-{os.getpid()}.log"
        path.write_text("command: " + " ".join(sys.argv) + "\n" +
                        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), encoding="utf-8")
        return path
    except OSError:
        return None


def unexpected_message(exc: BaseException) -> str:
    """One line for an unexpected failure, with the path of the log file holding its details."""
    path = log_unexpected(exc)
    text = " ".join(str(exc).split())[:200]
    where = f"details in {path}" if path else "the log file could not be written"
    return f"unexpected internal error ({type(exc).__name__}: {text}); {where}"


def print_error(message: str, as_json: bool, conflicts: list[str] | None = None) -> None:
    """The one error line (stderr, bracketed text literal), or ``{"error": ...}`` with --json."""
    if as_json:
        payload: dict[str, Any] = {"error": message}
        if conflicts:
            payload["conflicts"] = conflicts
        print_json(payload)
        return
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    for c in conflicts or []:
        err.print(Text(f"  - {c}"), highlight=False)


@contextmanager
def handle_errors(as_json: bool = False):
    """Turn product errors into a clear message and exit code 2; any other exception into one line
    plus the path of a log file with the traceback (exit code 2). Never a traceback on screen."""
    try:
        yield
    except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
        raise
    except RotationError as exc:
        print_error(str(exc), as_json, getattr(exc, "conflicts", None))
        raise typer.Exit(2)
    except Exception as exc:  # noqa: BLE001 - the top-level guarantee: no traceback reaches the user
        if _is_click_exception(exc):
            raise
        print_error(unexpected_message(exc), as_json)
        raise typer.Exit(2)


def _is_click_exception(exc: BaseException) -> bool:
    """Usage errors raised by the command-line parser (typer's click, vendored or not) are its to print."""
    return any(c.__name__ in ("ClickException", "Abort", "Exit") and "click" in c.__module__
               for c in type(exc).__mro__)


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


def stress_config(path: Path | None):
    """The StressConfig of ``--stress-config`` (None: the shipped defaults)."""
    if path is None:
        return None
    from engine.stress.config import StressConfig

    return StressConfig.from_toml(path)
