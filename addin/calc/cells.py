"""Calc cell values <-> the worksheet-function family's arguments and results (no uno, no computation).

What Calc passes to an ``any`` argument: a number (dates are serial numbers, as in Excel), a text,
nothing (an omitted argument or an empty cell: void or ""), or a range as a tuple of row tuples whose
empty cells are "". The family expects what xlwings passes: None for empty, 2-D lists for ranges.

What Calc accepts back: numbers, texts and booleans; a table function returns a rectangular tuple of
row tuples (an array formula). Empty cells are "" (as xlwings writes them), timestamps become date
serial numbers (format the column as a date, as in Excel), an error is the family's ``#ERROR:`` text.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

log = logging.getLogger(__name__)
EPOCH = datetime(1899, 12, 30)          # day 0 of Calc's (and Excel's 1900) serial dates


def _empty_to_none(v: Any) -> Any:
    return None if v is None or (isinstance(v, str) and v == "") else v


def arg_in(v: Any, is_range: bool) -> Any:
    """One Calc argument as the family expects it (``is_range``: a 2-D list, as xlwings' ``ndim=2``)."""
    if isinstance(v, (list, tuple)) and v and all(isinstance(r, (list, tuple)) for r in v):
        rows = [[_empty_to_none(c) for c in r] for r in v]
        if is_range:
            return rows
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    v = _empty_to_none(v)
    if is_range:
        return None if v is None else [[v]]
    return v


def serial(v: datetime | date) -> float:
    """A date or timestamp as Calc's serial number (days since 1899-12-30, the time as a fraction)."""
    if not isinstance(v, datetime):
        v = datetime(v.year, v.month, v.day)
    return (v.replace(tzinfo=None) - EPOCH).total_seconds() / 86400.0


def cell_out(v: Any) -> Any:
    """One result value as a Calc cell value."""
    from udfs.convert import cell

    v = cell(v)
    if v is None:
        return ""
    if isinstance(v, bool):                      # Calc shows a UNO boolean result as 0; TRUE is 1 there
        return 1.0 if v else 0.0
    if isinstance(v, datetime):
        return serial(v)
    return v


def result_out(v: Any, table: bool) -> Any:
    """The family's result as Calc takes it: a rectangular tuple of row tuples for a table function
    (an error text becomes a 1 x 1 table), one value for a one-cell function."""
    if not table:
        while isinstance(v, (list, tuple)):
            v = v[0] if v else ""
        return cell_out(v)
    rows = v if isinstance(v, (list, tuple)) else [[v]]
    rows = [r if isinstance(r, (list, tuple)) else [r] for r in rows] or [[""]]
    width = max(len(r) for r in rows) or 1
    return tuple(tuple(cell_out(c) for c in r) + ("",) * (width - len(r)) for r in rows)


def call(name: str, args: tuple) -> Any:
    """Call ``udfs.family.<name>`` with Calc's arguments and return Calc's result (never raises)."""
    from udfs import family

    spec = family.SPECS[name]
    try:
        py = []
        for a, v in zip(spec.args, args):
            if a.varargs:
                py += [arg_in(x, True) for x in (v or ())]
            else:
                py.append(arg_in(v, a.range))
        return result_out(getattr(family, name)(*py), spec.table)
    except Exception as exc:                   # the family catches product errors; this is the last guard
        log.exception("Calc function %s failed", name)
        return result_out(f"#ERROR: internal error ({type(exc).__name__}); see the LibreOffice log"[:255], spec.table)
