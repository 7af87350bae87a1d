"""Atomic writes: a workbook and its .p7s appear complete or not at all; no temp files remain."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import make_sample_workbook, trial_signer  # noqa: E402

from engine.errors import DataError  # noqa: E402
from workbooks import atomic  # noqa: E402
from workbooks import sign as sign_mod  # noqa: E402
from workbooks.sign import p7s_path_for, sign_workbook  # noqa: E402


def test_write_many_all_or_nothing(tmp_path, monkeypatch):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"old-a")
    real = atomic.write_temp
    calls = []

    def flaky(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(atomic, "write_temp", flaky)
    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_many({a: b"new-a", b: b"new-b"})
    assert a.read_bytes() == b"old-a" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]      # temp file cleaned up
    monkeypatch.setattr(atomic, "write_temp", real)
    atomic.atomic_write_many({a: b"new-a", b: b"new-b"})
    assert (a.read_bytes(), b.read_bytes()) == (b"new-a", b"new-b")


def test_atomic_path_context(tmp_path):
    target = tmp_path / "x.txt"
    with atomic.atomic_path(target) as tmp:
        tmp.write_text("hello")
        assert not target.exists()
    assert target.read_text() == "hello"
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "hello" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_sign_failure_leaves_files_untouched(tmp_path, monkeypatch):
    signer = trial_signer(tmp_path / "keys")
    book = make_sample_workbook(tmp_path / "book.xlsx")
    original = book.read_bytes()

    def boom(data, signer):
        raise RuntimeError("crash while making the .p7s")

    monkeypatch.setattr(sign_mod, "sign_cms", boom)
    with pytest.raises(RuntimeError):
        sign_workbook(book, signer)
    assert book.read_bytes() == original and not p7s_path_for(book).exists()
    monkeypatch.undo()
    info = sign_workbook(book, signer)
    assert info.p7s_path.exists() and book.read_bytes() != original
    signed = book.read_bytes()
    with pytest.raises(DataError, match="already signed"):
        sign_workbook(book, signer)
    assert book.read_bytes() == signed
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["book.xlsx", "book.xlsx.p7s"]
    with pytest.raises(DataError, match="not found"):
        sign_workbook(tmp_path / "missing.xlsx", signer)
