"""Reading a vendor CSV into a header, a frame and the file line of every row.

Fast path (plain files: no quotes, no blank lines, the same number of commas on every line):
pandas' C parser reads numbers directly, at the speed of ``pandas.read_csv``. Anything else goes
through the ``csv`` module row by row, which names the exact line of a short or long row, a field
over the csv module's limit, and skips blank lines while keeping the file's line numbers.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from engine.errors import DataError

MISSING_MARKERS = ["", ".", "null", "NaN", "nan", "N/A", "#N/A", "NA"]


def _plain(text, width: int) -> int | None:
    """Number of data rows when ``text`` (str or bytes) is a plain CSV of ``width`` columns, else None."""
    q, r, nl, comma = ('"', "\r", "\n", ",") if isinstance(text, str) else (b'"', b"\r", b"\n", b",")
    if q in text or r in text:
        return None
    body = text.rstrip(nl)
    if nl + nl in body or body.startswith(nl):
        return None
    n_lines = body.count(nl) + 1
    if body.count(comma) != (width - 1) * n_lines:
        return None
    return n_lines - 1


def _iso_shaped(data: bytes, rows: int) -> bool:
    """True when every data line of a plain file starts with ``dddd-dd-dd,`` (checked on the bytes)."""
    buf = np.frombuffer(data, np.uint8)
    starts = np.flatnonzero(buf == 10) + 1
    starts = starts[starts < len(buf)]
    if len(starts) != rows or not len(starts) or starts[-1] + 10 >= len(buf):
        return False
    digits = np.stack([buf[starts + k] for k in (0, 1, 2, 3, 5, 6, 8, 9)])
    return bool((buf[starts + 4] == 45).all() and (buf[starts + 7] == 45).all() and (buf[starts + 10] == 44).all()
                and ((digits >= 48) & (digits <= 57)).all())


def read_table(text: str, source: str, data: bytes | None = None):
    """``(header, header_line, frame, lines)``: header fields, its 1-based line, the data rows (first
    column as text, other columns float where the parser could, else text) and each row's line.
    ``data``: the file's bytes (``text`` decoded), handed to the C parser as they are when given."""
    first_nl = text.find("\n")
    first = text if first_nl < 0 else text[:first_nl]
    width = first.count(",") + 1
    rows = _plain(data if data is not None else text, width) if first.strip() else None
    if rows is not None:
        header = [c.strip() for c in first.split(",")]
        if rows == 0:
            return header, 1, None, np.zeros(0, dtype=np.int64)
        try:
            buf = io.BytesIO(data) if data is not None and not data.startswith(b"\xef\xbb\xbf") else io.StringIO(text)
            frame = pd.read_csv(buf, header=0, names=header, dtype={header[0]: object},
                                na_values=MISSING_MARKERS, keep_default_na=False)
        except (ValueError, pd.errors.ParserError):      # duplicate column names, odd rows: the careful path
            return _slow(text, source)
        if frame.iloc[:, 0].isna().any() or len(frame) != rows:
            return _slow(text, source)
        frame.attrs["iso_shape"] = data is not None and _iso_shaped(data, rows)
        return header, 1, frame, np.arange(2, rows + 2, dtype=np.int64)
    return _slow(text, source)


def _slow(text: str, source: str):
    reader = csv.reader(io.StringIO(text))
    numbered = []
    try:
        for r in reader:
            if any(c.strip() for c in r):
                numbered.append((reader.line_num, r))
    except csv.Error as exc:
        raise DataError(f"not a readable CSV row ({exc})", source, reader.line_num + 1) from None
    if not numbered:
        raise DataError("empty file (no header and no data)", source)
    header_line, header = numbered[0]
    header = [c.strip() for c in header]
    body = numbered[1:]
    for ln, r in body:
        if len(r) != len(header):
            raise DataError(f"expected {len(header)} columns, found {len(r)}", source, ln)
    if not body:
        return header, header_line, None, np.zeros(0, dtype=np.int64)
    lines = np.array([ln for ln, _ in body], dtype=np.int64)
    frame = pd.DataFrame([r for _, r in body], columns=header, dtype=str)
    return header, header_line, frame, lines
