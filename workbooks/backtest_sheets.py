"""Charts and the metrics block of the Backtest and Attribution sheets (after the tables are filled).

The writer fills the ``Backtest`` table (date, growth of 1 for strategy/benchmark/SPY, drawdowns,
rolling 12-month active return and tracking error) and the ``Attribution`` table (linked effects by
sector); this module adds native charts over those ranges and the metrics table beside them.
"""
from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import range_boundaries

METRIC_LABELS = {"total_return": "Total return", "cagr": "CAGR", "volatility": "Volatility", "sharpe": "Sharpe (rf 0)",
                 "sharpe_tbill": "Sharpe (T-bill)", "sortino": "Sortino", "max_drawdown": "Max drawdown",
                 "calmar": "Calmar", "win_rate_daily": "Win rate (days)", "alpha": "Alpha vs SPY",
                 "beta": "Beta vs SPY", "tracking_error": "Tracking error vs SPY",
                 "information_ratio": "Information ratio", "turnover": "Turnover / yr", "cost_drag": "Cost drag / yr",
                 "avg_leverage": "Average leverage"}
PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "win_rate_daily", "alpha", "tracking_error",
           "turnover", "cost_drag"}


def _table(ws, name):
    return ws.tables.get(name) if hasattr(ws.tables, "get") else None


def _line(title: str, ws, c_first: int, c_last: int, r1: int, r2: int, ytitle: str, fmt: str) -> LineChart:
    ch = LineChart()
    ch.title, ch.height, ch.width = title, 7.5, 18
    ch.y_axis.title, ch.y_axis.number_format = ytitle, fmt
    ch.add_data(Reference(ws, min_col=c_first, max_col=c_last, min_row=r1, max_row=r2), titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=r1 + 1, max_row=r2))
    ch.x_axis.number_format = "yyyy"
    return ch


def decorate(wb, report) -> None:
    """Add the Backtest charts and metrics block, and the Attribution chart, when those tables exist."""
    if report.backtest is not None and "Backtest" in wb.sheetnames:
        ws = wb["Backtest"]
        tbl = _table(ws, "Backtest")
        if tbl is not None:
            c1, r1, c2, r2 = range_boundaries(tbl.ref)
            ws.add_chart(_line("Growth of 1: strategy, benchmark, SPY", ws, c1 + 1, c1 + 3, r1, r2, "growth", "0.0"),
                         "L6")
            ws.add_chart(_line("Drawdown: strategy vs SPY", ws, c1 + 4, c1 + 5, r1, r2, "drawdown", "0%"), "L22")
            ws.add_chart(_line("Rolling 12-month active return vs SPY", ws, c1 + 6, c1 + 6, r1, r2, "active", "0%"),
                         "L38")
            _metrics_block(ws, report.backtest.attrs.get("metrics") or [], report.backtest.attrs.get("title", ""))
    if report.attribution is not None and "Attribution" in wb.sheetnames:
        ws = wb["Attribution"]
        tbl = _table(ws, "Attribution")
        if tbl is not None:
            c1, r1, c2, r2 = range_boundaries(tbl.ref)
            ch = BarChart()
            ch.type, ch.grouping, ch.overlap = "bar", "stacked", 100
            ch.title, ch.height, ch.width = "Linked effects by sector (Brinson-Fachler)", 9, 16
            ch.add_data(Reference(ws, min_col=c1 + 1, max_col=c1 + 3, min_row=r1, max_row=r2), titles_from_data=True)
            ch.set_categories(Reference(ws, min_col=c1, min_row=r1 + 1, max_row=r2))
            ch.y_axis.number_format = "0%"
            ws.add_chart(ch, "H6")
            active = report.attribution.attrs.get("active_return")
            if active is not None:
                ws.cell(r2 + 2, c1, "Active return (linked effects sum to it)")
                cell = ws.cell(r2 + 2, c1 + 4, float(active))
                cell.number_format = "0.00%"


def _metrics_block(ws, rows, title: str) -> None:
    """The metrics table (metric, strategy, benchmark, SPY) in columns W:Z from row 6."""
    col = 23
    ws.cell(4, col, title)
    for j, h in enumerate(("Metric", "Strategy", "Benchmark", "SPY")):
        ws.cell(5, col + j, h)
    for i, (key, *vals) in enumerate(rows):
        ws.cell(6 + i, col, METRIC_LABELS.get(key, key))
        for j, v in enumerate(vals):
            c = ws.cell(6 + i, col + 1 + j, None if v is None or v != v else float(v))
            c.number_format = "0.00%" if key in PERCENT else "0.00"
