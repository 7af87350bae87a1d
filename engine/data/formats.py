"""Vendor CSV formats: detection from the header, and parsing into raw series.

Understood formats (header row, exact names):

- ``yahoo_ohlcv``: ``Date,Open,High,Low,Close,Adj Close,Volume`` (Yahoo Finance download)
- ``yahoo_close``: ``Date,Close`` (Yahoo auto-adjusted close)
- ``fred``: ``observation_date,<ID>`` or legacy ``DATE,<ID>`` (empty or ``.`` = missing)
- ``cboe``: ``DATE,OPEN,HIGH,LOW,CLOSE`` with MM/DD/YYYY dates (Cboe ``VIX_History.csv``)
- ``date_value``: ``Date,Value`` (e.g. ICE MOVE); the series is named after the file
- ``mapped``: a date column followed by columns named in the user's mapping file
  (e.g. a Bloomberg export with a ``LF98OAS Index`` column mapped to ``hy_oas``)

Parsing keeps vendor line numbers so validation errors can name them.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.universe import VENDOR_ALIASES

YAHOO_OHLCV = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
YAHOO_CLOSE = ["Date", "Close"]
CBOE = ["DATE", "OPEN", "HIGH", "LOW", "CLOSE"]
DATE_VALUE = ["Date", "Value"]
FRED_DATE_HEADERS = ("observation_date", "DATE")
MISSING = {"", ".", "null", "NaN", "nan", "N/A", "#N/A", "NA"}

UNDERSTOOD = (
    "yahoo_ohlcv (Date,Open,High,Low,Close,Adj Close,Volume); "
    "yahoo_close (Date,Close); "
    "fred (observation_date,<ID> or DATE,<ID>); "
    "cboe (DATE,OPEN,HIGH,LOW,CLOSE with MM/DD/YYYY dates); "
    "date_value (Date,Value); "
    "mapped (a Date column plus columns named in the mapping file's [series] table)"
)

# field names per format, in column order after the date
FIELDS = {
    "yahoo_ohlcv": ("open", "high", "low", "close", "adj_close", "volume"),
    "yahoo_close": ("adj_close",),
    "cboe": ("open", "high", "low", "close"),
}
PRICE_FIELDS = {"open", "high", "low", "close", "adj_close"}


@dataclass
class RawSeries:
    """One series parsed from one file, before validation and alignment."""

    name: str
    format: str
    source: str
    dates: pd.DatetimeIndex
    fields: dict[str, np.ndarray]          # field -> float values (NaN = missing)
    lines: np.ndarray                      # 1-based file line of each row
    header_value_column: str = ""          # vendor id of the value column (fred/mapped)
    sha256: str = ""
    notes: list[str] = field(default_factory=list)


def canonical_name(vendor_id: str, mapping: dict[str, str] | None = None) -> str:
    """Map a vendor id or file stem to the canonical series name."""
    mapping = mapping or {}
    if vendor_id in mapping:
        return mapping[vendor_id]
    up = vendor_id.upper()
    if up in VENDOR_ALIASES:
        return VENDOR_ALIASES[up]
    return vendor_id.upper() if vendor_id.isalnum() and len(vendor_id) <= 5 else vendor_id.lower()


def detect_format(header: list[str], mapping: dict[str, str] | None = None) -> str:
    """Name the format of a CSV from its header row, or raise DataError listing what is understood."""
    h = [c.strip() for c in header]
    if h == YAHOO_OHLCV:
        return "yahoo_ohlcv"
    if h == YAHOO_CLOSE:
        return "yahoo_close"
    if h == CBOE:
        return "cboe"
    if h == DATE_VALUE:
        return "date_value"
    mapping = mapping or {}
    if len(h) >= 2 and h[0].lower() in ("date", "observation_date") and all(c in mapping for c in h[1:]):
        return "mapped"
    if len(h) == 2 and h[0] in FRED_DATE_HEADERS and h[1] and h[1].replace("_", "").isalnum():
        return "fred"
    raise DataError(f"unknown format (header {','.join(h)!r}); understood formats: {UNDERSTOOD}", line=1)


def _parse_dates(text: pd.Series, fmt: str, file: str, lines: np.ndarray) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        expected = "YYYY-MM-DD" if fmt == "%Y-%m-%d" else "MM/DD/YYYY"
        raise DataError(f"unparseable date {text.iloc[i]!r} (expected {expected})", file, int(lines[i]))
    return pd.DatetimeIndex(parsed)


def _parse_numbers(text: pd.Series, column: str, file: str, lines: np.ndarray) -> np.ndarray:
    s = text.str.strip()
    missing = s.isin(MISSING).to_numpy()
    values = pd.to_numeric(s.where(~missing), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~missing
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"non-numeric value {text.iloc[i]!r} in column {column!r}", file, int(lines[i]))
    return values


def parse_csv(data: bytes, source: str, mapping: dict[str, str] | None = None) -> list[RawSeries]:
    """Parse one vendor CSV (its bytes) into raw series. Raises DataError naming file and line."""
    stem = Path(source).stem
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    rows = list(csv.reader(io.StringIO(text)))
    # drop blank lines but keep numbering: line k of the file is rows[k-1]
    numbered = [(k + 1, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise DataError("empty file (no header and no data)", source)
    header_line, header = numbered[0]
    try:
        fmt = detect_format(header, mapping)
    except DataError as exc:
        raise DataError(exc.problem, source, header_line) from None
    body = numbered[1:]
    if not body:
        raise DataError("empty file (a header but no data rows)", source)
    width = len(header)
    for ln, r in body:
        if len(r) != width:
            raise DataError(f"expected {width} columns, found {len(r)}", source, ln)
    lines = np.array([ln for ln, _ in body], dtype=np.int64)
    frame = pd.DataFrame([r for _, r in body], columns=[c.strip() for c in header], dtype=str)
    date_col = frame.columns[0]
    date_fmt = "%m/%d/%Y" if fmt == "cboe" else "%Y-%m-%d"
    raw_dates = frame[date_col].str.strip()
    if fmt in ("date_value", "mapped") and raw_dates.str.contains("/").any():
        date_fmt = "%m/%d/%Y"
    dates = _parse_dates(raw_dates, date_fmt, source, lines)

    def numbers(col: str) -> np.ndarray:
        return _parse_numbers(frame[col], col, source, lines)

    if fmt in FIELDS:
        name = canonical_name(stem, mapping)
        cols = list(frame.columns[1:])
        fields = {f: numbers(c) for f, c in zip(FIELDS[fmt], cols)}
        return [RawSeries(name, fmt, source, dates, fields, lines)]
    if fmt == "date_value":
        return [RawSeries(canonical_name(stem, mapping), fmt, source, dates, {"value": numbers("Value")}, lines)]
    if fmt == "fred":
        vid = frame.columns[1]
        return [RawSeries(canonical_name(vid, mapping), fmt, source, dates, {"value": numbers(vid)}, lines,
                          header_value_column=vid)]
    # mapped: one series per mapped column
    return [RawSeries(canonical_name(c, mapping), fmt, source, dates, {"value": numbers(c)}, lines,
                      header_value_column=c) for c in frame.columns[1:]]
