"""The content digest sealed on the Audit sheet: everything a reader of the workbook sees.

Canonical form (computed on the saved package, so it needs no re-reading through openpyxl and covers
any sheet a later stage adds without code here):

    SHA-256 over, for every part of the .xlsx package in byte order of its name, except
    ``[Content_Types].xml``, ``_rels/.rels``, ``docProps/*`` and ``_xmlsignatures/*``:
        the part name (UTF-8), a NUL byte, the part's length as 12 decimal digits, the part's bytes,
    where the one string element ``>DIGEST<`` holding the value of the cell named
    ``AuditContentDigest`` is read as ``>PLACEHOLDER<`` (:data:`PLACEHOLDER`).

So the digest covers every sheet's cell values, formulas, number formats and styles, merged cells,
column widths, print areas, defined names (``xl/workbook.xml``), tables (``xl/tables/*``), charts
(series references, titles, axes: ``xl/charts/*``), drawings, comments and every cell of the Audit
sheet except the digest cell itself. The excluded parts are the ones signing itself rewrites (content
types, package relationships) or that hold document metadata (docProps); the detached ``.p7s``, which
signs the exact file bytes, covers them, as it covers a re-zip or trailing bytes.

Sealing (:func:`seal_package`): the writer puts :data:`PLACEHOLDER` in the digest cell, saves, and
this module computes the digest of the saved bytes and writes it in place of the placeholder.
"""
from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from engine.errors import DataError

AUDIT_NAME = "AuditContentDigest"
PLACEHOLDER = "(content digest: sealed after saving)"
EXCLUDED = ("[Content_Types].xml", "_rels/.rels")
EXCLUDED_PREFIXES = ("docProps/", "_xmlsignatures/")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _parts(data: bytes, what: str = "workbook") -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: z.read(i.filename) for i in z.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise DataError(f"the {what} is not a readable .xlsx package ({exc})") from exc


def covered(name: str) -> bool:
    """True when part ``name`` is inside the digest (see the module doc)."""
    return name not in EXCLUDED and not name.startswith(EXCLUDED_PREFIXES)


def _text(s: str) -> bytes:
    """``s`` as it appears between tags in the XML openpyxl writes."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _digest(parts: dict[str, bytes], value: str | None) -> str:
    old, new = (b">" + _text(value) + b"<", b">" + _text(PLACEHOLDER) + b"<") if value else (None, None)
    h = hashlib.sha256()
    hits = 0
    for name in sorted(parts, key=lambda n: n.encode("utf-8")):
        if not covered(name):
            continue
        body = parts[name]
        if old is not None and old in body:
            hits += body.count(old)
            body = body.replace(old, new)
        h.update(name.encode("utf-8") + b"\0" + b"%012d" % len(body) + body)
    if old is not None and hits != 1:
        raise DataError(f"the digest cell's value appears {hits} times in the package; exactly once is expected")
    return h.hexdigest()


def _sheet_part(parts: dict[str, bytes], title: str) -> str | None:
    wbx = etree.fromstring(parts["xl/workbook.xml"])
    rid = next((s.get(f"{{{NS['r']}}}id") for s in wbx.iterfind("m:sheets/m:sheet", NS) if s.get("name") == title),
               None)
    rels = etree.fromstring(parts.get("xl/_rels/workbook.xml.rels", b"<r/>"))
    target = next((r.get("Target") for r in rels.iterfind("pr:Relationship", NS) if r.get("Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _destination(parts: dict[str, bytes], name: str) -> tuple[str, str] | None:
    wbx = etree.fromstring(parts["xl/workbook.xml"])
    for dn in wbx.iterfind("m:definedNames/m:definedName", NS):
        if dn.get("name") == name and dn.get("localSheetId") is None and dn.text and "!" in dn.text:
            sheet, ref = dn.text.rsplit("!", 1)
            return sheet.strip("'").replace("''", "'"), ref.replace("$", "").split(":")[0]
    return None


def named_cell_text(parts: dict[str, bytes], name: str) -> str | None:
    """The text of the cell a workbook-level defined name points at, read from the package XML."""
    try:
        dest = _destination(parts, name)
        part = _sheet_part(parts, dest[0]) if dest else None
        if part is None or part not in parts:
            return None
        cell = etree.fromstring(parts[part]).find(f".//m:c[@r='{dest[1]}']", NS)
        if cell is None:
            return None
        kind, v = cell.get("t"), cell.findtext("m:v", None, NS)
        if kind == "s" and v is not None:
            sst = etree.fromstring(parts["xl/sharedStrings.xml"])
            si = sst.findall("m:si", NS)[int(v)]
            return "".join(si.itertext())
        if kind == "inlineStr":
            return "".join(cell.find("m:is", NS).itertext())
        return v
    except (KeyError, IndexError, ValueError, etree.XMLSyntaxError):
        return None


def package_digest(data: bytes | dict[str, bytes]) -> tuple[str | None, str]:
    """(digest stored in the cell named ``AuditContentDigest`` or None, digest recomputed); ``data``: the
    package bytes or its parts already read (name -> bytes)."""
    parts = data if isinstance(data, dict) else _parts(data)
    stored = named_cell_text(parts, AUDIT_NAME)
    return stored, _digest(parts, stored if stored and stored != PLACEHOLDER else None)


def seal_package(data: bytes, compress: bool = True) -> tuple[bytes, str]:
    """Compute the digest of a saved workbook whose digest cell holds :data:`PLACEHOLDER` and write it
    in its place; returns (new package bytes, digest). Raises DataError without the placeholder.
    ``compress=False`` stores the parts uncompressed (an intermediate the signer re-packs anyway)."""
    parts = _parts(data)
    digest = _digest(parts, None)
    old, new = b">" + _text(PLACEHOLDER) + b"<", b">" + digest.encode("ascii") + b"<"
    hits = [n for n, b in parts.items() if covered(n) and old in b]
    if len(hits) != 1 or parts[hits[0]].count(old) != 1:
        raise DataError("the workbook has no (or more than one) content-digest placeholder to seal")
    parts[hits[0]] = parts[hits[0]].replace(old, new)
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info, parts.get(info.filename, b""), compress_type=method)
    return out.getvalue(), digest


def content_digest(path_or_bytes) -> str:
    """The recomputed content digest of a saved workbook (path or bytes), per the module doc."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else _read(path_or_bytes)
    return package_digest(data)[1]


def read_audit_digest(path_or_bytes) -> str | None:
    """The digest stored in the cell named ``AuditContentDigest`` of a saved workbook, or None."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else _read(path_or_bytes)
    stored = named_cell_text(_parts(data), AUDIT_NAME)
    return None if not stored or stored == PLACEHOLDER else stored.strip()


def _read(path) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise DataError("workbook not found", file=str(p))
    return p.read_bytes()
