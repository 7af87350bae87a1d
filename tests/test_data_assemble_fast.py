"""engine.data.assemble's frames placed on the session calendar with numpy equal the pandas union-and-reindex
they replace (tests/speed_references.reference_frame): values, index, columns, dtypes and memory layout."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine.data.assemble as assemble
from speed_references import reference_frame


def _layout(df):
    return [(b.values.shape, b.values.dtype, b.values.flags["C_CONTIGUOUS"], b.values.flags["F_CONTIGUOUS"])
            for b in df._mgr.blocks]


def _same(a, b):
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_freq=True)
    assert a.columns.dtype == b.columns.dtype and a.index.name == b.index.name == "date"
    assert _layout(a) == _layout(b)


def test_placed_columns_equal_the_union_reindexed():
    days = pd.bdate_range("2020-01-01", periods=40)
    idx = pd.DatetimeIndex(days[5:35], name="date")
    rng = np.random.default_rng(1)
    cols = {"zeta": pd.Series(rng.normal(size=40), index=days),                       # wider than the index
            "alpha": pd.Series(rng.normal(size=10), index=days[10:20]),               # inside, shorter
            "mid": pd.Series([1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2020-01-04", "2020-01-15", "2021-01-01"])),
            "none": pd.Series([], index=pd.DatetimeIndex([]), dtype=float),           # no rows at all
            "ints": pd.Series(np.arange(5), index=days[30:35])}                       # integer values
    _same(assemble._frame(cols, idx), reference_frame(cols, idx))


def test_every_frame_of_the_real_market_is_the_pandas_one(shared_data, monkeypatch):
    from engine.data.folder import load_folder

    fast = load_folder(shared_data)
    monkeypatch.setattr(assemble, "_frame", reference_frame)
    slow = load_folder(shared_data)
    for name in ("prices", "close", "volume", "stress", "reference", "stale", "returns"):
        _same(getattr(fast, name), getattr(slow, name))
    assert fast.fills == slow.fills


@pytest.mark.parametrize("index", [None, pd.DatetimeIndex([], name="date")])
def test_without_an_index_or_columns_the_pandas_path_is_kept(index):
    days = pd.bdate_range("2020-01-01", periods=5)
    cols = {"b": pd.Series([1.0, 2, 3], index=days[:3]), "a": pd.Series([4.0, 5], index=days[3:])}
    _same(assemble._frame(cols, index), reference_frame(cols, index))
    _same(assemble._frame({}, index), reference_frame({}, index))
