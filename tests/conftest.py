"""Shared fixtures: the real data folder (skipped when absent), the real and demo markets."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's store, keys or ledger from a test."""
    base = tmp_path_factory.getbasetemp() / "userdirs"
    monkeypatch.setenv("ROTATION_STORE", str(base / "store.sqlite"))
    monkeypatch.setenv("ROTATION_LEDGER", str(base / "ledger.sqlite"))
    monkeypatch.setenv("ROTATION_KEYS_DIR", str(base / "keys"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_market(shared_data):
    from engine.data.folder import load_folder

    return load_folder(shared_data)


@pytest.fixture(scope="session")
def demo():
    from engine.data.demo import demo_market

    return demo_market()
