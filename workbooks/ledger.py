"""Append-only, hash-chained audit ledger in SQLite.

Each entry: ``seq`` (1, 2, 3, ...), UTC time, operator, kind (``decision``, ``export``, ...),
payload (canonical JSON: sorted keys, no spaces), ``prev_hash`` (the previous entry's hash; 64
zeros for the first) and ``hash = sha256(prev_hash + canonical JSON of [seq, time, operator,
kind, payload])``. Changing, deleting, inserting or reordering an entry breaks the chain;
``verify()`` says where. Deleting the newest entries is caught through SQLite's AUTOINCREMENT
counter (``sqlite_sequence``).

What is and is not detectable:

- without an anchor: any change, deletion, insertion or reordering of an entry that is followed
  by an intact entry; deleting the newest entries while SQLite's counter is left as it was.
- only with an anchor: someone with write access who deletes the newest entries *and* resets the
  counter, rewrites the tail and re-hashes it, or empties or replaces the whole file. An anchor is
  the head ``SEQ:HASH`` kept outside the ledger: printed by ``rotation ledger anchor`` (for an
  email or a ticket), and written into every exported workbook's Audit sheet (the head before its
  own entry). ``verify(anchors=[(seq, hash)])`` proves that nothing at or before each anchor was
  changed or removed; a ledger that ends before an anchor, or holds a different hash there, fails.
- never: entries appended after the newest anchor and then removed together with it, by someone who
  also holds no copy of the anchor.

Concurrency: WAL journal, ``BEGIN IMMEDIATE`` with a busy timeout, so writers in several
processes serialize and lose nothing; an append is one transaction, so a writer killed midway
leaves the chain as it was.

Default file: ``$ROTATION_LEDGER``, else the user data dir ``sector-rotation/ledger.sqlite``.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from engine.errors import ArgumentError, DataError

log = logging.getLogger(__name__)

ENV_LEDGER = "ROTATION_LEDGER"
GENESIS = "0" * 64
BUSY_TIMEOUT_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    time      TEXT NOT NULL,
    operator  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);
"""


def default_ledger_path() -> Path:
    """``$ROTATION_LEDGER``, else ``<user data dir>/sector-rotation/ledger.sqlite``."""
    env = os.environ.get(ENV_LEDGER)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("sector-rotation", appauthor=False)) / "ledger.sqlite"


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text, no NaN (raises ArgumentError for NaN/inf or
    values JSON cannot hold)."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ArgumentError("payload", f"must be plain JSON data (str, number, bool, None, list, dict): {exc}") from exc


def entry_hash(prev_hash: str, seq: int, time: str, operator: str, kind: str, payload_json: str) -> str:
    body = canonical_json([seq, time, operator, kind, payload_json])
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One ledger entry; ``payload`` is the decoded dict."""
    seq: int
    time: str
    operator: str
    kind: str
    payload: dict
    prev_hash: str
    hash: str

    def as_dict(self) -> dict:
        return asdict(self)


def current_operator() -> str:
    """The OS user name (``ROTATION_OPERATOR`` overrides it)."""
    env = os.environ.get("ROTATION_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database
        return "unknown"


class Ledger:
    """The hash-chained ledger at ``path`` (created on first use)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path else default_ledger_path()
        self._ready = False

    # -- connection
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise DataError(f"cannot open the ledger ({exc})", file=str(self.path)) from exc
        con.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        if not self._ready:
            try:
                mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    log.warning("ledger %s: journal mode %s (WAL not available)", self.path, mode)
                con.execute("PRAGMA synchronous=FULL")
                con.execute("BEGIN IMMEDIATE")
                con.execute(SCHEMA)
                con.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                con.close()
                raise DataError(f"not a ledger database ({exc})", file=str(self.path)) from exc
            self._ready = True
        else:
            con.execute("PRAGMA synchronous=FULL")
        return con

    # -- writing
    def append(self, kind: str, operator: str | None, payload: dict) -> Entry:
        """Append one entry and return it. ``kind`` and ``operator`` are non-empty strings
        (operator None -> the OS user); ``payload`` a JSON-able dict. Safe across processes."""
        if not isinstance(kind, str) or not kind.strip():
            raise ArgumentError("kind", "must be a non-empty string such as 'decision' or 'export'")
        operator = operator if operator is not None else current_operator()
        if not isinstance(operator, str) or not operator.strip():
            raise ArgumentError("operator", "must be a non-empty string (who made the entry)")
        if not isinstance(payload, dict):
            raise ArgumentError("payload", f"must be a dict, got {type(payload).__name__}")
        body = canonical_json(payload)
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            seq_row = con.execute("SELECT seq FROM sqlite_sequence WHERE name='entries'").fetchone()
            last_seq, prev = (row[0], row[1]) if row else (0, GENESIS)
            seq = max(last_seq, seq_row[0] if seq_row else 0) + 1
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            h = entry_hash(prev, seq, now, operator, kind, body)
            con.execute("INSERT INTO entries(seq, time, operator, kind, payload, prev_hash, hash) "
                        "VALUES (?,?,?,?,?,?,?)", (seq, now, operator, kind, body, prev, h))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        log.info("ledger %s: appended #%d %s", self.path, seq, kind)
        return Entry(seq, now, operator, kind, dict(payload), prev, h)

    # -- reading
    def _query(self, sql: str, one: bool = False):
        con = self._connect()
        try:
            cur = con.execute(sql)
            return cur.fetchone() if one else cur.fetchall()
        except sqlite3.Error as exc:
            raise DataError(f"the ledger is damaged and cannot be read (SQLite: {exc}); restore it from a backup",
                            file=str(self.path)) from exc
        finally:
            con.close()

    def _rows(self) -> list[tuple]:
        return self._query("SELECT seq, time, operator, kind, payload, prev_hash, hash FROM entries ORDER BY seq")

    def entries(self) -> list[Entry]:
        """Every entry in seq order (payloads decoded; an undecodable payload becomes {})."""
        out = []
        for seq, time, op, kind, payload, prev, h in self._rows():
            try:
                data = json.loads(payload)
            except (TypeError, ValueError):
                data = {}
            out.append(Entry(seq, time, op, kind, data if isinstance(data, dict) else {}, prev, h))
        return out

    def find(self, kind: str | None = None, **payload_match: Any) -> list[Entry]:
        """Entries (of ``kind`` if given) whose payload has every ``key == value`` given."""
        return [e for e in self.entries()
                if (kind is None or e.kind == kind)
                and all(k in e.payload and e.payload[k] == v for k, v in payload_match.items())]

    def head(self) -> str:
        """The newest entry's hash (64 zeros for an empty ledger): an anchor to keep elsewhere."""
        rows = self._rows()
        return rows[-1][6] if rows else GENESIS

    def anchor(self) -> dict:
        """The head as an anchor: ``{"seq", "hash", "time", "anchor": "SEQ:HASH"}`` (seq 0 when empty)."""
        row = self._query("SELECT seq, hash, time FROM entries ORDER BY seq DESC LIMIT 1", one=True)
        seq, h, time = row if row else (0, GENESIS, "")
        return {"seq": seq, "hash": h, "time": time, "anchor": f"{seq}:{h}", "path": str(self.path)}

    def verify(self, anchors: list[tuple[int, str]] | None = None) -> dict:
        """Check the chain and each ``(seq, hash)`` anchor: ``{"ok", "entries", "head", "problems",
        "warnings"}``; problems name the seq (see the module doc for what needs an anchor)."""
        rows = self._rows()
        counter = self._query("SELECT seq FROM sqlite_sequence WHERE name='entries'", one=True)
        problems = self._chain_problems(rows, counter)
        by_seq = {r[0]: r[6] for r in rows}
        last = rows[-1][0] if rows else 0
        for seq, h in anchors or []:
            if seq == 0:
                continue
            if seq > last:
                problems.append(f"the ledger ends at entry {last} but an anchor refers to entry {seq}: "
                                "entries were removed from the end (truncated)")
            elif by_seq.get(seq) != h.lower():
                problems.append(f"entry {seq} differs from the anchor {seq}:{h[:16]}... (rewritten or removed)")
        warnings = [] if rows or anchors else [
            "the ledger is empty: without an anchor an emptied ledger cannot be told from a new one"]
        return {"ok": not problems, "entries": len(rows), "head": rows[-1][6] if rows else GENESIS,
                "last_seq": last, "problems": problems, "warnings": warnings, "path": str(self.path),
                "anchors_checked": len(anchors or [])}

    @staticmethod
    def _chain_problems(rows: list[tuple], counter) -> list[str]:
        problems: list[str] = []
        prev = GENESIS
        expected_seq = 1
        for seq, time, op, kind, payload, prev_hash, h in rows:
            if seq != expected_seq:
                if seq > expected_seq:
                    problems.append(f"entries {expected_seq}..{seq - 1} are missing (deleted)")
                else:
                    problems.append(f"entry {seq} is out of order")
            if prev_hash != prev:
                problems.append(f"entry {seq}: previous-hash link is broken (an entry before it was "
                                "deleted, inserted or changed)")
            try:
                canon = canonical_json(json.loads(payload))
            except (TypeError, ValueError, ArgumentError):
                canon = None
            if canon != payload:
                problems.append(f"entry {seq}: payload is not canonical JSON (edited)")
            if entry_hash(prev_hash, seq, str(time), str(op), str(kind), str(payload)) != h:
                problems.append(f"entry {seq}: content does not match its hash (modified)")
            prev = h
            expected_seq = seq + 1
        last = rows[-1][0] if rows else 0
        if counter is not None and counter[0] > last:
            problems.append(f"entries {last + 1}..{counter[0]} were removed from the end")
        return problems


def parse_anchor(text: str) -> tuple[int, str]:
    """``"SEQ:HASH"`` (as printed by ``rotation ledger anchor``) -> (seq, hash)."""
    seq, sep, h = str(text).strip().partition(":")
    h = h.strip().lower()
    if not sep or not seq.strip().isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise ArgumentError("--anchor", f"expected SEQ:HASH (a number, a colon, 64 hex digits), got {text!r}")
    return int(seq), h


def export_payload(info, **extra: Any) -> dict:
    """The payload of an ``export`` entry for a signed workbook (``info`` is a SignInfo):
    ``file_sha256`` (what ``verify_workbook`` looks for), file name, signer, signed_at, plus extra."""
    payload = {"file_sha256": info.sha256, "file": getattr(info, "path", None) and Path(info.path).name,
               "signer": info.signer, "signed_at": info.signed_at,
               "cert_sha256": getattr(info, "cert_sha256", None), "p7s_sha256": getattr(info, "p7s_sha256", None)}
    payload.update(extra)
    return payload
