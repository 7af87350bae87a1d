"""Import a folder of vendor files: detect, parse, validate every file, all or nothing.

A file named ``factors.csv`` is not a series: it is the user's factor panel
(:mod:`engine.data.user_factors`), read by :func:`read_user_factors` and attached to the Market.

Rules: every ``.csv`` (and Stooq ``.txt``) file under the folders is read; an unreadable folder or
file, a broken symlink, a file whose series maps to no known name (``XLK (1).csv``) and one series
provided by two files are errors naming the paths, unless ``skip_unknown`` (then unknown names are
skipped and listed). Nothing is kept when any file fails.
"""
from __future__ import annotations

import hashlib
import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from engine.data.assemble import MAX_FILL, assemble
from engine.data.formats import Mapping, RawSeries, as_mapping, parse_csv
from engine.data.model import Market
from engine.data.user_factors import FactorPanel, is_panel_file, read_factor_panel
from engine.data.validate import validate
from engine.errors import DataError
from engine.universe import known_series

MAPPING_FILE = "rotation-mapping.toml"
DATA_SUFFIXES = (".csv", ".txt")


class ImportFailed(DataError):
    """One or more files failed validation; nothing was imported. ``errors`` lists each failure."""

    def __init__(self, errors: list[DataError]):
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} file(s) failed validation; nothing was imported:\n{lines}")


def read_mapping(path: Path | None) -> Mapping:
    """Read a TOML mapping file: ``[series]`` vendor name -> canonical name, an optional top-level
    ``date_format`` (strftime codes, e.g. ``"%d.%m.%Y"``) and ``[lags]`` canonical name -> sessions."""
    if path is None:
        return Mapping()
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read mapping file: {exc}", str(path)) from None
    table = doc.get("series", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise DataError('expected a [series] table of "vendor name" = "canonical_name" strings', str(path))
    lags = doc.get("lags", {})
    if not isinstance(lags, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 30
                                             for v in lags.values()):
        raise DataError("expected a [lags] table of series = sessions (whole numbers 0 to 30)", str(path))
    fmt = doc.get("date_format")
    if fmt is not None and (not isinstance(fmt, str) or "%" not in fmt):
        raise DataError(f"date_format: expected strftime codes such as \"%d.%m.%Y\", got {fmt!r}", str(path))
    unknown = set(doc) - {"series", "lags", "date_format"}
    if unknown:
        raise DataError(f"unknown key(s) {sorted(unknown)}; expected series, lags, date_format", str(path))
    return Mapping(series=dict(table), date_format=fmt, lags=dict(lags))


def find_files(paths: list[Path]) -> list[Path]:
    """Every data file under the given folders (or the files themselves), sorted, deduplicated.
    Raises ImportFailed naming every unreadable folder, broken symlink or missing path."""
    out: list[Path] = []
    errors: list[DataError] = []
    for p in map(Path, paths):
        if p.is_dir():
            def onerror(exc: OSError) -> None:
                errors.append(DataError(f"cannot read folder ({exc.strerror})", exc.filename))
            for root, dirs, files in os.walk(p, onerror=onerror, followlinks=True):
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    if f.suffix.lower() not in DATA_SUFFIXES or is_panel_file(f):
                        continue                          # the user factor panel is read by read_user_factors
                    if not f.exists():
                        errors.append(DataError("broken symbolic link (its target does not exist)", str(f)))
                    elif f.suffix.lower() == ".txt" and not _is_stooq_txt(f):
                        continue                          # a note or readme, not a data file
                    else:
                        out.append(f)
        elif p.is_file():
            out.append(p)
        elif p.is_symlink():
            errors.append(DataError("broken symbolic link (its target does not exist)", str(p)))
        else:
            errors.append(DataError("no such file or folder", str(p)))
    if errors:
        raise ImportFailed(errors)
    seen, uniq = set(), []
    for f in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append(f)
    return uniq


def read_user_factors(paths: list[Path]) -> FactorPanel | None:
    """The user factor panel of the given folders: the one file named ``factors.csv`` under them (None
    when there is none; a DataError naming both when there are two)."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if is_panel_file(f) and f.is_file())
    if len(found) > 1:
        raise DataError(f"two factor panels: {found[0]} and {found[1]}; keep one factors.csv per data folder",
                        str(found[1]))
    return read_factor_panel(found[0]) if found else None


def with_user_factors(market: Market, panel: FactorPanel | None) -> Market:
    """``market`` with the user factor panel attached (unchanged when ``panel`` is None)."""
    return market if panel is None else Market(**{**market.__dict__, "user_factors": panel})


def _is_stooq_txt(f: Path) -> bool:
    try:
        with open(f, "rb") as fh:
            return fh.read(9).startswith(b"<TICKER>")
    except OSError:
        return True                                  # unreadable: let the reader report it


def folder_mapping(paths: list[Path]) -> Mapping:
    """The ``rotation-mapping.toml`` of the given folders, merged."""
    merged = Mapping()
    for p in paths:
        m = Path(p) / MAPPING_FILE
        if Path(p).is_dir() and m.exists():
            one = read_mapping(m)
            merged.series.update(one.series)
            merged.lags.update(one.lags)
            merged.date_format = one.date_format or merged.date_format
    return merged


def _read_one(f: Path, mapping: Mapping, today) -> list[RawSeries]:
    try:
        data = f.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror or exc})", str(f)) from None
    try:
        parsed = parse_csv(data, str(f), mapping)
    except UnicodeDecodeError as exc:
        raise DataError(f"not a text (UTF-8) file: {exc.reason} at byte {exc.start}", str(f)) from None
    digest = hashlib.sha256(data).hexdigest()
    for s in parsed:
        s.sha256 = digest
        validate(s, today=today)
    return parsed


def _each(read, files):
    return [read(f) for f in files]


def read_files(paths: list[Path], mapping=None, today: pd.Timestamp | None = None,
               skip_unknown: bool = False, skipped: list[str] | None = None, map_files=None) -> list[RawSeries]:
    """Parse and validate every file; raise ImportFailed listing every failure (nothing is kept).

    ``skipped`` (a list) receives the files skipped as unknown when ``skip_unknown``. ``map_files(read,
    files)``: ``[read(f) for f in files]`` (the default), each file's series or its DataError, computed as
    the caller likes (usecases.parallel shares the files between two processes); the files are independent."""
    files = find_files(paths)
    mapping = as_mapping(mapping) if mapping is not None else folder_mapping(paths)
    if not files:
        raise DataError("no .csv files found", ", ".join(map(str, paths)))
    known = known_series(mapping.series.values())
    series, errors, owner = [], [], {}

    def read(f: Path):
        try:
            return _read_one(f, mapping, today)
        except DataError as exc:
            return exc

    for f, parsed in zip(files, (map_files or _each)(read, files)):
        if isinstance(parsed, DataError):
            errors.append(parsed)
            continue
        for s in parsed:
            if s.name not in known and not s.name.startswith("ff"):
                if skip_unknown:
                    if skipped is not None:
                        skipped.append(f"{f} (series {s.name!r})")
                    continue
                errors.append(DataError(f"series {s.name!r} is not a known series; rename the file, map it in "
                                        f"{MAPPING_FILE} [series], or pass --skip-unknown", str(f)))
                continue
            if s.name in owner:
                errors.append(DataError(f"series {s.name!r} is provided by two files: {owner[s.name]} and {f}; "
                                        "remove one or map one to another name", str(f)))
                continue
            owner[s.name] = str(f)
            series.append(s)
    if errors:
        raise ImportFailed(errors)
    return series


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load_folder(path, mapping_file: Path | None = None, max_fill: int = MAX_FILL) -> Market:
    """Validate and align a folder of vendor files into a Market (no store involved)."""
    mapping = read_mapping(mapping_file) if mapping_file else folder_mapping([Path(path)])
    series = read_files([Path(path)], mapping)
    market = assemble(series, label=f"vendor files in {path}", imported_at=now_utc(), max_fill=max_fill,
                      lags=mapping.lags)
    return with_user_factors(market, read_user_factors([Path(path)]))
