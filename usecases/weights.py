"""Reading a weights file (``optimize --current``, ``export --current``): strict, one sentence per error.

Layout: ``ticker,weight`` rows, an optional header (``ticker,weight``). A weight is a fraction
(``0.25``) or a percent string (``25%``, ``0.5%`` is half a percent); a file whose plain numbers sum
to about 100 is read as percent. The weights must sum to 1 within 0.1%, unless a ``CASH`` row holds
the rest (it is then counted like any other row). Duplicate tickers, unknown tickers, negative or
non-finite weights and binary files are errors naming the line. A holdings file (header ``ticker,
shares[,price]``) is recognised and refused: it belongs to ``rotation trades --holdings``.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd

from engine.errors import DataError
from engine.universe import SECTORS

TICKERS = list(SECTORS)
TOLERANCE = 0.001
HOLDINGS_HEADERS = ({"ticker", "shares"}, {"ticker", "shares", "price"}, {"symbol", "shares"},
                    {"symbol", "shares", "price"})


def _text(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read weights file ({exc.strerror or exc})", str(path)) from None
    if b"\x00" in data:
        raise DataError("a binary file, not a CSV of ticker,weight rows", str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not a text (UTF-8) file: {exc.reason} at byte {exc.start}", str(path)) from None


def _weight(cell: str, path: Path, line: int) -> tuple[float, bool]:
    c = cell.strip()
    pct = c.endswith("%")
    try:
        w = float(c[:-1].strip() if pct else c)
    except ValueError:
        raise DataError(f"weight {c[:40]!r} is not a number (expected 0.25 or 25%)", str(path), line) from None
    if not math.isfinite(w):
        raise DataError(f"weight {c[:40]!r} is not a finite number", str(path), line)
    if w < 0:
        raise DataError(f"weight {w:g} is negative (long only)", str(path), line)
    return (w / 100.0 if pct else w), pct


def _rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    rows = []
    try:
        reader = csv.reader(io.StringIO(text))
        for r in reader:
            if any(c.strip() for c in r):
                rows.append((reader.line_num, r))
    except csv.Error as exc:
        raise DataError(f"not a readable CSV row ({exc})", str(path), reader.line_num + 1) from None
    if not rows:
        raise DataError("empty weights file; expected ticker,weight rows", str(path))
    header = {c.strip().lower() for c in rows[0][1] if c.strip()}
    if header in HOLDINGS_HEADERS:
        raise DataError("this is a holdings file (ticker, shares[, price]), not weights; pass it to "
                        "`rotation trades --holdings`, or give --current a ticker,weight file", str(path), rows[0][0])
    if rows[0][1][0].strip().lower() in ("ticker", "sector", "symbol"):
        rows = rows[1:]
    return rows


def read_weights_csv(path: Path) -> pd.Series:
    """Current weights by sector ticker (CASH dropped) from a weights file (see module docstring)."""
    path = Path(path)
    out: dict[str, float] = {}
    seen: dict[str, int] = {}
    any_pct = False
    for line, r in _rows(_text(path), path):
        if len(r) != 2:
            raise DataError(f"expected two columns, ticker,weight; found {len(r)}", str(path), line)
        tk = r[0].strip().upper()
        if tk not in SECTORS and tk != "CASH":
            raise DataError(f"unknown ticker {tk[:20]!r}; expected one of {', '.join(SECTORS)} or CASH",
                            str(path), line)
        if tk in seen:
            raise DataError(f"ticker {tk} appears twice (also on line {seen[tk]})", str(path), line)
        seen[tk] = line
        out[tk], pct = _weight(r[1], path, line)
        any_pct |= pct
    w = pd.Series(out, dtype=float)
    if not any_pct and abs(w.sum() - 100.0) <= 100.0 * TOLERANCE:       # plain numbers given in percent
        w = w / 100.0
    total = float(w.sum())
    if abs(total - 1.0) > TOLERANCE:
        hint = "add a CASH row for the rest" if total < 1 else "they must not exceed 100%"
        raise DataError(f"weights sum to {total:.2%}; expected 100% within {TOLERANCE:.1%} ({hint})", str(path))
    return w.drop("CASH", errors="ignore").reindex(TICKERS).fillna(0.0)
