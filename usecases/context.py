"""Where market data comes from, for every face (CLI, ribbon, UDFs).

Resolution order: ``demo`` -> the synthetic demo market; ``data`` -> import that folder into a
store (``store`` if given, else a temporary one) and load it; else the store (``store``,
``$ROTATION_STORE`` or the user data directory). No data at all is a NoDataError that says what
to do, never a silent fallback to demo numbers.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from engine.data.demo import demo_market
from engine.data.folder import now_utc, read_files, read_mapping
from engine.data.model import Market
from engine.data.store import Store
from engine.dates import parse_as_of
from engine.errors import NoDataError


@dataclass(frozen=True)
class ImportReport:
    store: Path
    files: int
    series: dict[str, str]      # name -> new / updated / unchanged


def import_folders(folders: list[Path], store: Path | None = None, mapping: Path | None = None) -> ImportReport:
    """Validate every file in ``folders`` and write them to the store in one transaction (all or nothing)."""
    series = read_files([Path(f) for f in folders], read_mapping(mapping) if mapping else None)
    files = len({s.source for s in series})
    st = Store(store)
    return ImportReport(st.path, files, st.write(series, now_utc(), files=files))


def decision_date(market: Market, as_of=None) -> pd.Timestamp:
    """The session a decision "as of" ``as_of`` uses: the last session at or before it (None: the last).
    ArgumentError for text that is not a date, NoDataError for a date before the data starts."""
    t = parse_as_of(as_of)
    if t is None:
        return market.last
    try:
        return market.session_on_or_before(t)
    except KeyError as exc:
        raise NoDataError(f"as_of {t.date()}: {exc.args[0]}") from None


@lru_cache(maxsize=4)
def _demo(seed: int) -> Market:
    return demo_market(seed)


def open_market(data: Path | None = None, store: Path | None = None, demo: bool = False,
                mapping: Path | None = None) -> Market:
    """The Market every use case runs on (see module docstring for the resolution order)."""
    if demo:
        return _demo(7)
    if data is not None:
        target = Path(store) if store else Path(tempfile.mkdtemp(prefix="rotation-")) / "store.sqlite"
        import_folders([Path(data)], target, mapping)
        market = Store(target).load()
        return Market(**{**market.__dict__, "label": f"vendor files in {data}"})
    return Store(store).load()
