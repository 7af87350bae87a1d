"""Shared fixtures: the real data folder (skipped when absent), the real and demo markets."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs_session(tmp_path_factory):
    """The same isolation for session- and module-scoped fixtures (they run before function fixtures)."""
    import os

    base = tmp_path_factory.getbasetemp() / "userdirs"
    keys = {"ROTATION_STORE": "store.sqlite", "ROTATION_LEDGER": "ledger.sqlite", "ROTATION_KEYS_DIR": "keys"}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: str(base / v) for k, v in keys.items()})
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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
