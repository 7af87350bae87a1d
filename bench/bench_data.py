"""Data layer: import all of ../shared/data into an empty store; load it all back into memory."""
from __future__ import annotations

import tempfile
from pathlib import Path

from harness import Row

from engine.data.demo import demo_market
from engine.data.store import Store
from usecases.context import import_folders

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def rows() -> list[Row]:
    out = [Row("demo market: generate (seed 7)", lambda _: demo_market(7), target_s=None, repeat=5)]
    if not DATA.exists():
        return out
    tmp = Path(tempfile.mkdtemp(prefix="bench-data-"))
    counter = iter(range(10**6))

    def fresh_store():
        return tmp / f"s{next(counter)}.sqlite"

    loaded = tmp / "loaded.sqlite"
    import_folders([DATA], loaded)
    out += [
        Row("data: import all of ../shared/data into an empty store", lambda p: import_folders([DATA], p),
            target_s=5.0, setup=fresh_store, repeat=5),
        Row("data: load the whole store back into memory", lambda _: Store(loaded).load(), target_s=0.3, repeat=9),
    ]
    return out
