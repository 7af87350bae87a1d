"""Bench rows of readings resting on the research selection record (issue 16 item 9): the stress stage with
no record (the logistic fallback), with a matching record, and past a record's end (the last choice refitted
walk-forward), plus finding and checking the record. Needs a record for ../shared/data in $ROTATION_SELECTIONS
(`rotation signals research --data ../shared/data`); rows that need one are left out without it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from harness import Row

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CUT = 126          # sessions the "past the end" record stops short of the data


@lru_cache(maxsize=1)
def _market():
    from engine.data.folder import load_folder
    return load_folder(DATA)


def short_record(rec: dict, cut: int = CUT) -> dict:
    """``rec`` as the research on the data without its last ``cut`` sessions would have written it (the
    procedure is point in time: tests/test_selection_record.py proves the prefix equal)."""
    n = len(rec["sessions"]) - cut
    return {**rec, "sessions": rec["sessions"][:n], "procedure": rec["procedure"][:n], "chain": rec["chain"][:n],
            "last": rec["sessions"][n - 1], "schedule": [s for s in rec["schedule"] if s["position"] < n]}


def rows() -> list[Row]:
    from engine.stress.config import StressConfig
    from engine.stress.pipeline import compute
    from usecases.selection_store import read_record, record_path

    if not DATA.is_dir():
        return []
    market = _market()
    cfg = StressConfig.default()
    out = [Row("selected: no record (logistic fallback), full stage", lambda m: compute(m, cfg, None), 2.0,
               setup=lambda: market, note="real 1993-2019", repeat=3)]
    got = read_record(record_path(market, cfg))
    if got is None:
        return out
    sel = (got[0], got[1], "record")
    short = (short_record(got[0]), got[1], "record")
    out += [Row("selected: matching record, full stage", lambda m: compute(m, cfg, sel), 2.0, setup=lambda: market,
                note="real 1993-2019", repeat=3),
            Row(f"selected: {CUT} sessions past the record, full stage", lambda m: compute(m, cfg, short), 3.0,
                setup=lambda: market, note="real 1993-2019", repeat=3),
            Row("selected: find + parse + check the record", lambda m: read_record(record_path(m, cfg)), 0.2,
                setup=lambda: market, note="real 1993-2019", repeat=3)]
    return out
