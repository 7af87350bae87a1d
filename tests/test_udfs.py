"""=BOND_STRESS() through xlwings' real Excel-facing decorators and conversions (see tests/xlwings_harness.py)."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

import xlwings_harness as xh
from usecases import signals
from usecases.context import open_market


@pytest.fixture()
def udfs(monkeypatch):
    monkeypatch.setenv("ROTATION_UDF_SOURCE", "demo")
    mod, xu = xh.reload_with_real_decorators("udfs.functions", monkeypatch)
    yield mod, xu
    import importlib

    monkeypatch.undo()
    importlib.reload(mod)            # back to the plain (identity-decorated) module


def test_bond_stress_metadata_is_what_excel_imports(udfs):
    mod, _ = udfs
    info = mod.BOND_STRESS.__xlfunc__
    assert info["name"] == "BOND_STRESS"
    assert info["category"] == "Sector Rotation"
    assert [a["name"] for a in info["args"]] == ["as_of"]
    assert "optional" in info["args"][0] and info["args"][0]["optional"] is None
    assert "empty for the latest session" in info["args"][0]["doc"]
    assert info["ret"]["doc"].startswith("Composite bond stress index")
    assert not info["volatile"] and info["async_mode"] is None


def test_generated_vba_wrapper(udfs):
    mod, xu = udfs

    class Book:
        Name = "SectorRotation.xlam"

    buf = io.StringIO()
    xu.generate_vba_wrapper("udfs.functions", mod, buf, Book())
    vba = buf.getvalue()
    assert "Function BOND_STRESS(Optional as_of)" in vba
    assert 'Py.CallUDF("udfs.functions", "BOND_STRESS"' in vba


def test_values_equal_the_cli_use_case(udfs):
    mod, _ = udfs
    market = open_market(demo=True)
    latest = signals.reading(market, None, with_defensive=False)
    at = signals.reading(market, "2008-10-10", with_defensive=False)
    assert xh.excel_call(mod.BOND_STRESS, xh.MISSING) == [[latest["index"]]]
    assert xh.excel_call(mod.BOND_STRESS, None) == [[latest["index"]]]        # empty cell
    assert xh.excel_call(mod.BOND_STRESS, "2008-10-10") == [[at["index"]]]
    assert xh.excel_call(mod.BOND_STRESS, datetime(2008, 10, 10)) == [[at["index"]]]
    assert xh.excel_call(mod.BOND_STRESS, 39731.0) == [[at["index"]]]         # Excel serial of 2008-10-10
    # a weekend date reads the last session before it
    assert xh.excel_call(mod.BOND_STRESS, "2008-10-12") == [[at["index"]]]


@pytest.mark.parametrize("arg,words", [
    ("not a date", "as_of: expected a date like 2008-10-10"),
    ("1990-01-01", "before the first stress reading"),
    (True, "as_of: expected a date"),
    (-5.0, "as_of: expected a date or an Excel date number"),
])
def test_bad_input_is_a_short_error_text(udfs, arg, words):
    mod, _ = udfs
    [[out]] = xh.excel_call(mod.BOND_STRESS, arg)
    assert isinstance(out, str) and out.startswith("#ERROR:") and words in out
    assert "Traceback" not in out and len(out) <= 255


def test_no_data_imported_yet(udfs, monkeypatch, tmp_path):
    mod, _ = udfs
    monkeypatch.delenv("ROTATION_UDF_SOURCE")
    monkeypatch.setenv("ROTATION_STORE", str(tmp_path / "empty.sqlite"))
    [[out]] = xh.excel_call(mod.BOND_STRESS, xh.MISSING)
    assert out.startswith("#ERROR: no data imported yet") and "rotation data import" in out


def test_every_udf_has_docs_and_no_keyword_only_args(udfs):
    import inspect

    mod, _ = udfs
    funcs = [v for v in vars(mod).values() if hasattr(v, "__xlfunc__")]
    assert funcs
    for f in funcs:
        assert f.__xlfunc__["ret"]["doc"], f.__name__
        for a in f.__xlfunc__["args"]:
            assert a["doc"], (f.__name__, a["name"])
        params = inspect.signature(f).parameters.values()
        assert all(p.kind is not inspect.Parameter.KEYWORD_ONLY for p in params)


@pytest.mark.parametrize("arg,words", [
    ("10.06.2008", "ambiguous"),
    ("03/04/2008", "2008-04-03 or 2008-03-04"),
    (2958465, "outside the dates this product handles"),
    ("9999-12-31", "outside the dates this product handles"),
    ("2999-01-01", "outside the dates"),
    ("2200-01-01", "in the future"),
])
def test_dates_cells_cannot_misread_are_short_errors(udfs, arg, words):
    mod, _ = udfs
    [[out]] = xh.excel_call(mod.BOND_STRESS, arg)
    assert isinstance(out, str) and out.startswith("#ERROR:") and words in out and "internal error" not in out


def _locked_store(tmp_path, wal: bool):
    import sqlite3

    from engine.data.formats import RawSeries
    from engine.data.store import Store
    import numpy as np
    import pandas as pd

    path = tmp_path / "s.sqlite"
    d = pd.bdate_range("2019-01-01", periods=5)
    Store(path).write([RawSeries("XLK", "yahoo_close", "XLK.csv", d, {"adj_close": np.arange(1.0, 6.0)},
                                 np.arange(2, 7))], "2020-01-01T00:00:00", 1)
    con = sqlite3.connect(path, isolation_level=None, timeout=0)
    if not wal:
        con.execute("PRAGMA journal_mode=DELETE")
    con.execute("BEGIN EXCLUSIVE")
    return path, con


def test_a_store_locked_by_a_writer_is_a_quick_clear_cell_error(udfs, monkeypatch, tmp_path):
    import time

    from udfs import runtime

    mod, _ = udfs
    monkeypatch.delenv("ROTATION_UDF_SOURCE")
    path, con = _locked_store(tmp_path, wal=False)     # rollback journal: readers really are locked out
    monkeypatch.setenv("ROTATION_STORE", str(path))
    runtime._cache.update(key=None, market=None)
    t0 = time.perf_counter()
    [[out]] = xh.excel_call(mod.BOND_STRESS, xh.MISSING)
    took = time.perf_counter() - t0
    con.rollback() if con.in_transaction else None
    con.close()
    assert out.startswith("#ERROR:") and "locked by another process" in out and took < 5


def test_a_wal_store_being_written_is_still_read(tmp_path):
    from engine.data.store import Store

    path, con = _locked_store(tmp_path, wal=True)      # an import holding the write lock
    try:
        series, _ = Store(path, timeout=0.5).read_series()
        assert [s.name for s in series] == ["XLK"]
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_a_store_that_is_not_sqlite_is_a_clean_error(udfs, monkeypatch, tmp_path):
    mod, _ = udfs
    monkeypatch.delenv("ROTATION_UDF_SOURCE")
    bad = tmp_path / "notes.sqlite"
    bad.write_text("this is not a database\n" * 100)
    monkeypatch.setenv("ROTATION_STORE", str(bad))
    [[out]] = xh.excel_call(mod.BOND_STRESS, xh.MISSING)
    assert out.startswith("#ERROR:") and "not a rotation store" in out
