"""workbooks.fastsave writes the same package openpyxl's Workbook.save writes, part for part, byte for byte
(the creation and save times in docProps/core.xml aside), on the decision workbook and on cells of every kind."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.formula import ArrayFormula

from speed_references import reference_fill_column
from workbooks.fastsave import save_bytes, sheet_data
from workbooks.report import example_report
from workbooks.writer import render

MODIFIED = re.compile(rb"<dcterms:(modified|created)[^>]*>[^<]*</dcterms:(modified|created)>")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: MODIFIED.sub(b"", z.read(n)) for n in z.namelist()}


def _stock(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _assert_same(make):
    stock, fast = _parts(_stock(make())), _parts(save_bytes(make()))
    assert list(stock) == list(fast)
    for name in stock:
        assert fast[name] == stock[name], name


def test_decision_workbook_is_byte_identical():
    rep = example_report(sessions=400)
    _assert_same(lambda: render(rep))


def _odd_cells() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "plain"
    ws["B1"] = "  padded & <tagged> \"quoted\" 'single'\r\nline\ttab  "
    ws["C1"] = "caf\u00e9 \u2014 \U0001F600 \u2028"
    ws["D1"] = 1.0 / 3.0
    ws["E1"] = -0.0
    ws["F1"] = 10 ** 20
    ws["G1"] = True
    ws["H1"] = False
    ws["A2"] = datetime(2008, 10, 10, 13, 45, 30, 123000)
    ws["B2"] = date(2019, 12, 31)
    ws["C2"] = time(9, 30)
    ws["D2"] = timedelta(days=1, hours=6)
    ws["E2"] = "=SUM(D1:F1)&\"<x>\""
    ws["F2"] = "#N/A"
    ws["F2"].data_type = "e"
    ws["G2"] = float("nan")
    ws["A3"].font = Font(bold=True)                  # styled, empty
    ws["B3"] = ""
    ws["C3"] = "=1"
    ws["C3"].data_type = "s"                         # text that looks like a formula
    ws["D3"].hyperlink = "https://example.com/?a=1&b=2"
    ws["D3"] = "link"
    ws["E3"] = "noted"
    ws["E3"].comment = Comment("a note", "auditor")
    ws.row_dimensions[7].height = 30                 # a row with only a height
    ws.row_dimensions[2].hidden = True
    ws["A9"].number_format = "0.00%"
    ws["A9"] = 0.125
    ws["B9"] = 2.5                                   # a number with a note: the note is kept
    ws["B9"].comment = Comment("a number's note", "auditor")
    ws["C9"] = 0.75                                  # a number with a link
    ws["C9"].hyperlink = "https://example.com/n"
    ws["D9"] = float("inf")
    ws["E9"].number_format = "0.00%"                 # the same style first on an empty cell, then on numbers
    ws["E10"] = 0.5
    ws["E10"].number_format = "0.00%"
    for r in (11, 12, 13):                           # repeated text, formulas and styled blanks in one column
        ws.cell(r, 1, "calm")
        ws.cell(r, 2, "=A11")
        ws.cell(r, 3).font = Font(italic=True)
        ws.cell(r, 4, "  calm ")
    wb.create_sheet("Second")["A1"] = "x"
    return wb


def test_odd_cells_are_byte_identical():
    _assert_same(_odd_cells)


def test_iso_dates_are_byte_identical():
    def make():
        wb = _odd_cells()
        wb.iso_dates = True
        return wb
    _assert_same(make)


def test_sheets_it_does_not_reproduce_go_through_openpyxl():
    def make():
        wb = _odd_cells()
        wb.active["A5"] = ArrayFormula("A5:A6", "=D1:D2*2")
        wb["Second"]["B2"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
        return wb
    _assert_same(make)
    with pytest.raises(Exception):
        sheet_data(make().active)


def test_round_trip_values():
    wb = load_workbook(io.BytesIO(save_bytes(_odd_cells())))
    ws = wb.active
    assert ws["B1"].value == "  padded & <tagged> \"quoted\" 'single'\r\nline\ttab  "
    assert ws["C1"].value == "caf\u00e9 \u2014 \U0001F600 \u2028"
    assert ws["E2"].value == "=SUM(D1:F1)&\"<x>\"" and ws["G1"].value is True
    assert ws["A2"].value == datetime(2008, 10, 10, 13, 45, 30, 123000)
    assert ws["E3"].comment.text == "a note" and ws["D3"].hyperlink.target == "https://example.com/?a=1&b=2"


def test_number_columns_written_without_the_value_setter_are_identical(monkeypatch):
    import numpy as np
    import pandas as pd

    import workbooks.writer as writer

    rep = example_report(sessions=700)
    sig = rep.signals.copy()
    sig.iloc[3, sig.columns.get_loc("index")] = -0.0
    sig.iloc[4, sig.columns.get_loc("index")] = np.inf
    sig.iloc[5, sig.columns.get_loc("index")] = np.nan
    sig["flag"] = sig["index"] > 0                       # a bool column
    sig["count"] = np.arange(len(sig), dtype=np.int64)    # an int column
    rep = type(rep)(**{**rep.__dict__, "signals": sig})
    assert writer._numbers(pd.Series([-0.0, np.nan, 1.5]), "float") == [0.0, None, 1.5]
    fast = _parts(save_bytes(render(rep)))
    monkeypatch.setattr(writer, "_numbers", lambda series, kind: None)     # every value through _set
    slow = _parts(save_bytes(render(rep)))
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name


def test_cells_filled_without_the_constructor_and_setter_are_identical(monkeypatch):
    """writer._blank (a Cell without its constructor chain) and writer._fill_values (the value setter run
    once per distinct text / datetime type) give the same package as a Cell and the setter per cell,
    on text that repeats, looks like a formula or an error code, is padded or missing, and on dates."""
    import numpy as np
    import pandas as pd
    from openpyxl.cell.cell import Cell

    import workbooks.writer as writer

    from openpyxl.styles.cell_style import StyleArray

    ws = Workbook().active
    body = StyleArray()
    body.numFmtId = 4
    a, b = writer._blank(ws, 7, 3, body), Cell(ws, row=7, column=3, style_array=body)
    assert [getattr(a, s) for s in Cell.__slots__] == [getattr(b, s) for s in Cell.__slots__]
    assert a._style == b._style and a._style is not body and a.parent is ws

    rep = example_report(sessions=700)
    sig = rep.signals.copy()
    words = ["calm", "=SUM(A1)", "#N/A", "  padded ", None, "stress", "calm", "=", "#DIV/0!"]
    sig["note"] = [words[i % len(words)] for i in range(len(sig))]
    sig["seen"] = pd.DatetimeIndex(sig.index).where(np.arange(len(sig)) % 5 != 0)   # dates with NaT
    sig["seen_ny"] = pd.DatetimeIndex(sig.index).tz_localize("America/New_York")     # tz-aware (written as UTC)
    sig["mixed"] = [("x" if i % 3 else 1.5) for i in range(len(sig))]                 # object, not one type
    rep = type(rep)(**{**rep.__dict__, "signals": sig})
    fast = _parts(save_bytes(render(rep)))
    monkeypatch.setattr(writer, "_fill_column", reference_fill_column)
    slow = _parts(save_bytes(render(rep)))
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name
