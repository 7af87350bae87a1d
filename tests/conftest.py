"""Shared fixtures: the real data folder, the real and demo markets, and the CI rule.

CI rule: under ``CI=true`` a test whose dependency CI installs (``../shared/data``, LibreOffice /
python3-uno / poppler, openssl) FAILS instead of skipping when that dependency is missing. Use
:func:`require` (or the ``shared_data`` fixture); a plain ``pytest.skip``/``skipif`` whose reason
names one of these dependencies is turned into a failure by the hook below, so no test can hide.
Tests that take more than ~20 s are marked ``@pytest.mark.slow``.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CI_DEPENDENCIES = re.compile(r"shared.data|libreoffice|soffice|uno|openssl|pdftoppm|poppler", re.IGNORECASE)


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (under CI=true) when ``what`` is not available."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is missing, and CI installs it (CI=true: failing instead of skipping)")
    pytest.skip(f"{what} is not available")


def data_folder_with(source: Path, root: Path, files: dict[str, bytes]) -> Path:
    """A data folder at ``root``: every sub-folder of ``source`` (e.g. ../shared/data) linked, plus ``files``
    (name -> bytes) written beside them (a factors.csv, say), without copying the real data."""
    root.mkdir(parents=True)
    for sub in source.iterdir():
        if sub.is_dir():
            (root / sub.name).symlink_to(sub.resolve())
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def have_openssl() -> bool:
    return shutil.which("openssl") is not None


def have_libreoffice() -> bool:
    return shutil.which("soffice") is not None and Path("/usr/lib/python3/dist-packages/uno.py").exists()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true, a skip caused by a missing CI dependency is a failure."""
    outcome = yield
    rep = outcome.get_result()
    if CI and rep.skipped and not hasattr(rep, "wasxfail"):
        reason = str(rep.longrepr[-1] if isinstance(rep.longrepr, tuple) else rep.longrepr)
        if CI_DEPENDENCIES.search(reason):
            rep.outcome = "failed"
            rep.longrepr = f"CI=true: skipped for a missing CI dependency, which is a failure: {reason}"


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs_session(tmp_path_factory):
    """The same isolation for session- and module-scoped fixtures (they run before function fixtures)."""
    import os

    base = tmp_path_factory.getbasetemp() / "userdirs"
    keys = {"ROTATION_STORE": "store.sqlite", "ROTATION_LEDGER": "ledger.sqlite", "ROTATION_KEYS_DIR": "keys",
            "ROTATION_SELECTIONS": "selections"}
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
    monkeypatch.setenv("ROTATION_SELECTIONS", str(base / "selections"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require((SHARED_DATA / "README.md").exists(), "../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def openssl() -> str:
    require(have_openssl(), "openssl")
    return shutil.which("openssl")


@pytest.fixture(scope="session")
def libreoffice() -> str:
    require(have_libreoffice(), "LibreOffice (soffice with python3-uno)")
    return shutil.which("soffice")


@pytest.fixture(scope="session")
def real_market(shared_data):
    from engine.data.folder import load_folder

    return load_folder(shared_data)


@pytest.fixture(scope="session")
def demo():
    from engine.data.demo import demo_market

    return demo_market()
