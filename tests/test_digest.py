"""The content digest: the documented canonical form (recomputed here independently), sealing, and
coverage of every part a reader sees, including sheets a later stage adds."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

from engine.errors import DataError
from workbooks.digest import PLACEHOLDER, content_digest, covered, package_digest, read_audit_digest, seal_package


def _book(extra_sheet: str | None = None, value=1.5) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Dashboard"
    ws["A1"], ws["B1"] = "Stress index", value
    ws["B1"].number_format = "0.00"
    if extra_sheet:
        wb.create_sheet(extra_sheet)["A1"] = "added later"
    audit = wb.create_sheet("Audit")
    audit["A1"], audit["B1"] = "Content digest", PLACEHOLDER
    audit["A2"], audit["B2"] = "Run id", "run-1"
    wb.defined_names["AuditContentDigest"] = DefinedName("AuditContentDigest", attr_text="Audit!$B$1")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _independent(data: bytes, stored: str) -> str:
    """The canonical form as README/digest.py document it, written from the text, not the code."""
    h = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = sorted((n for n in z.namelist() if not n.endswith("/")), key=lambda n: n.encode())
        for n in names:
            if n in ("[Content_Types].xml", "_rels/.rels") or n.startswith(("docProps/", "_xmlsignatures/")):
                continue
            body = z.read(n).replace(f">{stored}<".encode(), f">{PLACEHOLDER}<".encode())
            h.update(n.encode() + b"\0" + f"{len(body):012d}".encode() + body)
    return h.hexdigest()


def test_seal_then_verify_and_independent_recomputation():
    sealed, digest = seal_package(_book())
    stored, actual = package_digest(sealed)
    assert stored == digest == actual == read_audit_digest(sealed) == content_digest(sealed)
    assert _independent(sealed, digest) == digest


def test_a_sheet_added_later_is_covered_without_code_here():
    plain, d1 = seal_package(_book())
    more, d2 = seal_package(_book(extra_sheet="Backtest"))
    assert d1 != d2 and package_digest(more)[0] == package_digest(more)[1]


@settings(max_examples=25, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_any_value_gives_its_own_digest(value):
    a = seal_package(_book(value=value))[1]
    b = seal_package(_book(value=value + 1.0 if abs(value) < 1e6 else value * 2 + 1))[1]
    assert a != b


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_byte_change_in_a_covered_part_changes_the_digest(data):
    sealed, digest = seal_package(_book())
    with zipfile.ZipFile(io.BytesIO(sealed)) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    name = data.draw(st.sampled_from(sorted(parts)))
    body = bytearray(parts[name])
    pos = data.draw(st.integers(0, len(body) - 1))
    body[pos] = (body[pos] + 1) % 256
    parts[name] = bytes(body)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    try:
        stored, actual = package_digest(buf.getvalue())
    except DataError:
        return                                   # the edit broke the package or the digest cell: caught too
    assert (stored == actual) == (not covered(name)) or stored != digest


def test_placeholder_and_digest_cell_errors():
    with pytest.raises(DataError, match="placeholder"):
        seal_package(seal_package(_book())[0])                 # already sealed: no placeholder left
    with pytest.raises(DataError, match="not a readable .xlsx"):
        package_digest(b"not a zip")
    sealed, digest = seal_package(_book())
    with zipfile.ZipFile(io.BytesIO(sealed)) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/") and b"run-1" in parts[n])
    parts[sheet] = parts[sheet].replace(b">run-1<", f">{digest}<".encode())      # the digest twice
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(DataError, match="appears 2 times"):
        package_digest(buf.getvalue())
