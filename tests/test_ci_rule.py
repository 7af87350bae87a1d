"""The CI rule itself: under CI=true a missing CI dependency fails a test instead of skipping it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = '''
import pytest
from conftest import require

def test_needs_missing_data():
    require(False, "../shared/data")

def test_plain_skip_for_openssl():
    pytest.skip("openssl not installed")

def test_unrelated_skip():
    pytest.skip("not on this platform")
'''


def _run(tmp_path, ci: str) -> str:
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                        "--rootdir", str(tmp_path), str(tmp_path)], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    return r.stdout


def test_missing_dependencies_fail_under_ci_and_skip_otherwise(tmp_path):
    assert "2 failed, 1 skipped" in _run(tmp_path, "true")
    assert "3 skipped" in _run(tmp_path, "")
