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

import numpy as np
import pandas as pd

from engine.dates import parse_file_date
from engine.errors import DataError
from engine.universe import SECTORS

FILE_NAME = "factors.csv"            # the data-folder convention: <data folder>/factors.csv
REQUIRED = ("date", "sector", "factor", "value")
OPTIONAL = ("market_cap", "published")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
RESERVED_PREFIX = "composite"
COLUMNS = ("date", "available", "sector", "factor", "value", "market_cap", "line")
DTYPES = {"date": "datetime64[ns]", "available": "datetime64[ns]", "sector": object, "factor": object,
          "value": float, "market_cap": float, "line": np.int64}


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

    def summary(self, rule=None) -> dict | None:
        """source, sha256, rows, first/last date, last publication date (``available_last``), factors,
        sector count, whether caps are given (``has_caps``) and the cleaning settings used (``cleaning``:
        ``rule``, a :class:`engine.factors.rule.CleaningRule`, as a dict; ``cleaning_rule``: in words;
        None: the defaults); None when the panel has no rows."""
        from engine.factors.rule import CleaningRule

        r = self.rows
        if not len(r):
            return None
        rule = rule or CleaningRule()
        return {"source": self.source, "sha256": self.sha256, "rows": int(len(r)),
                "first": r["date"].min().date().isoformat(), "last": r["date"].max().date().isoformat(),
                "available_last": r["available"].max().date().isoformat(), "factors": self.factors,
                "sectors": int(r["sector"].nunique()), "has_caps": self.has_caps,
                "cleaning": rule.to_dict(), "cleaning_rule": rule.describe()}

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


def _cells(data: bytes, source: str) -> tuple[dict[str, int], list[list[str]], list[int]]:
    """The header's columns, the non-blank rows and their 1-based line numbers."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not a text (UTF-8) file: {exc.reason} at byte {exc.start}", source) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines = [], []
    try:
        head = next(reader, None)
        if head is None:
            raise DataError("the file is empty; expected a header date,sector,factor,value", source)
        cols = _header(head, source)
        for cells in reader:
            if cells and any(c.strip() for c in cells):
                rows.append(cells)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"not a CSV file ({exc})", source, reader.line_num) from None
    if not rows:
        raise DataError("the file has a header but no rows", source)
    return cols, rows, lines


def _slow(cols, rows, lines, source, builtin) -> list[tuple]:
    """Row by row, in file order: raises the first problem (the error path; also the reference)."""
    dates, out, seen = _Dates(source), [], {}
    for cells, line in zip(rows, lines):
        r = _row(cells, cols, source, line, dates, builtin)
        key = (r[0], r[2], r[3])
        if key in seen:
            raise DataError(f"duplicate row: {r[3]} for {r[2]} on {r[0].date()} is also on line {seen[key]}",
                            source, line)
        seen[key] = line
        out.append(r)
    return out


def _dates_fast(texts: pd.Series, column: str, source: str) -> pd.Series | None:
    parse, got = _Dates(source), {}
    for t in texts.unique():
        try:
            got[t] = parse(t, column, 0)
        except DataError:
            return None
    return texts.map(got)


NOT_PLAIN = (b'"', b"\n\n", b"\n\r\n", b", ", b" ,", b",\t", b"\t,", b"\n ", b" \n", b" \r", b"\n\t", b"\t\n", b"\t\r")


def _is_plain(body: bytes) -> bool:
    """No quotes, blank lines, lone carriage returns or padded fields (fast byte searches)."""
    return (not any(p in body for p in NOT_PLAIN) and body.count(b"\r") == body.count(b"\r\n")
            and not body.startswith((b" ", b"\t")) and not body.endswith((b" ", b"\t")))


def _plain_columns(data: bytes, cols: dict[str, int]) -> dict[str, pd.Series] | None:
    """The columns read by pandas' C parser when the file is plain (no quotes, blank lines or padded
    fields, so row i is line i + 2); None otherwise."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    body = body.rstrip(b"\r\n")
    if not _is_plain(body) or any(ln.count(b",") != len(cols) - 1 for ln in body.split(b"\n")):
        return None
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, header=0, names=list(cols),
                            usecols=range(len(cols)), engine="c", on_bad_lines="error")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    return {c: frame[c].astype(object) for c in cols}


def _fast(data: bytes, source, builtin) -> pd.DataFrame | None:
    """Vectorized validation; None when anything looks wrong (then :func:`_slow` names the first problem)."""
    try:
        first = data.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
        cols = _header(next(csv.reader([first])), source)
    except (UnicodeDecodeError, StopIteration, csv.Error, DataError):
        return None
    got = _plain_columns(data, {c: i for c, i in sorted(cols.items(), key=lambda kv: kv[1])})
    if got is None or not len(got["date"]):
        return None
    col = got.__getitem__
    n = len(got["date"])
    lines = np.arange(2, n + 2)
    d = _dates_fast(col("date"), "date", source)
    sector, factor = col("sector"), col("factor")
    if d is None or not sector.isin(list(SECTORS)).all():
        return None
    names = factor.unique()
    if any(not NAME_RE.match(n) or n in builtin or n.lower().startswith(RESERVED_PREFIX) for n in names):
        return None
    try:
        value = np.asarray(col("value").to_numpy(), dtype=float)
        capt = col("market_cap") if "market_cap" in cols else pd.Series([""] * n, dtype=object)
        cap = np.asarray(capt.where(capt != "", "nan").to_numpy(), dtype=float)
    except ValueError:
        return None
    if not np.isfinite(value).all() or ((capt != "").to_numpy() & ~(np.isfinite(cap) & (cap > 0))).any():
        return None
    avail = d
    if "published" in cols:
        pub = col("published")
        parsed = _dates_fast(pub.where(pub != "", "1970-01-01"), "published", source)
        if parsed is None:
            return None
        avail = parsed.where(pub != "", d)
        if (avail < d).any():
            return None
    out = pd.DataFrame({"date": d, "available": avail, "sector": sector, "factor": factor, "value": value,
                        "market_cap": cap, "line": np.asarray(lines, dtype=np.int64)})
    return None if out.duplicated(["date", "sector", "factor"]).any() else out


def parse_factor_panel(data: bytes, source: str) -> FactorPanel:
    """Parse and validate the bytes of a factor panel CSV (see the module docstring)."""
    from engine.factors.compute import FACTORS        # the built-in names a user factor may not take

    frame = _fast(data, source, FACTORS)
    if frame is None:
        cols, rows, lines = _cells(data, source)
        frame = pd.DataFrame(_slow(cols, rows, lines, source, FACTORS), columns=COLUMNS)
    frame = frame.astype(DTYPES)[list(COLUMNS)]
    frame = frame.sort_values(["available", "date", "factor", "sector"], kind="mergesort").reset_index(drop=True)
    return FactorPanel(frame, source, hashlib.sha256(data).hexdigest(), bytes(data))


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

