"""Bench rows of the stress stage: the full daily index + warning probabilities, and an as-of lookup."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from harness import Row

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@lru_cache(maxsize=1)
def _market():
    if DATA.is_dir():
        from engine.data.folder import load_folder
        return load_folder(DATA), "real 1993-2019"
    from engine.data.demo import demo_market
    return demo_market(), "demo"


@lru_cache(maxsize=1)
def _result():
    from engine.stress.pipeline import compute
    return compute(_market()[0])


def rows() -> list[Row]:
    from engine.stress.pipeline import compute
    market, what = _market()
    return [
        Row("stress: daily index + regimes + warning probabilities", lambda m: compute(m), 1.0,
            setup=lambda: market, note=what),
        Row("stress: as-of reading once computed (per lookup)", lambda r: r.reading("2008-10-10"), 1e-3,
            setup=_result, repeat=51, note=what),
    ]
