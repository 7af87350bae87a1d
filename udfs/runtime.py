"""What every UDF shares: where the data comes from, caching across calls, and error text for cells.

The UDF server is a long-lived Python process; the market is loaded once and reloaded only when the
store changes (its file signature), so a cell recalculation is an as-of lookup, not a reload.

Data source, in order: ``ROTATION_UDF_SOURCE=demo`` (the synthetic demo market), else the store
(``ROTATION_STORE`` or the user data directory), as for the command line.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable

from typing import TYPE_CHECKING

from engine.errors import RotationError

if TYPE_CHECKING:
    from engine.data.model import Market

log = logging.getLogger(__name__)
_cache: dict[str, Any] = {"key": None, "market": None}
LOCK_TIMEOUT = 1.0      # seconds a cell waits for a store locked by a writer before a clear #ERROR
ERROR_PREFIX = "#ERROR:"
_results: dict[tuple, Any] = {}
_RESULTS_MAX = 50_000


def _store_signature(path: Path) -> tuple:
    sig = []
    for p in (path, Path(str(path) + "-wal")):
        try:
            st = p.stat()
            sig.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            sig.append(None)
    return tuple(sig)


def current_market() -> "Market":
    """The market UDFs read, cached until the store changes (engine and pandas imported on first use)."""
    from engine.data.store import Store
    from usecases.context import open_market

    if os.environ.get("ROTATION_UDF_SOURCE", "").lower() == "demo":
        key: tuple = ("demo",)
        if _cache["key"] != key:
            _cache.update(key=key, market=open_market(demo=True))
        return _cache["market"]
    path = Store().path
    key = ("store", str(path), _store_signature(path))
    if _cache["key"] != key:
        _cache.update(key=key, market=open_market(store=path, timeout=LOCK_TIMEOUT))
    return _cache["market"]


def as_of_arg(value: Any, name: str = "as_of"):
    """Excel's view of a date argument -> a Timestamp, or None for the latest session.

    Empty cells arrive as None, dates as datetime (or as the serial number when the cell is not
    formatted as a date), text as str; all go through the one strict parser ``engine.dates.parse_date``
    (ISO text, datetimes, serials 1..2958465; ambiguous text, unrepresentable and future dates refused).
    """
    from engine.dates import parse_date

    return parse_date(value, name)


def error_cells(exc: RotationError):
    """The cell(s) for a product error: ``"#ERROR: <one sentence>"`` (255 characters at most, Excel's
    limit for a formula result shown in full); an error with ``conflicts`` (infeasible limits) adds one
    row per conflict below it, so the diagnosis is in words and ``LEFT(cell, 7) = "#ERROR:"`` still
    tests the top-left cell."""
    text = f"{ERROR_PREFIX} {exc}"[:255]
    conflicts = getattr(exc, "conflicts", None)
    return [[text]] + [[str(c)[:255]] for c in conflicts] if conflicts else text


def cell_errors(fn: Callable) -> Callable:
    """Return a short error text for the cell instead of raising: never a traceback in Excel."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RotationError as exc:
            return error_cells(exc)
        except Exception as exc:  # an unexpected failure still must not put a traceback in a cell
            log.exception("UDF %s failed", fn.__name__)
            return f"#ERROR: internal error ({type(exc).__name__}); see the UDF server log"[:255]
    return wrapper


def data_version() -> tuple:
    """The version of the data UDFs read (the store's file signature, or "demo"); loads it if needed."""
    current_market()
    return _cache["key"]


def _frozen(v):
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    return v


def cached(fn: Callable) -> Callable:
    """Memoize a UDF per (data version, function, arguments): recalculating 1,000 cells that ask the
    same question costs one computation. Product errors are remembered too (the same bad argument
    gives the same sentence); the cache is dropped whenever the data version changes."""
    @functools.wraps(fn)
    def wrapper(*args):
        version = data_version()
        try:
            key = (fn.__name__, version, _frozen(args))
            hash(key)
        except TypeError:                      # an unhashable argument: compute, do not remember
            return fn(*args)
        hit = _results.get(key)
        if hit is None:
            if len(_results) >= _RESULTS_MAX or (_results and next(iter(_results))[1] != version):
                _results.clear()
            try:
                hit = (True, fn(*args))
            except RotationError as exc:
                hit = (False, exc)
            _results[key] = hit
        if hit[0]:
            return hit[1]
        raise hit[1]
    return wrapper
