"""Digest of the canonical cell content of a workbook.

The Audit sheet of every exported workbook holds, in the cell named ``AuditContentDigest``,
the SHA-256 of the canonical content of every other sheet. It is computed on the in-memory
openpyxl workbook just before saving and must equal the digest of the saved file loaded back,
so values are canonicalized to what survives an openpyxl round trip:

- numbers (int or float) -> ``'%.16g' % v``, the text openpyxl writes (NaN/inf: empty);
- dates and datetimes -> ISO datetime to the millisecond (a date is midnight);
- times -> ISO time to the millisecond; timedeltas -> seconds to the millisecond;
- booleans, strings, errors as they are; formulas by their text (``=SUM(A1:A3)``);
- a number with a date/time format is read as the date/time openpyxl would read back;
- empty cells (value None) are skipped, whatever their style.

Each non-empty cell contributes one JSON line ``[sheet, coordinate, type, value, number_format]``;
sheets in workbook order, cells by row then column. Sheet names and the sheet order are part of
the digest, so renaming, adding, removing or reordering a sheet changes it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterable, Iterator

from openpyxl import Workbook, load_workbook
from openpyxl.styles.numbers import is_date_format, is_timedelta_format
from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import from_excel, to_excel

from engine.errors import DataError

AUDIT_NAME = "AuditContentDigest"


def _ms(dt: datetime) -> datetime:
    """Round to the millisecond (Excel serials do not keep microseconds exactly)."""
    us = int(round(dt.microsecond / 1000.0)) * 1000
    if us >= 1_000_000:
        return dt.replace(microsecond=0) + timedelta(seconds=1)
    return dt.replace(microsecond=us)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))   # built once: the C fast path
_is_date_format = functools.lru_cache(maxsize=512)(is_date_format)
_is_timedelta_format = functools.lru_cache(maxsize=512)(is_timedelta_format)


def _as_read_back(v: datetime, epoch) -> datetime:
    """The datetime openpyxl reads back after writing ``v``: a serial number printed with 16 significant
    digits (so 1.0005 s can come back as 1.001 s). Mirroring the round trip keeps the in-memory digest
    equal to the saved file's."""
    if epoch is None:
        return v
    try:
        back = from_excel(float("%.16g" % to_excel(v, epoch)), epoch)
    except (ValueError, OverflowError, TypeError):
        return v
    return back if isinstance(back, datetime) else v


def _canonical(cell, epoch=None) -> tuple[str, object] | None:
    v = cell.value
    if v is None:
        return None
    if (isinstance(v, (int, float)) and not isinstance(v, bool) and epoch is not None
            and _is_date_format(cell.number_format or "General")):
        # openpyxl reads a number with a date/time format back as a datetime/time/timedelta
        try:
            v = from_excel(v, epoch, timedelta=_is_timedelta_format(cell.number_format))
        except (ValueError, OverflowError):
            pass
    if getattr(cell, "data_type", None) == "e":
        return "e", str(v)
    if isinstance(v, bool):
        return "b", v
    if isinstance(v, (int, float)) or type(v).__module__ == "numpy":
        text = "%.16g" % (float(v) + 0.0)  # what openpyxl writes and reads back; -0 reads as 0
        if not math.isfinite(float(text)):  # NaN/inf (or overflow) is read back as empty
            return None
        return "n", text
    if isinstance(v, datetime):
        return "d", _ms(_as_read_back(v.replace(tzinfo=None), epoch)).isoformat(timespec="milliseconds")
    if isinstance(v, date):
        return "d", datetime(v.year, v.month, v.day).isoformat(timespec="milliseconds")
    if isinstance(v, time):
        base = _ms(datetime.combine(date(1900, 1, 1), v.replace(tzinfo=None)))
        return "t", base.time().isoformat(timespec="milliseconds")
    if isinstance(v, timedelta):
        return "t", f"{round(v.total_seconds(), 3):.3f}s"
    if isinstance(v, str):
        if getattr(cell, "data_type", None) == "f" or (v.startswith("=") and len(v) > 1):
            return "f", v
        return "s", v
    text = getattr(v, "text", None)  # ArrayFormula / DataTableFormula
    if text is not None:
        return "f", str(text)
    return "s", str(v)


def _sorted_cells(ws) -> Iterator:
    cells = getattr(ws, "_cells", None)
    if cells is not None:
        for key in sorted(cells):
            yield cells[key]
    else:  # read-only worksheets stream rows in the same row-major order
        for row in ws.iter_rows():
            for cell in row:
                if getattr(cell, "value", None) is not None:
                    yield cell


def iter_canonical(wb: Workbook, exclude: Iterable[str] = ("Audit",)) -> Iterator[list]:
    """Yield ``[sheet, coordinate, type, value, number_format]`` for every non-empty cell of every
    worksheet not in ``exclude`` (chart sheets yield only their name)."""
    skip = set(exclude)
    for ws in wb.worksheets + list(getattr(wb, "chartsheets", [])):
        if ws.title in skip:
            continue
        yield [ws.title, "", "sheet", ws.sheet_state, ""]
        if not hasattr(ws, "iter_rows"):       # chart sheets have no cells
            continue
        for cell in _sorted_cells(ws):
            canon = _canonical(cell, wb.epoch)
            if canon is None:
                continue
            coord = f"{get_column_letter(cell.column)}{cell.row}"
            yield [ws.title, coord, canon[0], canon[1], cell.number_format or "General"]


def _load(wb_or_path) -> Workbook:
    if isinstance(wb_or_path, Workbook):
        return wb_or_path
    path = Path(wb_or_path)
    if not path.is_file():
        raise DataError("workbook not found", file=str(path))
    try:
        return load_workbook(path)
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise DataError(f"cannot be read as an .xlsx workbook ({exc})", file=str(path)) from exc


def content_digest(wb_or_path, exclude: Iterable[str] = ("Audit",)) -> str:
    """SHA-256 (hex, 64 chars) of the canonical content of every sheet except ``exclude``.

    ``wb_or_path`` is an openpyxl Workbook (in memory, e.g. just before saving) or a path to
    an .xlsx file (loaded with openpyxl). Both give the same digest for the same content.
    Raises DataError if the path is missing or not a workbook.
    """
    wb = _load(wb_or_path)
    h = hashlib.sha256()
    for item in iter_canonical(wb, exclude):
        h.update(_ENCODER.encode(item).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def audit_cell(wb: Workbook):
    """The cell the workbook-level defined name ``AuditContentDigest`` points at, or None."""
    dn = None
    names = wb.defined_names
    try:
        dn = names.get(AUDIT_NAME)
    except AttributeError:  # pragma: no cover - openpyxl < 3.1
        dn = next((d for d in names.definedName if d.name == AUDIT_NAME), None)
    if dn is None:
        for ws in wb.worksheets:  # tolerate a sheet-scoped name
            dn = ws.defined_names.get(AUDIT_NAME)
            if dn is not None:
                break
    if dn is None:
        return None
    for title, coord in dn.destinations:
        if title in wb.sheetnames:
            coord = coord.replace("$", "")
            if ":" in coord:
                coord = coord.split(":")[0]
            return wb[title][coord]
    return None


def read_audit_digest(wb) -> str | None:
    """The digest stored in the cell named ``AuditContentDigest`` (stripped), or None when the
    name or the value is missing. ``wb`` is an openpyxl Workbook or a path."""
    cell = audit_cell(_load(wb))
    if cell is None or cell.value is None:
        return None
    return str(cell.value).strip() or None
