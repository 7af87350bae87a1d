"""The local store: SQLite (standard library, WAL mode) holding validated raw series.

Layout: one row per series in ``series`` (provenance) and one row per series field in ``columns``,
holding its dates (int64 days since 1970-01-01) and values (float64) as little-endian blobs, so
loading everything back is a handful of reads and ``np.frombuffer`` calls.

Consistency: an import writes all its series in ONE ``BEGIN IMMEDIATE`` transaction, so a reader
(whose load is one read transaction, snapshot-isolated by WAL) sees the old data or the new data,
never a mix. Re-importing the same files rewrites identical rows: idempotent.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.assemble import MAX_FILL, assemble
from engine.data.formats import RawSeries
from engine.data.model import Market, SeriesMeta
from engine.errors import DataError, NoDataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, files INTEGER NOT NULL, series INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    name TEXT PRIMARY KEY, source TEXT NOT NULL, format TEXT NOT NULL, first TEXT, last TEXT,
    rows INTEGER, gaps INTEGER, sha256 TEXT, imported_at TEXT, import_id INTEGER, line0 INTEGER);
CREATE TABLE IF NOT EXISTS lags (name TEXT PRIMARY KEY, sessions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS user_factors (
    id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT NOT NULL, sha256 TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS columns (
    name TEXT NOT NULL, field TEXT NOT NULL, dates BLOB NOT NULL, vals BLOB NOT NULL,
    PRIMARY KEY (name, field)) WITHOUT ROWID;
"""
ENV_VAR = "ROTATION_STORE"
WRITE_TIMEOUT = 30.0      # seconds an import waits for another writer
READ_TIMEOUT = 5.0        # seconds a reader waits for a lock (UDF calls pass less)


def default_store_path() -> Path:
    """$ROTATION_STORE, else ``<user data dir>/sector-rotation/store.sqlite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("sector-rotation", appauthor=False)) / "store.sqlite"


def _main_field(s: RawSeries) -> np.ndarray:
    for f in ("adj_close", "close", "value", "return"):
        if f in s.fields:
            return s.fields[f]
    return next(iter(s.fields.values()))


def _days(idx: pd.DatetimeIndex) -> np.ndarray:
    return idx.values.astype("datetime64[D]").astype("<i8")


@contextmanager
def _sqlite_errors(path: Path):
    """SQLite failures as one-sentence product errors naming the store."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DataError("the store is locked by another process (an import in progress?); "
                            "try again in a moment", str(path)) from None
        raise DataError(f"cannot use the store ({exc})", str(path)) from None
    except sqlite3.DatabaseError as exc:
        raise DataError(f"not a rotation store (SQLite) file ({exc}); pass another --store or delete it",
                        str(path)) from None


class Store:
    """A SQLite store of validated series. Cheap to construct; opens a connection per operation.
    ``timeout``: seconds a read waits for a lock before a clear DataError (imports wait longer)."""

    def __init__(self, path: Path | str | None = None, timeout: float = READ_TIMEOUT):
        self.path = Path(path) if path else default_store_path()
        self.timeout = timeout
        if self.path.is_dir():
            raise DataError("the store path is a folder; expected a SQLite file path", str(self.path))

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _sqlite_errors(self.path):
            con = sqlite3.connect(self.path, timeout=WRITE_TIMEOUT, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(SCHEMA)
        return con

    def _reader(self) -> sqlite3.Connection:
        """A read connection: no schema writes, so a writer's lock costs at most ``timeout`` seconds."""
        with _sqlite_errors(self.path):
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"series", "columns"} <= have:
            con.close()
            raise DataError("not a rotation store (no series table); pass another --store or delete it",
                            str(self.path))
        return con

    def write(self, series: list[RawSeries], imported_at: str, files: int,
              lags: dict[str, int] | None = None, user_factors=None) -> dict[str, str]:
        """Replace the given series (and lag overrides, and the user factor panel when one is given: its
        file's bytes, re-validated on load) in one transaction. Returns name -> 'new' | 'updated' | 'unchanged'."""
        status: dict[str, str] = {}
        with closing(self._connect()) as con, _sqlite_errors(self.path):
            con.execute("BEGIN IMMEDIATE")
            try:
                con.executemany("INSERT OR REPLACE INTO lags VALUES (?,?)", sorted((lags or {}).items()))
                if user_factors is not None:
                    con.execute("INSERT OR REPLACE INTO user_factors VALUES (1,?,?,?)",
                                (user_factors.source, user_factors.sha256, user_factors.raw))
                old = dict(con.execute("SELECT name, sha256 FROM series").fetchall())
                cur = con.execute("INSERT INTO imports(at, files, series) VALUES (?,?,?)",
                                  (imported_at, files, len(series)))
                import_id = cur.lastrowid
                for s in series:
                    status[s.name] = ("unchanged" if old.get(s.name) == s.sha256 else
                                      "updated" if s.name in old else "new")
                    main = _main_field(s)
                    ok = ~np.isnan(main)
                    d = s.dates[ok]
                    gaps = int((~ok).sum())
                    con.execute(
                        "INSERT OR REPLACE INTO series VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (s.name, s.source, s.format, str(d[0].date()) if len(d) else None,
                         str(d[-1].date()) if len(d) else None, int(ok.sum()), gaps, s.sha256,
                         imported_at, import_id, int(s.lines[0]) if len(s.lines) else None))
                    con.execute("DELETE FROM columns WHERE name = ?", (s.name,))
                    days = _days(s.dates).tobytes()
                    con.executemany("INSERT INTO columns VALUES (?,?,?,?)",
                                    [(s.name, f, days, np.asarray(v, "<f8").tobytes()) for f, v in s.fields.items()])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return status

    def read_series(self) -> tuple[list[RawSeries], dict[str, dict]]:
        """Every stored series (one consistent snapshot) and its provenance rows."""
        if not self.path.exists():
            raise NoDataError(f"no data imported yet: the store {self.path} does not exist; "
                              "run `rotation data import FOLDER` or pass --data FOLDER (or --demo)")
        with closing(self._reader()) as con, _sqlite_errors(self.path):
            con.execute("BEGIN")
            rows = con.execute("SELECT * FROM series ORDER BY name").fetchall()
            names = [c[0] for c in con.execute("SELECT * FROM series LIMIT 0").description]
            cols = con.execute("SELECT name, field, dates, vals FROM columns").fetchall()
            has_lags = con.execute("SELECT 1 FROM sqlite_master WHERE name='lags'").fetchone()
            self._lags = dict(con.execute("SELECT name, sessions FROM lags").fetchall()) if has_lags else {}
            has_uf = con.execute("SELECT 1 FROM sqlite_master WHERE name='user_factors'").fetchone()
            self._user_factors = con.execute("SELECT source, data FROM user_factors").fetchone() if has_uf else None
            con.execute("COMMIT")
        if not rows:
            raise NoDataError(f"no data imported yet in {self.path}; run `rotation data import FOLDER` "
                              "or pass --data FOLDER (or --demo)")
        info = {r[0]: dict(zip(names, r)) for r in rows}
        fields: dict[str, dict[str, tuple[bytes, bytes]]] = {}
        for name, field, dates, vals in cols:
            fields.setdefault(name, {})[field] = (dates, vals)
        out = []
        for name, meta in info.items():
            f = fields.get(name, {})
            if not f:
                continue
            first_dates = next(iter(f.values()))[0]
            dates = pd.DatetimeIndex(np.frombuffer(first_dates, "<i8").astype("datetime64[D]"))
            vals = {k: np.frombuffer(v, "<f8") for k, (_, v) in f.items()}
            out.append(RawSeries(name, meta["format"], meta["source"], dates, vals,
                                 lines=np.zeros(len(dates), dtype=np.int64), sha256=meta["sha256"] or ""))
        return out, info

    def load(self, max_fill: int = MAX_FILL) -> Market:
        """Load and align everything into a Market."""
        series, info = self.read_series()
        imported = max((m["imported_at"] or "" for m in info.values()), default="")
        market = assemble(series, label=f"local store {self.path}", imported_at=imported, max_fill=max_fill,
                          lags=self._lags)
        meta = {k: SeriesMeta(**{**v.__dict__, "imported_at": info[k]["imported_at"]}) for k, v in market.meta.items()}
        panel = None
        if self._user_factors is not None:
            from engine.data.user_factors import parse_factor_panel

            panel = parse_factor_panel(self._user_factors[1], self._user_factors[0])
        return Market(**{**market.__dict__, "meta": meta, "user_factors": panel})

    def status(self) -> list[dict]:
        """One row per series: name, format, source, first, last, rows, gaps, imported_at, sha256."""
        if not self.path.exists():
            return []
        with closing(self._reader()) as con, _sqlite_errors(self.path):
            cur = con.execute("SELECT name, format, source, first, last, rows, gaps, imported_at, sha256 "
                              "FROM series ORDER BY name")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def last_import(self) -> dict | None:
        if not self.path.exists():
            return None
        with closing(self._reader()) as con, _sqlite_errors(self.path):
            r = con.execute("SELECT id, at, files, series FROM imports ORDER BY id DESC LIMIT 1").fetchone()
        return dict(zip(("id", "at", "files", "series"), r)) if r else None
