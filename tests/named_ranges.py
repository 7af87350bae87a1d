"""Workbooks with named input ranges, as a PM lays them out for the ribbon and the Calc toolbar."""
from __future__ import annotations

from openpyxl.workbook.defined_name import DefinedName


def write_named_ranges(wb, ws, cells: dict[str, list[list]]) -> None:
    """Write each ``name -> rows`` block on ``ws`` (one empty row between blocks) and define the
    workbook-level name over it."""
    row = 1
    for name, rows in cells.items():
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                ws.cell(row + i, 1 + j, v)
        last = chr(ord("A") + max(len(r) for r in rows) - 1)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{ws.title}!$A${row}:${last}${row + len(rows) - 1}")
        row += len(rows) + 1
