"""The ribbon's ``SheetBook`` over a LibreOffice Calc document (UNO), for the Sector Rotation toolbar.

Runs inside LibreOffice (the extension's component imports it). The toolbar and menu actions call
``run(action, document, frame)``, which is ``addin.ribbon.callbacks.run`` on a :class:`UnoBook`: the
same callbacks, the same named ranges (``AsOfDate``, ``CurrentWeights``, ``Limits``, ``Holdings``, ...),
the same tables in the same cells as the Excel ribbon and ``rotation addin run``.

Cells: a date-formatted number is read as a datetime (as xlwings and openpyxl read it); an empty cell
is None; timestamps are written as date serials with a date format, booleans as TRUE/FALSE.
The outcome message goes to a message box when the window is visible, and always to the document's
user-defined property ``SectorRotationMessage`` (headless runs and tests read it there).
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from addin.calc.cells import EPOCH, serial

MESSAGE_PROPERTY = "SectorRotationMessage"
DATE_TYPES = 2 | 4            # com.sun.star.util.NumberFormat DATE | TIME (DATETIME = 6)


class UnoBook:
    """A SheetBook over a Calc document (``com.sun.star.sheet.SpreadsheetDocument``)."""

    def __init__(self, doc, frame=None):
        self.doc = doc
        self.frame = frame
        self.messages: list[str] = []
        self._indicator = None

    # ---- reading ----------------------------------------------------------------------------
    def read_range(self, name: str) -> list[list[Any]] | None:
        names = self.doc.NamedRanges
        if not names.hasByName(name):
            return None
        rng = names.getByName(name).getReferredCells()
        if rng is None:
            return None
        formats = self.doc.getNumberFormats()
        data = rng.getDataArray()
        rows = []
        for i, row in enumerate(data):
            out = []
            for j, v in enumerate(row):
                if isinstance(v, str) and v == "":
                    out.append(None)
                elif isinstance(v, float) and self._is_date(formats, rng.getCellByPosition(j, i)):
                    out.append(_from_serial(v))
                else:
                    out.append(v)
            rows.append(out)
        return rows

    @staticmethod
    def _is_date(formats, cell) -> bool:
        try:
            return bool(formats.getByKey(cell.NumberFormat).Type & DATE_TYPES)
        except Exception:
            return False

    # ---- writing ----------------------------------------------------------------------------
    def _sheet(self, sheet: str):
        sheets = self.doc.Sheets
        if not sheets.hasByName(sheet):
            sheets.insertNewByName(sheet, sheets.getCount())
        return sheets.getByName(sheet)

    def clear(self, sheet: str) -> None:
        ws = self._sheet(sheet)
        ws.clearContents(1 | 2 | 4 | 16 | 32 | 256)     # VALUE DATETIME STRING ANNOTATION FORMULA OBJECTS

    def write_table(self, sheet, anchor, header, rows, caption=""):
        ws = self._sheet(sheet)
        r0, c0 = anchor[0] - 1, anchor[1] - 1
        if caption:
            ws.getCellByPosition(c0, r0 - 1).setString(str(caption))
        table = [list(header)] + [list(r) for r in rows]
        width = max(len(r) for r in table)
        if width == 0:
            return
        data = tuple(tuple(_value(v) for v in r) + ("",) * (width - len(r)) for r in table)
        ws.getCellRangeByPosition(c0, r0, c0 + width - 1, r0 + len(data) - 1).setDataArray(data)
        for j in range(width):                               # number formats: dates and booleans
            kinds = [_kind(r[j]) if j < len(r) else None for r in table[1:]]
            for kind in {k for k in kinds if k}:
                fmt = self._format(kind)
                if all(k == kind for k in kinds):
                    ws.getCellRangeByPosition(c0 + j, r0 + 1, c0 + j, r0 + len(kinds)).NumberFormat = fmt
                else:
                    for i, k in enumerate(kinds):
                        if k == kind:
                            ws.getCellByPosition(c0 + j, r0 + 1 + i).NumberFormat = fmt

    def _format(self, code: str) -> int:
        import uno

        formats = self.doc.getNumberFormats()
        loc = uno.createUnoStruct("com.sun.star.lang.Locale", "en", "US", "")
        key = formats.queryKey(code, loc, False)
        return key if key != -1 else formats.addNew(code, loc)

    # ---- user feedback ----------------------------------------------------------------------
    def message(self, text: str) -> None:
        self.messages.append(text)
        props = self.doc.DocumentProperties.UserDefinedProperties
        if props.getPropertySetInfo().hasPropertyByName(MESSAGE_PROPERTY):
            props.setPropertyValue(MESSAGE_PROPERTY, text)
        else:
            props.addProperty(MESSAGE_PROPERTY, 128, text)          # 128 = PropertyAttribute.REMOVABLE
        if self.frame is not None and self.frame.getContainerWindow().isVisible():
            _message_box(self.frame, text)

    def status(self, text: str | None) -> None:
        if self.frame is None:
            return
        if self._indicator is not None:
            self._indicator.end()
            self._indicator = None
        if text:
            self._indicator = self.frame.createStatusIndicator()
            self._indicator.start(text, 100)

    @property
    def folder(self) -> Path:
        url = self.doc.getURL()
        if not url:
            from engine.errors import ArgumentError

            raise ArgumentError("document", "save the document first: exports are written beside it")
        import uno

        return Path(uno.fileUrlToSystemPath(url)).parent


def _value(v) -> Any:
    """A Python value as setDataArray takes it (numbers and texts; "" is an empty cell)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (datetime, date)):
        return serial(v)
    if isinstance(v, (int, float)):
        return float(v)
    return str(v)


def _kind(v) -> str | None:
    """The number format a value needs (None: the default)."""
    if isinstance(v, bool):
        return "BOOLEAN"
    if isinstance(v, datetime) and (v.hour or v.minute or v.second):
        return "YYYY-MM-DD HH:MM:SS"
    if isinstance(v, (datetime, date)):
        return "YYYY-MM-DD"
    return None


def _from_serial(v: float) -> datetime:
    from datetime import timedelta

    return EPOCH + timedelta(days=v)


def _message_box(frame, text: str) -> None:
    import uno

    from addin.ribbon.workbook import TITLE

    window = frame.getContainerWindow()
    kind = uno.Enum("com.sun.star.awt.MessageBoxType", "ERRORBOX" if text.startswith("Error") else "INFOBOX")
    box = window.getToolkit().createMessageBox(window, kind, 1, TITLE, text)     # 1 = MessageBoxButtons.BUTTONS_OK
    box.execute()


def run(action: str, doc, frame=None) -> str:
    """Run one toolbar action on ``doc`` through the ribbon's callbacks; returns the message shown."""
    from addin.ribbon.callbacks import run as dispatch

    book = UnoBook(doc, frame)
    dispatch(action, book)
    return book.messages[-1] if book.messages else ""
