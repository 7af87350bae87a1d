"""Vendor layouts that need more than a header match: Ken French, Stooq bulk .txt, Investing.com."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.formats import (DATE_FORMATS, Mapping, RawSeries, canonical_name, newest_first_to_oldest,
                                 parse_dates, parse_numbers, stem_ticker)
from engine.errors import DataError

FRENCH_MISSING = (-99.99, -999.0)
FRENCH_SECTION = "Average Value Weighted Returns -- Daily"
_SUFFIX = {"K": 1e3, "M": 1e6, "B": 1e9}


def _french_header(lines: list[str], start: int) -> int | None:
    """Index of the first header row (first field empty) at or after ``start``."""
    for i in range(start, len(lines)):
        fields = [c.strip() for c in lines[i].split(",")]
        if len(fields) > 1 and fields[0] == "" and all(fields[1:]):
            return i
    return None


def parse_french(text: str, source: str) -> list[RawSeries]:
    """Ken French daily industry portfolios: the value-weighted daily section as return series.

    Returns are in percent in the file and stored as fractions; -99.99 (and -999) are missing. A file
    with titled sections must have the ``Average Value Weighted Returns -- Daily`` section; a file
    without titles (one section) is read as that section. Series are named ``ff<N>_<industry>``.
    """
    lines = text.splitlines()
    start = 0
    if "Average " in text and "Weighted Returns" in text:
        titled = [i for i, ln in enumerate(lines) if FRENCH_SECTION.lower() in ln.lower()]
        if not titled:
            raise DataError(f"Ken French file without a '{FRENCH_SECTION}' section", source)
        start = titled[0] + 1
    h = _french_header(lines, start)
    if h is None:
        raise DataError("Ken French file: no header row (',Industry1,Industry2,...') found", source)
    names = [c.strip() for c in lines[h].split(",")[1:]]
    rows, nums = [], []
    for i in range(h + 1, len(lines)):
        fields = [c.strip() for c in lines[i].split(",")]
        if not fields[0] or not fields[0].isdigit():
            break                                   # blank line or the next section's title
        if len(fields) != len(names) + 1:
            raise DataError(f"expected {len(names) + 1} columns, found {len(fields)}", source, i + 1)
        rows.append(fields)
        nums.append(i + 1)
    if not rows:
        raise DataError("Ken French file: a header but no data rows", source, h + 1)
    line_no = np.array(nums, dtype=np.int64)
    frame = pd.DataFrame(rows)
    dates = parse_dates(frame[0], DATE_FORMATS["french"], source, line_no)
    out = []
    for k, name in enumerate(names, start=1):
        v = parse_numbers(frame[k], name, source, line_no)
        v = np.where(np.isin(v, FRENCH_MISSING), np.nan, v) / 100.0
        out.append(RawSeries(f"ff{len(names)}_{re.sub(r'[^0-9a-z]+', '_', name.lower())}", "french", source,
                             dates, {"return": v}, line_no, header_value_column=name))
    return out


def parse_stooq_txt(frame: pd.DataFrame, lines: np.ndarray, source: str, mapping: Mapping) -> list[RawSeries]:
    """Stooq bulk ``.txt``: one ticker per file (``XLK.US`` -> ``XLK``), daily rows, ``YYYYMMDD`` dates."""
    tickers = frame["<TICKER>"].astype(str).str.strip().unique()
    if len(tickers) != 1:
        raise DataError(f"expected one ticker per Stooq file, found {', '.join(map(str, tickers[:5]))}", source)
    per = frame["<PER>"].astype(str).str.strip()
    if (per != "D").any():
        i = int(np.argmax((per != "D").to_numpy()))
        raise DataError(f"expected daily rows (<PER> = D), found {per.iloc[i]!r}", source, int(lines[i]))
    dates = parse_dates(frame["<DATE>"].astype(str).str.strip(), DATE_FORMATS["stooq_txt"], source, lines)
    fields = {f: parse_numbers(frame[c], c, source, lines)
              for f, c in (("open", "<OPEN>"), ("high", "<HIGH>"), ("low", "<LOW>"), ("close", "<CLOSE>"),
                           ("volume", "<VOL>"))}
    name = canonical_name(stem_ticker(str(tickers[0])), mapping)
    return [RawSeries(name, "stooq", source, dates, fields, lines)]


def _volume(text: pd.Series, source: str, lines: np.ndarray) -> np.ndarray:
    s = text.astype(str).str.strip().str.replace(",", "", regex=False)
    mult = s.str[-1:].map(_SUFFIX).fillna(1.0).to_numpy()
    base = s.where(~s.str[-1:].isin(list(_SUFFIX)), s.str[:-1]).where(s != "-", "")
    return parse_numbers(base, "Vol.", source, lines) * mult


def parse_investing(frame: pd.DataFrame, lines: np.ndarray, source: str, mapping: Mapping) -> list[RawSeries]:
    """Investing.com export: MM/DD/YYYY, newest first, thousands separators, K/M/B volumes; price only."""
    dates = parse_dates(frame["Date"].astype(str).str.strip(), DATE_FORMATS["investing"], source, lines)

    def price(col: str) -> np.ndarray:
        return parse_numbers(frame[col].astype(str).str.replace(",", "", regex=False), col, source, lines)

    fields = {"open": price("Open"), "high": price("High"), "low": price("Low"), "close": price("Price"),
              "volume": _volume(frame["Vol."], source, lines)}
    name = canonical_name(stem_ticker(Path(source).stem), mapping)
    return [newest_first_to_oldest(RawSeries(name, "investing", source, dates, fields, lines))]
