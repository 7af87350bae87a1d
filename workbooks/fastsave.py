"""Save an openpyxl workbook faster, to the same bytes openpyxl writes.

openpyxl serializes every cell through lxml's incremental writer, one Python context manager per
element; on the decision workbook (about 23,000 cells, most of them the daily signal history) that is
most of the time spent saving. :func:`save_bytes` keeps openpyxl's writer for everything except the
``<sheetData>`` of each worksheet, which it writes as one string with exactly the markup, attribute
order and escaping openpyxl (through lxml, ASCII output) produces: ``tests/test_fastsave.py`` compares
every part of the package byte for byte with ``Workbook.save``. A sheet holding anything this writer
does not reproduce (array or data-table formulas, rich text, characters XML cannot hold) is written
by openpyxl's own code, so the result never differs.

Parts are stored uncompressed unless ``compress``: the sealing and signing steps re-pack the package.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel, to_ISO8601
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

EMPTY = b"<sheetData></sheetData>"
NO_STYLE = bytes(36)               # an all-zero style array (9 x int32): no style
INF = float("inf")


class _Unsupported(Exception):
    """A cell this writer does not reproduce byte for byte: the sheet goes through openpyxl."""


def _text(s: str) -> str:
    """Element text as lxml writes it into an ASCII document."""
    if ILLEGAL_CHARACTERS_RE.search(s):
        raise _Unsupported
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return s if s.isascii() else s.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _attr(s: str) -> str:
    """An attribute value as lxml writes it into an ASCII document."""
    s = _text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return s


def _attrs(d: dict) -> str:
    return "".join(f' {k}="{_attr(str(v))}"' for k, v in d.items())


def _cell(ws, cell, style_id: str | None) -> str:
    """``openpyxl.cell._writer.lxml_write_cell`` as a string (same side effects on hyperlinks)."""
    t = cell.data_type
    value = cell._value
    head = f'<c r="{get_column_letter(cell.column)}{cell.row}"'
    if style_id is not None:
        head += f' s="{style_id}"'
    if t == "n" and type(value) in (float, int) and not cell.hyperlink:
        if value != value or value in (INF, -INF):
            return head + ' t="n"><v></v></c>'
        return f'{head} t="n"><v>{"%.16g" % value}</v></c>'
    if t == "s":
        head += ' t="inlineStr"'
    elif t == "d":
        if getattr(value, "tzinfo", None) is not None:
            raise TypeError("Excel does not support timezones in datetimes. "
                            "The tzinfo in the datetime/time object must be set to None.")
        if ws.parent.iso_dates and not isinstance(value, dt.timedelta):
            value = to_ISO8601(value)
            head += ' t="d"'
        else:
            value = to_excel(value, ws.parent.epoch)
            head += ' t="n"'
    elif t != "f":
        head += f' t="{_attr(t)}"'
    if cell.hyperlink:
        ws._hyperlinks.append(cell.hyperlink)
    if value is None or (isinstance(value, str) and value == ""):
        return head + "></c>"
    if t == "f":
        if not isinstance(value, str):
            raise _Unsupported                    # ArrayFormula / DataTableFormula
        return f"{head}><f>{_text(value[1:])}</f><v></v></c>"
    if t == "s":
        if not isinstance(value, str):
            raise _Unsupported                    # CellRichText
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f"{head}><is><t{space}>{_text(value)}</t></is></c>"
    return f"{head}><v>{_text(safe_string(value))}</v></c>"


def _rows(ws) -> list[tuple[int, list]]:
    """(row, its cells left to right) for every row with a cell or a row dimension, in row order (the keys
    sorted alone: a third of the time of sorting the (key, cell) pairs)."""
    cells = ws._cells
    rows: dict[int, list] = {}
    for key in sorted(cells):
        row = rows.get(key[0])
        if row is None:
            row = rows[key[0]] = []
        row.append(cells[key])
    missing = ws.row_dimensions.keys() - rows.keys()
    if not missing:
        return list(rows.items())                 # inserted in row order
    for r in missing:
        rows[r] = []
    return sorted(rows.items())


class _Markup:
    """The caches of one :func:`sheet_data` call: style ids (registered in first-use order, as
    ``cell.style_id`` registers them), column letters, the head of each (column, style) number cell and the
    markup after the reference of each text or empty cell."""

    def __init__(self, ws):
        self.ws = ws
        self.ids: dict[bytes, str] = {}
        self.letters: dict[int, str] = {}
        self.heads: dict[tuple[int, bytes], tuple[str, str]] = {}
        self.tails: dict[tuple, str] = {}

    def sid(self, cell, key: bytes) -> str | None:
        """The cellXfs index of ``cell``'s style (``key``: its bytes), None when unstyled."""
        if key == NO_STYLE:
            return None
        sid = self.ids.get(key)
        if sid is None:
            sid = self.ids[key] = f"{cell.style_id}"
        return sid

    def letter(self, col: int) -> str:
        letter = self.letters.get(col)
        if letter is None:
            letter = self.letters[col] = get_column_letter(col)
        return letter

    def head(self, cell, key: bytes) -> tuple[str, str]:
        """(column letter, ' s="ID"' or '') of a number cell in ``cell``'s column with style ``key``, cached in
        :attr:`heads` (which :func:`sheet_data` reads directly: the number cells are the hot path)."""
        sid = self.sid(cell, key)
        head = self.heads[(cell.column, key)] = (self.letter(cell.column), "" if sid is None else f' s="{sid}"')
        return head

    def plain(self, cell, sid: str | None, r: int) -> str:
        """A text or empty cell without link or note: what follows its reference depends only on
        (value, type, style), so :func:`_cell` runs once per such triple."""
        ref = f'<c r="{self.letter(cell.column)}{r}"'
        memo = (cell._value, cell.data_type, sid)
        rest = self.tails.get(memo)
        if rest is None:
            rest = self.tails[memo] = _cell(self.ws, cell, sid)[len(ref):]
        return ref + rest


def _row_tag(ws, r: int) -> str:
    dims = ws.row_dimensions
    if r not in dims:
        return f'<row r="{r}">'
    attrs = {"r": f"{r}"}
    attrs.update(dims[r])
    return f"<row{_attrs(attrs)}>"


def sheet_data(ws) -> bytes:
    """The ``<sheetData>`` element openpyxl's WorksheetWriter.write_rows would write for ``ws``.
    Plain numbers (most of the daily history) are written inline, text and empty cells from a memo, every
    other cell by :func:`_cell`."""
    m = _Markup(ws)
    heads = m.heads
    out = ["<sheetData>"]
    add = out.append
    for r, cells in _rows(ws):
        add(_row_tag(ws, r))
        for cell in cells:
            value = cell._value
            style = cell._style
            key = style.tobytes() if style is not None else NO_STYLE
            comment = cell._comment
            if type(value) is float and cell.data_type == "n" and value == value and value != INF \
                    and value != -INF and cell._hyperlink is None and comment is None:
                head = heads.get((cell.column, key)) or m.head(cell, key)
                add(f'<c r="{head[0]}{r}"{head[1]} t="n"><v>{"%.16g" % value}</v></c>')
                continue
            if comment is not None:
                ws._comments.append(CommentRecord.from_cell(cell))
            elif value is None and key == NO_STYLE:
                continue
            sid = m.sid(cell, key)
            if (value is None or type(value) is str) and cell._hyperlink is None and comment is None:
                add(m.plain(cell, sid, r))
            else:
                add(_cell(ws, cell, sid))
        add("</row>")
    add("</sheetData>")
    return "".join(out).encode("ascii")


class _SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with the rows written by :func:`sheet_data` (spliced in afterwards)."""

    rows_xml: bytes | None = None

    def write_rows(self):
        hyperlinks, comments = list(self.ws._hyperlinks), list(self.ws._comments)
        try:
            self.rows_xml = sheet_data(self.ws)
        except _Unsupported:
            self.ws._hyperlinks[:], self.ws._comments[:] = hyperlinks, comments
            self.rows_xml = None
            return super().write_rows()
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            pass
        self.xf.send(None)


class _Writer(ExcelWriter):
    def write_worksheet(self, ws):
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        body = writer.read()
        if writer.rows_xml is not None:
            if body.count(EMPTY) != 1:          # pragma: no cover - openpyxl changed its markup
                raise RuntimeError("fastsave: cannot find the sheet's <sheetData> to fill")
            body = body.replace(EMPTY, writer.rows_xml)
        self._archive.writestr(ws.path[1:], body)
        self.manifest.append(ws)


def save_bytes(wb, compress: bool = False) -> bytes:
    """The .xlsx package of ``wb`` (as ``wb.save`` writes it; parts stored unless ``compress``)."""
    if wb.read_only:
        raise TypeError("Workbook is read-only")
    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    archive = zipfile.ZipFile(buf, "w", method, allowZip64=True)
    wb.properties.modified = dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None)
    _Writer(wb, archive).save()
    return buf.getvalue()
