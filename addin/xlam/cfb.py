"""A minimal writer of Microsoft compound files (MS-CFB version 3, 512-byte sectors), enough for a
``vbaProject.bin``: storages and streams, streams under 4096 bytes in the mini stream.

Directory siblings are a balanced binary tree ordered as the format requires (shorter names first,
then upper-cased names), every node black, as Apache POI and LibreOffice write them. Read back with
``olefile`` in the tests.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class Node:
    name: str
    data: bytes | None = None                 # None: a storage
    children: list["Node"] = field(default_factory=list)

    def add(self, path: str, data: bytes | None = None) -> "Node":
        """Add ``a/b/c`` (storages made on the way); ``data`` None makes a storage."""
        head, _, rest = path.partition("/")
        for c in self.children:
            if c.name == head:
                return c.add(rest, data) if rest else c
        node = Node(head, data if not rest else None)
        self.children.append(node)
        return node.add(rest, data) if rest else node


def _key(n: Node):
    return (len(n.name), n.name.upper())


def _flatten(root: Node) -> list[Node]:
    out, todo = [], [root]
    while todo:
        n = todo.pop(0)
        out.append(n)
        todo += sorted(n.children, key=_key)
    return out


def _tree(nodes: list[Node], ids: dict[int, int], links: dict[int, list]) -> int:
    """Balanced tree over siblings sorted by _key; returns the root's id, fills left/right links."""
    if not nodes:
        return NOSTREAM
    mid = len(nodes) // 2
    me = ids[id(nodes[mid])]
    links[me][0] = _tree(nodes[:mid], ids, links)
    links[me][1] = _tree(nodes[mid + 1:], ids, links)
    return me


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else END


def write(root: Node) -> bytes:
    """The compound file holding ``root``'s tree (``root.name`` is ignored: "Root Entry")."""
    entries = _flatten(root)
    ids = {id(n): i for i, n in enumerate(entries)}
    links = {i: [NOSTREAM, NOSTREAM, NOSTREAM] for i in range(len(entries))}
    for n in entries:
        if n.data is None:
            links[ids[id(n)]][2] = _tree(sorted(n.children, key=_key), ids, links)
    mini, minifat, big, start = bytearray(), [], [], {}
    for n in entries[1:]:
        if n.data is None:
            start[id(n)] = 0
        elif not n.data:
            start[id(n)] = END
        elif len(n.data) < CUTOFF:
            k, cnt = len(mini) // MINI, -(-len(n.data) // MINI)
            start[id(n)] = k
            minifat += [k + i + 1 if i < cnt - 1 else END for i in range(cnt)]
            mini += n.data + b"\0" * (cnt * MINI - len(n.data))
        else:
            big.append(n)
    n_dir = len(entries) + (-len(entries)) % (SECTOR // 128)
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    parts = [("dir", b"\0" * (n_dir * 128)), ("minifat", minifat_bytes), ("mini", bytes(mini))] + \
            [(id(n), n.data) for n in big]
    sizes = [-(-len(b) // SECTOR) for _, b in parts]
    nfat = 1
    while nfat * (SECTOR // 4) < nfat + sum(sizes):
        nfat += 1
    if nfat > 109:
        raise ValueError("compound file too large for this writer (more than 109 FAT sectors)")
    fat = [FREE] * (nfat * SECTOR // 4)
    fat[:nfat] = [FATSECT] * nfat
    pos, first = nfat, {}
    for (key, _), cnt in zip(parts, sizes):
        first[key] = pos if cnt else END
        _chain(fat, pos, cnt)
        pos += cnt
    start.update({id(n): first[id(n)] for n in big})
    start[id(entries[0])] = first["mini"]
    dir_bytes = b"".join(_entry(n, i, links[i], start[id(n)], len(mini)) for i, n in enumerate(entries))
    dir_bytes += b"".join(_empty() for _ in range(n_dir - len(entries)))
    out = bytearray(_header(nfat, first["dir"], first["minifat"], sizes[1]))
    out += b"".join(struct.pack("<I", v) for v in fat)
    for (key, b), cnt in zip(parts, sizes):
        b = dir_bytes if key == "dir" else b
        out += b + b"\0" * (cnt * SECTOR - len(b))
    return bytes(out)


def _header(nfat: int, first_dir: int, first_minifat: int, n_minifat: int) -> bytes:
    h = bytearray()
    h += bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
    h += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\0" * 6
    h += struct.pack("<IIIIIIIII", 0, nfat, first_dir, 0, CUTOFF, first_minifat if n_minifat else END,
                     n_minifat, END, 0)
    difat = list(range(nfat)) + [FREE] * (109 - nfat)
    h += b"".join(struct.pack("<I", v) for v in difat)
    assert len(h) == SECTOR
    return bytes(h)


def _entry(n: Node, i: int, link: list, start: int, mini_size: int) -> bytes:
    name = "Root Entry" if i == 0 else n.name
    if len(name) > 31:
        raise ValueError(f"compound file entry name longer than 31 characters: {name!r}")
    raw = name.encode("utf-16-le") + b"\0\0"
    kind = 5 if i == 0 else (1 if n.data is None else 2)
    size = mini_size if i == 0 else (len(n.data) if n.data is not None else 0)
    e = raw + b"\0" * (64 - len(raw))
    e += struct.pack("<HBB", len(raw), kind, 1)
    e += struct.pack("<III", *link)
    e += b"\0" * 36                                        # CLSID, state bits, creation and modified times
    e += struct.pack("<IQ", start, size)
    return e


def _empty() -> bytes:
    return b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + \
        b"\0" * 36 + struct.pack("<IQ", 0, 0)
