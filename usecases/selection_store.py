"""Where selection records live and how they are written and found.

``$ROTATION_SELECTIONS`` (a folder), else ``<user data dir>/sector-rotation/selections``; each record is
``<key>.json`` with the key from the data's first month and the configuration
(:func:`engine.signals_research.selection.record_key`), so a data folder finds its own record and a
grown copy of it (new sessions appended) still does. ``[warning] selection_file`` pins one file instead.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import platformdirs

from engine.errors import DataError
from engine.signals_research.selection import check_record, record_key

ENV_SELECTIONS = "ROTATION_SELECTIONS"


def selections_dir() -> Path:
    """The folder of selection records (module doc)."""
    env = os.environ.get(ENV_SELECTIONS)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("sector-rotation", appauthor=False)) / "selections"


def record_path(market, cfg=None) -> Path | None:
    """The record file for ``market`` under ``cfg`` (None: the shipped defaults; returns None when the data
    are too short to key)."""
    from engine.stress.config import StressConfig

    cfg = cfg or StressConfig.default()
    if cfg.warning.selection_file:
        return Path(cfg.warning.selection_file).expanduser()
    key = record_key(market, cfg)
    return None if key is None else selections_dir() / f"{key}.json"


def write_record(rec: dict, path: Path) -> str:
    """Write ``rec`` to ``path`` atomically (a temporary file in the same folder, then rename); returns
    the SHA-256 of the bytes written. DataError when the folder cannot be written."""
    data = json.dumps(rec, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".selection-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(f"cannot write the selection record ({exc.strerror})", file=str(path)) from None
    return hashlib.sha256(data).hexdigest()


def read_record(path: Path) -> tuple[dict, str] | None:
    """(record, SHA-256 of its bytes), None when ``path`` does not exist; DataError when it is not a record."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataError(f"cannot read the selection record ({exc.strerror})", file=str(path)) from None
    try:
        rec = json.loads(data)
    except ValueError:
        raise DataError("selection record is not valid JSON", file=str(path)) from None
    return check_record(rec, str(path)), hashlib.sha256(data).hexdigest()


def save_selection(rep: dict, market, cfg, path=None, home: bool = True) -> dict | None:
    """Pop ``rep["selection_record"]`` and write it to the data's record file (when ``home``) and to
    ``path`` (when given); returns ``{"path", "sha256", "copy"}`` or None when the run had no event target."""
    rec = rep.pop("selection_record", None)
    if rec is None:
        return None
    home = record_path(market, cfg) if home else None
    out = {"path": None, "sha256": None, "copy": None}
    if home is not None:
        out["sha256"] = write_record(rec, home)
        out["path"] = str(home)
    if path is not None:
        out["sha256"] = write_record(rec, Path(path))
        out["copy"] = str(path)
    return out
