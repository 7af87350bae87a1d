"""A VBA project (``vbaProject.bin``) written from module sources, following MS-OVBA's rules for writers.

What is written: the ``PROJECT`` and ``PROJECTwm`` streams, ``VBA/_VBA_PROJECT`` without a performance
cache (copied from the xlwings template, which ships that way: version 0xFFFF makes Office compile
from source), ``VBA/dir`` (the template's project information and references kept byte for byte, a
new module list), and one stream per module holding only its compressed source (offset 0). The
template's project ID and protection fields (CMG/DPB/GC, an unprotected project) are kept.

Compression is MS-OVBA 2.4.1 (LZ77 with a bit split that depends on the position in the chunk); the
tests decompress with oletools' independent implementation.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import olefile

from addin.xlam.cfb import Node, write

CHUNK = 4096


# ---- compression (MS-OVBA 2.4.1.3.6 - 2.4.1.3.19) -----------------------------------------------

def _bit_count(pos: int) -> int:
    return max((pos - 1).bit_length(), 4) if pos > 1 else 4


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    n, i = len(chunk), 0
    heads: dict[bytes, list[int]] = {}
    while i < n:
        flag_at, flags = len(out), 0
        out.append(0)
        for bit in range(8):
            if i >= n:
                break
            bc = _bit_count(i)
            max_off, max_len = 1 << bc, (0xFFFF >> bc) + 3
            best_len, best_off = 0, 0
            for j in reversed(heads.get(chunk[i:i + 3], [])[-64:]):
                if i - j > max_off:
                    break
                k = 0
                while k < max_len and i + k < n and chunk[j + k] == chunk[i + k]:
                    k += 1
                if k > best_len:
                    best_len, best_off = k, i - j
                    if k == max_len:
                        break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                flags |= 1 << bit
                out += struct.pack("<H", ((best_off - 1) << (16 - bc)) | (best_len - 3))
            else:
                out.append(chunk[i])
            for p in range(i, i + step):
                heads.setdefault(chunk[p:p + 3], []).append(p)
            i += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA compressed container of ``data``."""
    out = bytearray(b"\x01")
    for s in range(0, len(data), CHUNK):
        chunk = data[s:s + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) > CHUNK:
            if len(chunk) != CHUNK:
                raise ValueError("incompressible final chunk: not VBA source text")
            out += struct.pack("<H", 0x3000 | (CHUNK + 2 - 3)) + chunk      # raw chunk (flag 0)
        else:
            out += struct.pack("<H", 0x8000 | 0x3000 | (len(body) + 2 - 3)) + body
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Inverse of :func:`compress` (used to read the template; oletools checks ours independently)."""
    from oletools.olevba import decompress_stream

    return bytes(decompress_stream(bytearray(data)))


# ---- the project ---------------------------------------------------------------------------------

@dataclass
class Module:
    name: str
    kind: str            # "module", "class" or "document"
    source: str          # CRLF line ends, with its Attribute lines
    doc_ref: str = "&H00000000"


def _records(buf: bytes, pos: int):
    while pos + 6 <= len(buf):
        rid, size = struct.unpack_from("<HI", buf, pos)
        yield rid, buf[pos + 6:pos + 6 + size], pos
        pos += 6 + size


def read_template(vba_bin: bytes) -> tuple[bytes, list[Module], dict]:
    """(dir prefix up to the module list, modules with sources, PROJECT stream fields) of a vbaProject.bin."""
    import io

    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    d = decompress(ole.openstream("VBA/dir").read())
    start = d.find(b"\x0f\x00\x02\x00\x00\x00")
    while start >= 0 and d[start + 8:start + 14] != b"\x13\x00\x02\x00\x00\x00":
        start = d.find(b"\x0f\x00\x02\x00\x00\x00", start + 1)
    if start < 0:
        raise ValueError("template vbaProject.bin: no module list in VBA/dir")
    project = ole.openstream("PROJECT").read().decode("cp1252")
    kinds = {}
    for line in project.splitlines():
        k, _, v = line.partition("=")
        if k in ("Module", "Class", "Document"):
            kinds[v.split("/")[0]] = (k.lower(), v.partition("/")[2] or "&H00000000")
    modules, cur = [], {}
    for rid, payload, _ in _records(d, start + 16):
        if rid == 0x0019:
            cur = {"name": payload.decode("cp1252")}
        elif rid == 0x001A:
            cur["stream"] = payload.decode("cp1252")
        elif rid == 0x0031:
            cur["offset"] = struct.unpack("<I", payload)[0]
        elif rid == 0x002B:
            raw = ole.openstream(f"VBA/{cur['stream']}").read()[cur["offset"]:]
            kind, ref = kinds[cur["name"]]
            modules.append(Module(cur["name"], kind, decompress(raw).decode("cp1252"), ref))
        elif rid == 0x0010:
            break
    fields = dict(line.split("=", 1) for line in project.split("\r\n\r\n")[0].splitlines() if "=" in line)
    return d[:start], modules, fields


def _rec(rid: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _dir(prefix: bytes, modules: list[Module]) -> bytes:
    out = bytearray(prefix)
    out += struct.pack("<HIH", 0x000F, 2, len(modules)) + struct.pack("<HIH", 0x0013, 2, 0xFFFF)
    for m in modules:
        mb, mu = m.name.encode("cp1252"), m.name.encode("utf-16-le")
        out += _rec(0x0019, mb) + _rec(0x0047, mu) + _rec(0x001A, mb) + _rec(0x0032, mu)
        out += _rec(0x001C) + _rec(0x0048) + _rec(0x0031, struct.pack("<I", 0))
        out += _rec(0x001E, struct.pack("<I", 0)) + _rec(0x002C, struct.pack("<H", 0xFFFF))
        out += _rec(0x0021 if m.kind == "module" else 0x0022)
        out += _rec(0x002B)
    out += struct.pack("<HI", 0x0010, 0)
    return bytes(out)


def _project_stream(modules: list[Module], fields: dict, name: str) -> bytes:
    lines = [f"ID={fields['ID']}"]
    for m in modules:
        lines.append({"document": f"Document={m.name}/{m.doc_ref}", "class": f"Class={m.name}",
                      "module": f"Module={m.name}"}[m.kind])
    lines += [f'Name="{name}"', 'HelpContextID="0"', f"VersionCompatible32={fields['VersionCompatible32']}",
              f"CMG={fields['CMG']}", f"DPB={fields['DPB']}", f"GC={fields['GC']}", "",
              "[Host Extender Info]", "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", "",
              "[Workspace]"] + [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _rename_project(prefix: bytes, old: str, new: str) -> bytes:
    rec_old, rec_new = _rec(0x0004, old.encode("cp1252")), _rec(0x0004, new.encode("cp1252"))
    if prefix.count(rec_old) != 1:
        raise ValueError(f"template VBA/dir: project name {old!r} not found once")
    return prefix.replace(rec_old, rec_new)


def build_project(template_bin: bytes, modules: list[Module], name: str, vba_project_header: bytes) -> bytes:
    """A vbaProject.bin with ``modules`` (in order), the template's information/references, named ``name``."""
    prefix, _, fields = read_template(template_bin)
    prefix = _rename_project(prefix, fields["Name"].strip('"'), name)
    root = Node("Root Entry")
    root.add("PROJECT", _project_stream(modules, fields, name))
    wm = b"".join(m.name.encode("cp1252") + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules)
    root.add("PROJECTwm", wm + b"\0\0")
    root.add("VBA/_VBA_PROJECT", vba_project_header)
    root.add("VBA/dir", compress(_dir(prefix, modules)))
    for m in modules:
        src = m.source.replace("\r\n", "\n").replace("\n", "\r\n")
        root.add(f"VBA/{m.name}", compress(src.encode("cp1252")))
    return write(root)
