"""Import a folder of vendor files: detect, parse, validate every file, all or nothing."""
from __future__ import annotations

import hashlib
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from engine.data.assemble import MAX_FILL, assemble
from engine.data.formats import RawSeries, parse_csv
from engine.data.model import Market
from engine.data.validate import validate
from engine.errors import DataError

MAPPING_FILE = "rotation-mapping.toml"


class ImportFailed(DataError):
    """One or more files failed validation; nothing was imported. ``errors`` lists each failure."""

    def __init__(self, errors: list[DataError]):
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} file(s) failed validation; nothing was imported:\n{lines}")


def read_mapping(path: Path | None) -> dict[str, str]:
    """Read a TOML mapping file: a ``[series]`` table of vendor column or file name -> canonical name."""
    if path is None:
        return {}
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read mapping file: {exc}", str(path)) from None
    table = doc.get("series")
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise DataError('expected a [series] table of "vendor name" = "canonical_name" strings', str(path))
    return dict(table)


def find_files(paths: list[Path]) -> list[Path]:
    """Every .csv file under the given folders (or the files themselves), sorted, deduplicated."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".csv"))
        elif p.is_file():
            out.append(p)
        else:
            raise DataError("no such file or folder", str(p))
    seen, uniq = set(), []
    for f in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append(f)
    return uniq


def read_files(paths: list[Path], mapping: dict[str, str] | None = None,
               today: pd.Timestamp | None = None) -> list[RawSeries]:
    """Parse and validate every file; raise ImportFailed listing every failure (nothing is kept)."""
    files = find_files(paths)
    if mapping is None:
        mapping = {}
        for p in paths:
            m = Path(p) / MAPPING_FILE
            if Path(p).is_dir() and m.exists():
                mapping.update(read_mapping(m))
    if not files:
        raise DataError("no .csv files found", ", ".join(map(str, paths)))
    series, errors = [], []
    for f in files:
        try:
            data = f.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            parsed = parse_csv(data, str(f), mapping)
            for s in parsed:
                s.sha256 = digest
                validate(s, today=today)
            series.extend(parsed)
        except DataError as exc:
            errors.append(exc)
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(DataError(f"cannot read file: {exc}", str(f)))
    if errors:
        raise ImportFailed(errors)
    return series


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load_folder(path, mapping_file: Path | None = None, max_fill: int = MAX_FILL) -> Market:
    """Validate and align a folder of vendor files into a Market (no store involved)."""
    mapping = read_mapping(mapping_file) if mapping_file else None
    series = read_files([Path(path)], mapping)
    return assemble(series, label=f"vendor files in {path}", imported_at=now_utc(), max_fill=max_fill)
