"""The Alerts sheet of the decision workbook: the alerts that preceded the decision (what the PM was told
and when). Added by :func:`add` before the Audit sheet is sealed, so the content digest covers it."""
from __future__ import annotations

import json

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook import Workbook

SHEET = "Alerts"
COLUMNS = ("date", "kind", "message", "recommendation", "values")
WIDTHS = (12, 16, 90, 70, 60)


def add(wb: Workbook, alerts: pd.DataFrame | None, as_of=None) -> None:
    """Write ``alerts`` (rows with ``COLUMNS``; ``values`` a dict) on a new ``Alerts`` sheet placed just
    before Audit. ``None`` leaves the sheet out; an empty frame writes the sheet saying there were none."""
    if alerts is None:
        return
    if SHEET in wb.sheetnames:
        del wb[SHEET]
    pos = wb.sheetnames.index("Audit") if "Audit" in wb.sheetnames else len(wb.sheetnames)
    ws = wb.create_sheet(SHEET, pos)
    ws["A1"] = "Alerts before the decision" + (f" of {as_of}" if as_of else "")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Computed point in time: each alert uses data up to its date only. "
                "Kinds: regime_entered/left, reentry, warning_on/off, strength, tech_band, drift, stale_data.")
    head = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E78")
    for j, (name, width) in enumerate(zip(COLUMNS, WIDTHS), start=1):
        c = ws.cell(row=4, column=j, value=name)
        c.font, c.fill = head, fill
        ws.column_dimensions[c.column_letter].width = width
    if alerts.empty:
        ws.cell(row=5, column=1, value="no alerts in the window")
    for i, row in enumerate(alerts.itertuples(index=False), start=5):
        vals = [str(row.date)[:10], row.kind, row.message, row.recommendation,
                json.dumps(row.values, sort_keys=True, default=str)]
        for j, v in enumerate(vals, start=1):
            ws.cell(row=i, column=j, value=v).alignment = Alignment(wrap_text=j >= 3, vertical="top")
    ws.freeze_panes = "A5"
    if not alerts.empty:
        ws.auto_filter.ref = f"A4:E{4 + len(alerts)}"
