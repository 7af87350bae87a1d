"""The Execution sheet of the decision workbook: the child-order schedule and the trade list's summary.

Added by :func:`add` (called by the writer before the Audit sheet is filled and sealed, so the
content digest covers it) when the report carries ``execution`` (a DataFrame of child orders) and,
optionally, ``execution_summary`` (label -> value). The sheet is created after ``Trades`` (or at
the end); a template that already has an ``Execution`` sheet gets it replaced.
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from workbooks.report import DecisionReport

SHEET = "Execution"
NAVY = "1F3864"
FORMATS = {"shares": "#,##0", "participation": "0.00%", "day_participation": "0.00%", "limit": "0.00"}


def add(wb: Workbook, report: DecisionReport) -> None:
    """Write the Execution sheet for ``report`` (nothing when it has no execution schedule)."""
    frame = getattr(report, "execution", None)
    if frame is None:
        return
    if SHEET in wb.sheetnames:
        del wb[SHEET]
    pos = wb.sheetnames.index("Trades") + 1 if "Trades" in wb.sheetnames else len(wb.sheetnames)
    ws = wb.create_sheet(SHEET, pos)
    ws["A1"] = "Execution Schedule"
    ws["A1"].font = Font(name="Arial", size=16, bold=True, color=NAVY)
    ws["A2"] = report.data_label
    ws["A2"].font = Font(name="Arial", size=11, bold=True, color="C00000")
    row = 4
    for label, value in (getattr(report, "execution_summary", None) or {}).items():
        ws.cell(row, 1, label).font = Font(name="Arial", bold=True, color="404040")
        ws.cell(row, 2, value).alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    _table(ws, frame, row + 1)
    ws.freeze_panes = f"A{row + 2}"
    for i in range(1, frame.shape[1] + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 24


def _table(ws, frame, hdr: int) -> None:
    cols = [str(c) for c in frame.columns]
    for j, c in enumerate(cols, start=1):
        h = ws.cell(hdr, j, c.replace("_", " "))
        h.font = Font(name="Arial", bold=True, color="FFFFFF")
        h.fill = PatternFill("solid", start_color=NAVY, end_color=NAVY)
    for i, rec in enumerate(frame.itertuples(index=False), start=hdr + 1):
        for j, (c, v) in enumerate(zip(cols, rec), start=1):
            cell = ws.cell(i, j, None if v is None or (isinstance(v, float) and v != v) else
                           (str(v) if c in ("date",) else v))
            if c in FORMATS:
                cell.number_format = FORMATS[c]
    last = hdr + max(len(frame), 1)
    t = Table(displayName="ExecutionSchedule", ref=f"A{hdr}:{get_column_letter(len(cols))}{last}")
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(t)
