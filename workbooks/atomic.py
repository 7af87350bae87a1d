"""Atomic file writes: a file appears complete or not at all.

Bytes go to a temporary file in the destination folder (same file system), are flushed and
fsync'ed, then ``os.replace`` puts them in place (atomic on POSIX and Windows); the folder is
fsync'ed where the platform allows. On any error the temporary file is removed.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def _temp_for(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_temp(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a fsync'ed temporary file beside ``path``; return the temporary path.
    Commit it with :func:`commit` (or remove it)."""
    path = Path(path)
    tmp = _temp_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit(tmp: Path, path: str | os.PathLike) -> Path:
    """Move a temporary file written by :func:`write_temp` into place atomically."""
    path = Path(path)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    return commit(write_temp(path, data), path)


def atomic_write_many(files: dict[str | os.PathLike, bytes]) -> list[Path]:
    """Write several files: every temporary file is complete and fsync'ed before the first
    rename, so a failure while writing leaves all destinations untouched. The renames follow
    one another in the given order (a crash between two renames can leave the later ones old)."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            temps.append((write_temp(path, data), Path(path)))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    return [commit(tmp, path) for tmp, path in temps]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name (e.g.
    ``wb.save(tmp)``); on success it is fsync'ed and renamed onto ``path``, on error removed."""
    path = Path(path)
    tmp = _temp_for(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
