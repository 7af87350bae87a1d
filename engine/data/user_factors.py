"""Bring-your-own factors: the strict reader of a long factor panel CSV.

Format (one row per date, sector and factor; header required, column order free, names case-insensitive)::

    date,sector,factor,value[,market_cap][,published]
    2008-09-30,XLK,earnings_yield,0.052,412000000000,2008-10-02

- ``date``: the date the value describes (ISO ``YYYY-MM-DD``; the one file-date parser,
  :func:`engine.dates.parse_file_date`).
- ``sector``: one of the 11 sector tickers (:data:`engine.universe.SECTORS`).
- ``factor``: a name (letters, digits, ``_ . -``, starting with a letter) that is not a built-in
  factor's. A higher value must mean a more attractive sector (negate a price/earnings ratio, say).
- ``value``: a finite number. ``market_cap`` (optional column; a cell may be empty): a positive finite
  number in any currency unit; where given, the factor is made market-cap neutral.
- ``published`` (optional column): the date the value became known; it may not precede ``date``.
  Without it a value dated t is usable at the close of t (the vendor delivered it by then).

Errors are one sentence naming the file, line and column: bad dates, non-finite or empty values,
unknown sectors, bad factor names, duplicate (date, sector, factor) rows (both lines named).
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.dates import parse_file_date
from engine.errors import DataError
from engine.universe import SECTORS

FILE_NAME = "factors.csv"            # the data-folder convention: <data folder>/factors.csv
REQUIRED = ("date", "sector", "factor", "value")
OPTIONAL = ("market_cap", "published")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
RESERVED_PREFIX = "composite"


@dataclass(frozen=True, eq=False)
class FactorPanel:
    """A validated long panel: ``rows`` has columns date, available, sector, factor, value, market_cap
    (NaN where not given), line (1-based, header = line 1); ``source`` the file, ``sha256`` its bytes."""

    rows: pd.DataFrame
    source: str
    sha256: str
    raw: bytes = field(default=b"", repr=False)     # the file's bytes (what a store import keeps)

    @property
    def factors(self) -> list[str]:
        return sorted(self.rows["factor"].unique())

    @property
    def has_caps(self) -> bool:
        return bool(self.rows["market_cap"].notna().any())

    def asof(self, t) -> "FactorPanel":
        """Only the rows available (published) by ``t``."""
        keep = self.rows["available"] <= pd.Timestamp(t)
        return self if keep.all() else FactorPanel(self.rows[keep], self.source, self.sha256, self.raw)


def _header(row: list[str], source: str) -> dict[str, int]:
    names = [c.strip().lower().lstrip("\ufeff") for c in row]
    cols: dict[str, int] = {}
    for i, n in enumerate(names):
        if n not in REQUIRED + OPTIONAL:
            raise DataError(f"column {i + 1} {row[i]!r} is not a factor-panel column; expected "
                            f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}", source, 1)
        if n in cols:
            raise DataError(f"column {n!r} appears twice in the header (columns {cols[n] + 1} and {i + 1})", source, 1)
        cols[n] = i
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise DataError(f"the header lacks column(s) {', '.join(missing)}; expected "
                        f"date,sector,factor,value[,market_cap][,published]", source, 1)
    return cols


def _number(text: str, column: str, source: str, line: int, allow_empty: bool = False) -> float:
    t = text.strip()
    if not t:
        if allow_empty:
            return math.nan
        raise DataError(f"column {column!r} is empty; expected a finite number (leave the row out instead)", source, line)
    try:
        v = float(t)
    except ValueError:
        raise DataError(f"column {column!r}: expected a finite number, got {t!r}", source, line) from None
    if not math.isfinite(v):
        raise DataError(f"column {column!r}: expected a finite number, got {t!r}", source, line)
    if column == "market_cap" and v <= 0:
        raise DataError(f"column 'market_cap': expected a positive number, got {t!r}", source, line)
    return v


class _Dates:
    """parse_file_date memoized per text (a panel repeats each date sectors x factors times)."""

    def __init__(self, source: str):
        self.source, self.seen = source, {}

    def __call__(self, text: str, column: str, line: int) -> pd.Timestamp:
        key = (text.strip(), column)
        if key not in self.seen:
            self.seen[key] = parse_file_date(key[0] or None, column, self.source, line).normalize()
        return self.seen[key]


def _row(cells: list[str], cols: dict[str, int], source: str, line: int, dates: _Dates, builtin) -> tuple:
    if len(cells) != len(cols):
        raise DataError(f"expected {len(cols)} fields as in the header, got {len(cells)}", source, line)
    get = lambda c: cells[cols[c]]  # noqa: E731
    d = dates(get("date"), "date", line)
    sector = get("sector").strip()
    if sector not in SECTORS:
        raise DataError(f"column 'sector': {sector!r} is not a sector ticker; expected one of "
                        f"{', '.join(SECTORS)}", source, line)
    name = get("factor").strip()
    if not NAME_RE.match(name):
        raise DataError(f"column 'factor': {name!r} is not a factor name; expected letters, digits, '_', '.' "
                        "or '-', starting with a letter (at most 64)", source, line)
    if name in builtin or name.lower().startswith(RESERVED_PREFIX):
        raise DataError(f"column 'factor': {name!r} is the name of a built-in factor or composite; "
                        "rename it", source, line)
    value = _number(get("value"), "value", source, line)
    cap = _number(get("market_cap"), "market_cap", source, line, allow_empty=True) if "market_cap" in cols else math.nan
    avail = d
    if "published" in cols and get("published").strip():
        avail = dates(get("published"), "published", line)
        if avail < d:
            raise DataError(f"column 'published': {avail.date()} is before the value's date {d.date()}", source, line)
    return d, avail, sector, name, value, cap, line


def parse_factor_panel(data: bytes, source: str) -> FactorPanel:
    """Parse and validate the bytes of a factor panel CSV (see the module docstring)."""
    from engine.factors.compute import FACTORS        # the built-in names a user factor may not take

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not a text (UTF-8) file: {exc.reason} at byte {exc.start}", source) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        head = next(reader)
    except StopIteration:
        raise DataError("the file is empty; expected a header date,sector,factor,value", source) from None
    except csv.Error as exc:
        raise DataError(f"not a CSV file ({exc})", source, 1) from None
    cols, dates, out, seen = _header(head, source), _Dates(source), [], {}
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            r = _row(cells, cols, source, line, dates, FACTORS)
            key = (r[0], r[2], r[3])
            if key in seen:
                raise DataError(f"duplicate row: {r[3]} for {r[2]} on {r[0].date()} is also on line {seen[key]}",
                                source, line)
            seen[key] = line
            out.append(r)
    except csv.Error as exc:
        raise DataError(f"not a CSV file ({exc})", source, reader.line_num) from None
    if not out:
        raise DataError("the file has a header but no rows", source)
    rows = pd.DataFrame(out, columns=["date", "available", "sector", "factor", "value", "market_cap", "line"])
    rows = rows.sort_values(["available", "date", "factor", "sector"], kind="mergesort").reset_index(drop=True)
    return FactorPanel(rows, source, hashlib.sha256(data).hexdigest(), bytes(data))


def read_factor_panel(path) -> FactorPanel:
    """Read and validate the factor panel CSV at ``path`` (DataError naming the file when unreadable)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the factor panel ({exc.strerror or exc})", str(p)) from None
    return parse_factor_panel(data, str(p))


def is_panel_file(path: Path) -> bool:
    """Whether ``path`` is a factor panel by the data-folder convention (a file named factors.csv)."""
    return Path(path).name.lower() == FILE_NAME

