"""The small workbook interface the ribbon callbacks use, with two implementations.

``SheetBook`` is what a callback may do to a workbook: read a named range, write a table to a sheet,
show a message, show progress in the status bar. ``OpenpyxlBook`` drives real .xlsx files (tests, and
batch use without Excel); ``XlwingsBook`` wraps the ``xlwings.Book`` a ribbon button passes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

TITLE = "Sector Rotation"


class SheetBook(Protocol):
    def read_range(self, name: str) -> list[list[Any]] | None:
        """The values of a workbook-level named range as rows (None when the name does not exist)."""

    def write_table(self, sheet: str, anchor: tuple[int, int], header: list[str], rows: list[list[Any]],
                    caption: str = "") -> None:
        """Write ``header`` and ``rows`` with the header's first cell at (row, column), 1-based, and
        ``caption`` in the row above; the sheet is created if missing."""

    def clear(self, sheet: str) -> None:
        """Empty a sheet's cells (created if missing)."""

    def message(self, text: str) -> None:
        """Show ``text`` to the user (a message box in Excel)."""

    def status(self, text: str | None) -> None:
        """Progress in the status bar (None gives the bar back to Excel)."""

    @property
    def folder(self) -> Path:
        """The folder the workbook lives in (exports go there by default)."""


class OpenpyxlBook:
    """A SheetBook over an .xlsx file; ``save()`` writes it back (atomically)."""

    def __init__(self, path: str | Path):
        from openpyxl import load_workbook

        self.path = Path(path)
        self.wb = load_workbook(self.path)
        self.messages: list[str] = []
        self.statuses: list[str | None] = []

    def read_range(self, name: str) -> list[list[Any]] | None:
        dn = self.wb.defined_names.get(name)
        if dn is None:
            return None
        rows: list[list[Any]] = []
        for title, coord in dn.destinations:
            cells = self.wb[title][coord.replace("$", "")]
            if not isinstance(cells, tuple):
                return [[cells.value]]
            if cells and not isinstance(cells[0], tuple):
                cells = (cells,)
            rows += [[c.value for c in row] for row in cells]
        return rows

    def _sheet(self, sheet: str):
        return self.wb[sheet] if sheet in self.wb.sheetnames else self.wb.create_sheet(sheet)

    def clear(self, sheet: str) -> None:
        if sheet in self.wb.sheetnames:
            idx = self.wb.sheetnames.index(sheet)
            self.wb.remove(self.wb[sheet])
            self.wb.create_sheet(sheet, idx)
        else:
            self.wb.create_sheet(sheet)

    def write_table(self, sheet, anchor, header, rows, caption=""):
        ws = self._sheet(sheet)
        r0, c0 = anchor
        if caption:
            ws.cell(r0 - 1, c0, caption)
        for j, h in enumerate(header):
            ws.cell(r0, c0 + j, h)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                ws.cell(r0 + i, c0 + j, v)

    def message(self, text: str) -> None:
        self.messages.append(text)

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def save(self) -> None:
        from workbooks.atomic import atomic_write_bytes
        import io

        buf = io.BytesIO()
        self.wb.save(buf)
        atomic_write_bytes(self.path, buf.getvalue())


class XlwingsBook:
    """A SheetBook over the ``xlwings.Book`` that pressed the button (Windows, Excel)."""

    def __init__(self, book):
        self.book = book

    def read_range(self, name: str):
        try:
            rng = self.book.names[name].refers_to_range
        except Exception:                      # xlwings raises a COM error for an unknown name
            return None
        return rng.options(ndim=2).value

    def _sheet(self, sheet: str):
        names = [s.name for s in self.book.sheets]
        return self.book.sheets[sheet] if sheet in names else self.book.sheets.add(sheet, after=self.book.sheets[-1])

    def clear(self, sheet: str) -> None:
        self._sheet(sheet).clear_contents()

    def write_table(self, sheet, anchor, header, rows, caption=""):
        ws = self._sheet(sheet)
        r0, c0 = anchor
        if caption:
            ws.cells(r0 - 1, c0).value = caption
        ws.cells(r0, c0).value = [list(header)] + [list(r) for r in rows]     # one call: one COM round trip

    def message(self, text: str) -> None:
        self.book.app.alert(text, title=TITLE)

    def status(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    @property
    def folder(self) -> Path:
        return Path(self.book.fullname).parent
