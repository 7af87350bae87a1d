"""Where market data comes from, for every face (CLI, ribbon, UDFs).

Resolution order: ``demo`` -> the synthetic demo market (``demo`` with ``data`` or ``store`` is an
ArgumentError: one data source per command); ``data`` -> validate that folder and use it in memory
(nothing is left on disk), or import it into ``store`` when one is given (kept); else the store
(``store``, ``$ROTATION_STORE`` or the user data directory). No data at all is a NoDataError that
says what to do, never a silent fallback to demo numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from engine.data.assemble import assemble
from engine.data.folder import folder_mapping, now_utc, read_files, read_mapping, read_user_factors, with_user_factors
from engine.data.model import Market
from engine.data.store import Store
from engine.dates import parse_as_of
from engine.errors import ArgumentError, NoDataError


@dataclass(frozen=True)
class ImportReport:
    store: Path
    files: int
    series: dict[str, str]      # name -> new / updated / unchanged
    skipped: list[str] = field(default_factory=list)    # files skipped as unknown (--skip-unknown)
    user_factors: str | None = None                     # the factors.csv imported with them (kept until replaced)


def _read(folders: list[Path], mapping: Path | None, skip_unknown: bool, map_files=None):
    paths = [Path(f) for f in folders]
    m = read_mapping(mapping) if mapping else folder_mapping(paths)
    skipped: list[str] = []
    series = read_files(paths, m, skip_unknown=skip_unknown, skipped=skipped, map_files=map_files)
    return series, m, skipped, read_user_factors(paths)


def import_folders(folders: list[Path], store: Path | None = None, mapping: Path | None = None,
                   skip_unknown: bool = False) -> ImportReport:
    """Validate every file in ``folders`` and write them to the store in one transaction (all or nothing)."""
    series, m, skipped, panel = _read(folders, mapping, skip_unknown)
    files = len({s.source for s in series}) + (panel is not None)
    st = Store(store)
    status = st.write(series, now_utc(), files=files, lags=m.lags, user_factors=panel)
    return ImportReport(st.path, files, status, skipped, None if panel is None else panel.source)


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
    from engine.data.demo import demo_market

    return demo_market(seed)


def open_market(data: Path | None = None, store: Path | None = None, demo: bool = False,
                mapping: Path | None = None, skip_unknown: bool = False, timeout: float | None = None,
                meanwhile=None) -> Market:
    """The Market every use case runs on (see module docstring for the resolution order).

    ``meanwhile``: a callable this process runs while a ``data`` folder is read and validated on the
    second core (:mod:`usecases.parallel`; the export imports its workbook modules then); with any other
    source, or serial, it runs first. The market is the same either way."""
    if demo:
        if data is not None or store is not None:
            raise ArgumentError("--demo", "cannot be combined with --data or --store; choose one data source")
        _run(meanwhile)
        return _demo(7)
    if data is not None:
        if store is not None:
            _run(meanwhile)
            import_folders([Path(data)], store, mapping, skip_unknown)
            market = Store(store).load()
            return Market(**{**market.__dict__, "label": f"vendor files in {data}"})
        from usecases import parallel

        def shared(read, files):   # the files shared with a forked child; this process joins after ``meanwhile``
            return parallel.shared_map(read, files, meanwhile)
        series, m, _, panel = _read([Path(data)], mapping, skip_unknown, shared)
        market = assemble(series, label=f"vendor files in {data}", imported_at=now_utc(), lags=m.lags)
        return with_user_factors(market, panel)
    _run(meanwhile)
    return (Store(store, timeout=timeout) if timeout is not None else Store(store)).load()


def _run(fn) -> None:
    if fn is not None:
        fn()
