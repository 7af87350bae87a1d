"""Vendor CSV formats: detection from the header, and parsing into raw series.

Understood formats (header row, exact names):

- ``yahoo_ohlcv``: ``Date,Open,High,Low,Close,Adj Close,Volume`` (Yahoo Finance download)
- ``yahoo_close``: ``Date,Close`` (Yahoo auto-adjusted close)
- ``alphavantage``: ``timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient``
  (TIME_SERIES_DAILY_ADJUSTED, newest first; prices from ``adjusted_close``, total return)
- ``stooq``: ``Date,Open,High,Low,Close,Volume`` (Stooq CSV download) and the bulk ``.txt`` layout
  ``<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>`` (``YYYYMMDD``); prices are
  split-adjusted with incomplete dividend adjustment: flagged as price-adjusted, not total return
- ``investing``: ``"Date","Price","Open","High","Low","Vol.","Change %"`` (Investing.com, MM/DD/YYYY,
  newest first, volume with K/M/B suffixes); split- but not dividend-adjusted, flagged so
- ``french``: Ken French industry portfolios, daily (``YYYYMMDD``, returns in percent, -99.99 missing);
  the average value-weighted daily section is read, as return series ``ff<N>_<industry>``
- ``fred``: ``observation_date,<ID>`` or legacy ``DATE,<ID>`` (empty or ``.`` = missing)
- ``cboe``: ``DATE,OPEN,HIGH,LOW,CLOSE`` with MM/DD/YYYY dates (Cboe ``VIX_History.csv``)
- ``date_value``: ``Date,Value`` (e.g. ICE MOVE); the series is named after the file
- ``mapped``: a date column followed by columns named in the user's mapping file
  (e.g. a Bloomberg export with a ``LF98OAS Index`` column mapped to ``hy_oas``)

Dates are ISO ``YYYY-MM-DD`` unless the format documents another layout; ``date_value`` and
``mapped`` files in another layout need ``date_format`` in the mapping file (day/month order is never
guessed). Numbers must be finite (``inf``, ``1e400`` are refused with file, line and value); the
vendor's missing markers (empty, ``.``) are missing. Parsing keeps file line numbers for every error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.universe import VENDOR_ALIASES

YAHOO_OHLCV = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
YAHOO_CLOSE = ["Date", "Close"]
ALPHAVANTAGE = ["timestamp", "open", "high", "low", "close", "adjusted_close", "volume", "dividend_amount",
                "split_coefficient"]
STOOQ = ["Date", "Open", "High", "Low", "Close", "Volume"]
STOOQ_TXT = ["<TICKER>", "<PER>", "<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>", "<VOL>", "<OPENINT>"]
INVESTING = ["Date", "Price", "Open", "High", "Low", "Vol.", "Change %"]
CBOE = ["DATE", "OPEN", "HIGH", "LOW", "CLOSE"]
DATE_VALUE = ["Date", "Value"]
FRED_DATE_HEADERS = ("observation_date", "DATE")
MISSING = {"", ".", "null", "NaN", "nan", "N/A", "#N/A", "NA"}
ISO = "%Y-%m-%d"

UNDERSTOOD = (
    "yahoo_ohlcv (Date,Open,High,Low,Close,Adj Close,Volume); "
    "yahoo_close (Date,Close); "
    "alphavantage (timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient); "
    "stooq (Date,Open,High,Low,Close,Volume or <TICKER>,<PER>,<DATE>,...); "
    "investing (Date,Price,Open,High,Low,Vol.,Change %); "
    "french (Ken French daily industry portfolios); "
    "fred (observation_date,<ID> or DATE,<ID>); "
    "cboe (DATE,OPEN,HIGH,LOW,CLOSE with MM/DD/YYYY dates); "
    "date_value (Date,Value); "
    "mapped (a Date column plus columns named in the mapping file's [series] table)"
)

# field names per format, in column order after the date (None: column not kept)
FIELDS = {
    "yahoo_ohlcv": ("open", "high", "low", "close", "adj_close", "volume"),
    "yahoo_close": ("adj_close",),
    "cboe": ("open", "high", "low", "close"),
    "alphavantage": ("open", "high", "low", "close", "adj_close", "volume", None, None),
    "stooq": ("open", "high", "low", "close", "volume"),
}
DATE_FORMATS = {"cboe": "%m/%d/%Y", "investing": "%m/%d/%Y", "stooq_txt": "%Y%m%d", "french": "%Y%m%d"}
NEWEST_FIRST = ("alphavantage", "investing")
PRICE_FIELDS = {"open", "high", "low", "close", "adj_close"}
TOTAL_RETURN_FORMATS = ("yahoo_ohlcv", "yahoo_close", "alphavantage", "demo")
PRICE_ONLY_FORMATS = ("stooq", "investing")      # prices used as given: not dividend-adjusted


def adjustment(fmt: str) -> str:
    """What the prices of a format are: 'total return', 'price only (not dividend-adjusted)' or ''."""
    if fmt in TOTAL_RETURN_FORMATS:
        return "total return"
    if fmt in PRICE_ONLY_FORMATS:
        return "price only (not dividend-adjusted)"
    return ""


@dataclass
class Mapping:
    """A mapping file: vendor names -> canonical names, a vendor date format, availability lags."""

    series: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    lags: dict[str, int] = field(default_factory=dict)


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


def as_mapping(mapping) -> Mapping:
    """A Mapping from None, a plain ``{vendor: canonical}`` dict or a Mapping."""
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    return Mapping(series=dict(mapping))


def canonical_name(vendor_id: str, mapping=None) -> str:
    """Map a vendor id or file stem to the canonical series name."""
    series = as_mapping(mapping).series
    if vendor_id in series:
        return series[vendor_id]
    up = vendor_id.upper()
    if up in VENDOR_ALIASES:
        return VENDOR_ALIASES[up]
    return vendor_id.upper() if vendor_id.isalnum() and len(vendor_id) <= 5 else vendor_id.lower()


def detect_format(header: list[str], mapping=None) -> str:
    """Name the format of a CSV from its header row, or raise DataError listing what is understood."""
    h = [c.strip() for c in header]
    exact = {tuple(YAHOO_OHLCV): "yahoo_ohlcv", tuple(YAHOO_CLOSE): "yahoo_close", tuple(CBOE): "cboe",
             tuple(DATE_VALUE): "date_value", tuple(ALPHAVANTAGE): "alphavantage", tuple(STOOQ): "stooq",
             tuple(STOOQ_TXT): "stooq_txt", tuple(INVESTING): "investing"}
    if tuple(h) in exact:
        return exact[tuple(h)]
    series = as_mapping(mapping).series
    if len(h) >= 2 and h[0].lower() in ("date", "observation_date") and all(c in series for c in h[1:]):
        return "mapped"
    if len(h) == 2 and h[0] in FRED_DATE_HEADERS and h[1] and h[1].replace("_", "").isalnum():
        return "fred"
    if len(h) >= 2 and h[0] == "" and all(h[1:]):
        return "french"
    raise DataError(f"unknown format (header {_short(','.join(h))!r}); understood formats: {UNDERSTOOD}", line=1)


def _short(text: str, n: int = 60) -> str:
    text = str(text)
    return text if len(text) <= n else text[:n] + f"... ({len(text):,} characters)"


def parse_dates(text: pd.Series, fmt: str, file: str, lines: np.ndarray,
                iso_shape: bool = False) -> pd.DatetimeIndex:
    """Dates in exactly ``fmt``; DataError naming the first line that is not (ISO form suggested).
    ``iso_shape``: every value is known to be 10 characters ``dddd-dd-dd`` (checked on the raw bytes)."""
    if fmt == ISO and iso_shape:
        fast = _iso_column(text)
        if fast is not None:
            return fast
    parsed, bad = _coerce_dates(text, fmt)
    if bad.any():                                   # surrounding spaces are allowed: strip only when needed
        text = text.astype(str).str.strip()
        parsed, bad = _coerce_dates(text, fmt)
    if bad.any():
        from engine.dates import iso_hint

        i = int(np.argmax(bad))
        value = str(text.iloc[i])
        if fmt == ISO:
            hint = iso_hint(value.strip())
            extra = ""
            if "ambiguous" in hint or "not an ISO" in hint:
                extra = f": {hint.split('; ', 1)[-1]}, or set date_format in the mapping file"
            raise DataError(f"unparseable date {_short(value)!r} (expected YYYY-MM-DD){extra}", file, int(lines[i]))
        raise DataError(f"unparseable date {_short(value)!r} (expected {fmt.replace('%', '')})", file, int(lines[i]))
    for mask, why in ((parsed > HIGH, "is in the future (today is {today})"),
                      (parsed < LOW, "is before 1677-09-22, outside the dates this product handles")):
        m = mask.to_numpy()
        if m.any():
            from engine.dates import today

            i = int(np.argmax(m))
            raise DataError(f"date {str(text.iloc[i]).strip()} " + why.format(today=today().date()), file,
                            int(lines[i]))
    return pd.DatetimeIndex(parsed).as_unit("ns")


LOW, HIGH = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")


def _coerce_dates(text: pd.Series, fmt: str) -> tuple[pd.Series, np.ndarray]:
    """Parsed dates and a mask of values that are not dates in ``fmt`` within pandas' ns range."""
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, OverflowError, NotImplementedError):     # e.g. year 0: parse one by one
        from datetime import datetime

        def one(v):
            try:
                return pd.Timestamp(datetime.strptime(str(v), fmt))
            except (ValueError, OverflowError):
                return pd.NaT
        parsed = pd.Series([one(v) for v in text], index=text.index, dtype="datetime64[us]")
    return parsed, parsed.isna().to_numpy()


def _iso_column(text: pd.Series) -> pd.DatetimeIndex | None:
    """A column of ``dddd-dd-dd`` strings parsed by numpy's C parser (4x pandas' strptime); None when
    numpy refuses one or a date is outside pandas' range (the careful path then names its line)."""
    a = text.to_numpy()
    if a.dtype != object:
        return None
    try:
        d = a.astype("datetime64[D]")
    except ValueError:
        return None
    if len(d) and (d.min() < np.datetime64("1677-09-22") or d.max() > np.datetime64("2262-04-11")):
        return None                                  # outside pandas' range: the careful path refuses it
    return pd.DatetimeIndex(d.astype("datetime64[ns]"))


def parse_numbers(values, column: str, file: str, lines: np.ndarray) -> np.ndarray:
    """Float values of a column (text or already numeric); missing markers -> NaN; DataError naming
    the line of a non-numeric or non-finite value."""
    if isinstance(values, pd.Series) and values.dtype.kind in "fi":
        out = values.to_numpy(dtype=float)
        text = None
    else:
        s = pd.Series(values).astype(str).str.strip()
        missing = s.isin(MISSING).to_numpy()
        out = pd.to_numeric(s.where(~missing), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(out) & ~missing
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"non-numeric value {_short(s.iloc[i])!r} in column {column!r}", file, int(lines[i]))
        text = s
    inf = np.isinf(out)
    if inf.any():
        i = int(np.argmax(inf))
        shown = text.iloc[i] if text is not None else f"{out[i]}"
        raise DataError(f"non-finite value {_short(shown)!r} in column {column!r} (expected a finite number)",
                        file, int(lines[i]))
    return out


def newest_first_to_oldest(s: RawSeries) -> RawSeries:
    """Reverse a newest-first file whose dates strictly decrease (anything else is left for validation)."""
    d = s.dates.asi8
    if len(d) > 1 and (np.diff(d) < 0).all():
        s.dates = s.dates[::-1]
        s.fields = {k: v[::-1].copy() for k, v in s.fields.items()}
        s.lines = s.lines[::-1].copy()
    return s


def parse_csv(data: bytes, source: str, mapping=None) -> list[RawSeries]:
    """Parse one vendor file (its bytes) into raw series. Raises DataError naming file and line."""
    from engine.data.table import read_table
    from engine.data.vendors import parse_french, parse_investing, parse_stooq_txt

    mapping = as_mapping(mapping)
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    if not text.strip():
        raise DataError("empty file (no header and no data)", source)
    if _looks_french(text):
        return parse_french(text, source)
    header, header_line, frame, lines = read_table(text, source, data)
    try:
        fmt = detect_format(header, mapping)
    except DataError as exc:
        raise DataError(exc.problem, source, header_line) from None
    if fmt == "french":
        return parse_french(text, source)
    if frame is None or not len(frame):
        raise DataError("empty file (a header but no data rows)", source)
    if fmt == "stooq_txt":
        return parse_stooq_txt(frame, lines, source, mapping)
    if fmt == "investing":
        return parse_investing(frame, lines, source, mapping)
    date_fmt = DATE_FORMATS.get(fmt, ISO)
    if fmt in ("date_value", "mapped") and mapping.date_format:
        date_fmt = mapping.date_format
    dates = parse_dates(frame.iloc[:, 0], date_fmt, source, lines, iso_shape=frame.attrs.get("iso_shape", False))
    cols = list(frame.columns[1:])

    def numbers(col: str) -> np.ndarray:
        try:
            return parse_numbers(frame[col], col, source, lines)
        except DataError as exc:                    # show the vendor's own text of a non-finite value
            if "non-finite" not in exc.problem or exc.line is None:
                raise
            raw = text.splitlines()[exc.line - 1].split(",")[list(frame.columns).index(col)].strip()
            raise DataError(f"non-finite value {_short(raw)!r} in column {col!r} (expected a finite number)",
                            source, exc.line) from None

    if fmt in FIELDS:
        name = canonical_name(stem_ticker(Path(source).stem), mapping)
        fields = {f: numbers(c) for f, c in zip(FIELDS[fmt], cols) if f}
        s = RawSeries(name, fmt, source, dates, fields, lines)
        return [newest_first_to_oldest(s) if fmt in NEWEST_FIRST else s]
    if fmt == "date_value":
        return [RawSeries(canonical_name(Path(source).stem, mapping), fmt, source, dates,
                          {"value": numbers(cols[0])}, lines)]
    if fmt == "fred":
        vid = cols[0]
        return [RawSeries(canonical_name(vid, mapping), fmt, source, dates, {"value": numbers(vid)}, lines,
                          header_value_column=vid)]
    # mapped: one series per mapped column
    return [RawSeries(canonical_name(c, mapping), fmt, source, dates, {"value": numbers(c)}, lines,
                      header_value_column=c) for c in cols]


def stem_ticker(stem: str) -> str:
    """A ticker from a vendor file name: ``xlk.us`` (Stooq) -> ``XLK``, ``XLK Historical Data`` -> ``XLK``."""
    s = stem.strip()
    for suffix in (" Historical Data", " historical data"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
    if s.lower().endswith(".us"):
        s = s[:-3]
    return s.upper() if s.isalnum() and len(s) <= 5 else s


def _looks_french(text: str) -> bool:
    head = text[:4000]
    return "Average Value Weighted Returns" in head or "CMPT_IND_RETS" in head
