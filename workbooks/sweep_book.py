"""A sweep's workbook: every configuration's metrics, a heat map over two parameters, the sensitivity view.

``sweep_workbook_bytes(result)`` renders what ``usecases.sweep.run_sweep`` returns; the caller writes
the bytes atomically (``workbooks.atomic``). Nothing is computed here.
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

PCT = ("cagr", "total_return", "volatility", "max_drawdown", "tracking_error", "alpha", "cost_drag", "win_rate_daily")


def _rows_sheet(ws, result: dict) -> None:
    rows = result["rows"]
    cols = list(rows[0]) if rows else []
    ws.append(cols)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([r.get(k) if not isinstance(r.get(k), (list, dict)) else str(r.get(k)) for k in cols])
    for j, k in enumerate(cols, start=1):
        if k in PCT:
            for cell in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell[0].number_format = "0.00%"
    ws.freeze_panes = "A2"


def _heatmap_sheet(ws, result: dict, metric: str) -> None:
    """Rows: the first grid parameter; columns: the second (or one column); cells: ``metric``."""
    names = list(result["grid"])
    a = names[0]
    b = names[1] if len(names) > 1 else None
    av, bv = result["grid"][a], (result["grid"][b] if b else [None])
    ws.append([f"{metric} by {a}" + (f" (rows) and {b} (columns)" if b else "") +
               (f"; other parameters: all values, first match shown" if len(names) > 2 else "")])
    ws["A1"].font = Font(bold=True)
    ws.append([a if not b else f"{a} \\ {b}", *(bv if b else [metric])])
    for x in av:
        line = [x]
        for y in bv:
            cell = next((r for r in result["rows"] if r.get(a) == x and (b is None or r.get(b) == y)
                         and r.get("error") is None), None)
            line.append(None if cell is None else cell.get(metric))
        ws.append(line)
    last = get_column_letter(len(bv) + 1)
    rng = f"B3:{last}{len(av) + 2}"
    ws.conditional_formatting.add(rng, ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile",
                                                      mid_value=50, mid_color="FFEB84", end_type="max",
                                                      end_color="63BE7B"))
    for row in ws[rng]:
        for c in row:
            c.number_format = "0.00%" if metric in PCT else "0.000"


def _sensitivity_sheet(ws, result: dict) -> None:
    ws.append(["parameter", "value", "best value", "metric", "metric value", "best minus neighbours"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for s in result["sensitivity"]:
        for key, m in s["metrics"].items():
            for v, x in zip(s["values"], m["values"]):
                ws.append([s["param"], v, s["best_value"], key, x, m["drop"]])


def sweep_workbook_bytes(result: dict) -> bytes:
    """Sheets Rows, Heatmap (Sharpe and CAGR), Sensitivity and Summary (configs tried, DSR, PBO)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    dsr, pbo = result.get("deflated_sharpe") or {}, result.get("pbo") or {}
    for k, v in (("strategy", result["strategy"]), ("from", result["from"]), ("to", result["to"]),
                 ("configs tried", result["configs_tried"]), ("failed", len(result["failed"])),
                 ("best", str((result.get("best") or {}).get("params"))), ("deflated Sharpe of the best", dsr.get("dsr")),
                 ("PBO (CSCV)", pbo.get("pbo")), ("executor", result["executor"])):
        ws.append([k, v])
    _rows_sheet(wb.create_sheet("Rows"), result)
    for metric in ("sharpe", "cagr"):
        _heatmap_sheet(wb.create_sheet(f"Heatmap {metric}"), result, metric)
    _sensitivity_sheet(wb.create_sheet("Sensitivity"), result)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
