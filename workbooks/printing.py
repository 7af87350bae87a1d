"""Print areas and page setup: the decision record prints in at most 8 pages.

The record is the sheets in :data:`RECORD`, each fitted to one page wide and at most the given
number of pages tall, in workbook order: dashboard (signal, risk numbers, charts), commentary,
early-warning validation, weights and transition, trades when present, audit. Every other sheet (the
daily signal history, scores, parameters, and any sheet a later stage adds without a line here) stays
in the workbook but gets an empty print area, so printing the workbook or rendering it to PDF
leaves it out. To put a new sheet in the record, add ``"Sheet name": pages`` to :data:`RECORD` and
keep the total at or below :data:`MAX_PAGES`.
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

RECORD: dict[str, int] = {"Dashboard": 1, "Commentary": 1, "Early Warning": 1, "Weights": 1, "Trades": 2,
                          "Audit": 1}
MAX_PAGES = 8
EMPTY_AREA = "XFD1048576"        # an empty cell: LibreOffice and Excel print nothing for the sheet


def _used(ws) -> tuple[int, int]:
    rows = cols = 1
    for (r, c), cell in ws._cells.items():
        if cell.value is not None:
            rows, cols = max(rows, r), max(cols, c)
    for rng in ws.merged_cells.ranges:
        rows, cols = max(rows, rng.max_row), max(cols, rng.max_col)
    for ch in ws._charts:       # anchored charts: keep their rows (about 20 per 7.5 cm)
        anchor = getattr(ch.anchor, "_from", None)
        if anchor is not None:
            rows = max(rows, anchor.row + 1 + int(getattr(ch, "height", 7.5) * 2.7))
            cols = max(cols, anchor.col + 1 + int(getattr(ch, "width", 15) / 2.1))
    return rows, cols


def set_print_areas(wb: Workbook) -> int:
    """Give every sheet its print area and page setup; returns the record's page budget."""
    budget = 0
    for ws in wb.worksheets:
        pages = RECORD.get(ws.title)
        if pages is None:
            ws.print_area = f"{EMPTY_AREA}:{EMPTY_AREA}"
            continue
        rows, cols = _used(ws)
        ws.print_area = f"A1:{get_column_letter(cols)}{rows}"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = pages
        budget += pages
    return budget
