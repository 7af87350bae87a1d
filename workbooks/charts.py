"""Native Excel charts of the decision workbook, and the range bookkeeping the writer needs.

Two kinds of functions:

- builders used by :mod:`workbooks.template` to draw the default charts (stress index over time with
  regime bands behind it; current vs target weights);
- helpers used by :mod:`workbooks.writer` to keep charts of a (possibly restyled) template pointing
  at the filled tables: series ranges that start at a table's first data row are stretched to its
  last data row, and charts whose data left the workbook are removed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.chart.axis import DateAxis
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.layout import Layout, ManualLayout
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties

REGIME_COLOURS = {"calm": "C6E0B4", "elevated": "FFE699", "stress": "F4B183", "crisis": "FF7C80"}
LINE_COLOUR = "1F3864"
CURRENT_COLOUR = "A6A6A6"
TARGET_COLOUR = "2F5597"
BENCHMARK_COLOUR = "D9D9D9"

_REF = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^!]+)!\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)"
                  r"(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$")


def _solid(colour: str) -> GraphicalProperties:
    gp = GraphicalProperties(solidFill=colour)
    gp.line = LineProperties(solidFill=colour)
    return gp


def _small_font(size: int):
    """Axis label text properties at ``size`` hundredths of a point."""
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties

    cp = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=cp), endParaRPr=cp)])


def stress_chart(sheet: str, header_row: int, first_col: int, n_rows: int):
    """Combo chart: stress index line (left axis) over regime bands (bars on a hidden 0-1 axis).

    Expects a block on ``sheet`` whose header is at ``header_row`` and columns from ``first_col``:
    date, index, calm, elevated, stress, crisis (band columns hold 1 in that regime, blank otherwise).
    ``n_rows`` data rows follow the header (the writer stretches them to the real length).
    """
    last = header_row + max(n_rows, 1)
    cats = Reference_for(sheet, first_col, header_row + 1, first_col, last)

    bands = BarChart()
    bands.type = "col"
    bands.grouping = "stacked"
    bands.overlap = 100
    bands.gapWidth = 0
    for k, regime in enumerate(("calm", "elevated", "stress", "crisis")):
        col = first_col + 2 + k
        bands.add_data(Reference_for(sheet, col, header_row, col, last), titles_from_data=True)
        s = bands.series[-1]
        s.graphicalProperties = _solid(REGIME_COLOURS[regime])
    bands.set_categories(cats)
    bands.y_axis.axId = 200
    bands.y_axis.scaling.min = 0
    bands.y_axis.scaling.max = 1
    bands.y_axis.delete = True
    bands.y_axis.majorGridlines = None
    # a date axis with one label per two years: a category axis skipping every N weekly points drifts
    # against the calendar and prints some years twice
    bands.x_axis = DateAxis(axId=10, crossAx=200, delete=False, majorTimeUnit="years",
                            majorUnit=2, baseTimeUnit="days", lblOffset=100, majorTickMark="out")
    bands.x_axis.number_format = "yyyy"
    bands.x_axis.txPr = _small_font(800)

    line = LineChart()
    line.add_data(Reference_for(sheet, first_col + 1, header_row, first_col + 1, last), titles_from_data=True)
    s = line.series[0]
    s.smooth = False
    s.marker.symbol = "none"
    s.graphicalProperties.line.solidFill = LINE_COLOUR
    s.graphicalProperties.line.width = 19050  # 1.5 pt
    line.set_categories(cats)
    line.y_axis.axId = 100
    line.y_axis.delete = False
    line.y_axis.crosses = "min"
    line.y_axis.number_format = "0.0"
    line.y_axis.majorGridlines = None
    line.x_axis = bands.x_axis

    bands += line
    bands.title = "Bond stress index and regime"
    bands.legend.position = "b"
    bands.height = 9.0
    bands.width = 19.0
    bands.layout = Layout(manualLayout=ManualLayout(x=0.07, y=0.12, w=0.9, h=0.68))
    return bands


def weights_chart(sheet: str, header_row: int, label_col: int, current_col: int, target_col: int,
                  n_rows: int):
    """Clustered horizontal bars: current vs target weight by ticker."""
    last = header_row + max(n_rows, 1)
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.gapWidth = 60
    for col, colour in ((current_col, CURRENT_COLOUR), (target_col, TARGET_COLOUR)):
        chart.add_data(Reference_for(sheet, col, header_row, col, last), titles_from_data=True)
        chart.series[-1].graphicalProperties = _solid(colour)
    chart.set_categories(Reference_for(sheet, label_col, header_row + 1, label_col, last))
    chart.title = "Weights: current vs recommended"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.scaling.orientation = "maxMin"   # first ticker at the top
    chart.y_axis.number_format = "0%"
    chart.y_axis.crosses = "max"
    chart.y_axis.majorGridlines = None
    chart.legend.position = "b"
    chart.height = 9.0
    chart.width = 12.5
    return chart


def Reference_for(sheet: str, c1: int, r1: int, c2: int, r2: int) -> Reference:  # noqa: N802
    """A Reference by sheet *name* (charts of a template are drawn before the data is there)."""
    return Reference(range_string=f"{quote_sheet(sheet)}!${_col(c1)}${r1}:${_col(c2)}${r2}")


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(n)


@dataclass(frozen=True)
class Block:
    """Where a filled table sits: sheet, columns c1..c2, header row, first and last data row."""

    sheet: str
    c1: int
    c2: int
    header_row: int
    last_row: int


def _parse(ref: str):
    m = _REF.match(ref.strip())
    if not m:
        return None
    from openpyxl.utils import column_index_from_string as ci
    sheet = m["sheet"]
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    c1, r1 = ci(m["c1"]), int(m["r1"])
    c2, r2 = (ci(m["c2"]), int(m["r2"])) if m["c2"] else (c1, r1)
    return sheet, c1, r1, c2, r2


def _refs(chart):
    """Yield (holder, attribute) pairs of every formula reference in a chart's series."""
    for sub in getattr(chart, "_charts", [chart]):
        for s in sub.series:
            for ds in (s.val, s.cat, getattr(s, "xVal", None), getattr(s, "yVal", None)):
                if ds is None:
                    continue
                for holder in (getattr(ds, "numRef", None), getattr(ds, "strRef", None)):
                    if holder is not None and holder.f:
                        yield holder
            if s.tx is not None and s.tx.strRef is not None and s.tx.strRef.f:
                yield s.tx.strRef


def stretch_chart(chart, block: Block, template_last_row: int) -> None:
    """Stretch series ranges that cover ``block``'s data rows (as laid out in the template) to its new length."""
    points = 0
    for holder in _refs(chart):
        p = _parse(holder.f)
        if p is None:
            continue
        sheet, c1, r1, c2, r2 = p
        if sheet != block.sheet or c1 < block.c1 or c2 > block.c2:
            continue
        if r1 in (block.header_row, block.header_row + 1) and r2 > block.header_row and r2 <= max(template_last_row, r1):
            holder.f = f"{quote_sheet(sheet)}!${_col(c1)}${r1}:${_col(c2)}${max(block.last_row, r1)}"
            points = max(points, block.last_row - block.header_row)
        # the cache holds the template's values: drop it so the reader recomputes from the range
        for cache in ("numCache", "strCache"):
            if hasattr(holder, cache):
                setattr(holder, cache, None)
    if points:  # about ten labels along a category axis that skips labels
        for sub in getattr(chart, "_charts", [chart]):
            ax = getattr(sub, "x_axis", None)
            if ax is not None and getattr(ax, "tickLblSkip", None):
                ax.tickLblSkip = ax.tickMarkSkip = max(1, -(-points // 10))


def chart_uses(chart, sheet: str, c1: int | None = None, c2: int | None = None,
               r1: int | None = None, r2: int | None = None) -> bool:
    """True when any series reference of ``chart`` points into ``sheet`` (and the given column/row span)."""
    for holder in _refs(chart):
        p = _parse(holder.f)
        if p is None or p[0] != sheet:
            continue
        _, a1, b1, a2, b2 = p
        if c1 is not None and (a2 < c1 or a1 > c2):
            continue
        if r1 is not None and (b2 < r1 or b1 > r2):
            continue
        return True
    return False
