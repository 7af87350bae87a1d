"""installer/: the frozen command line (PyInstaller one-folder build, then the frozen `rotation demo` and
`rotation verify`), the Windows requirements lock against the registry, and the PowerShell scripts."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIN = ROOT / "installer" / "windows"


@pytest.mark.slow
def test_frozen_rotation_runs_demo_and_verify(tmp_path):
    """installer/build end to end: exit 0 only when the frozen demo's signed workbook verifies."""
    background = os.environ.get("ROTATION_FROZEN_BUILD")
    if background:          # .ci/run started `python -m installer.freeze --dist DIR/dist` beside the tests
        folder = Path(background)
        rc, stdout = _wait_for_background_build(folder)
        dist = folder / "dist"
    else:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(ROOT)
        res = subprocess.run([str(ROOT / "installer" / "build"), "--dist", str(tmp_path / "dist")], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=3000)
        rc, stdout, dist = res.returncode, res.stdout + res.stderr, tmp_path / "dist"
    assert rc == 0, stdout[-6000:]
    assert "freeze: frozen demo and verify hold" in stdout
    built = re.search(r"freeze: built .* in (\d+) s", stdout)
    assert built, stdout
    assert (dist / "rotation" / "rotation").exists()


def _wait_for_background_build(folder: Path, timeout: float = 3000.0) -> tuple[int, str]:
    """The exit code and output of the build .ci/run started, once it has finished (bounded wait)."""
    import time

    deadline = time.monotonic() + timeout
    rc_file = folder / "build.rc"
    while not rc_file.exists():
        assert time.monotonic() < deadline, f"the background frozen build did not finish in {timeout:.0f} s"
        time.sleep(2.0)
    return int(rc_file.read_text().strip() or "1"), (folder / "build.log").read_text()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (WIN / "requirements-win.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_everything_and_matches_the_tested_versions():
    from importlib.metadata import version

    pins = _lock()
    assert {"xlwings", "pandas", "numpy", "cvxpy", "clarabel", "openpyxl", "keyring", "pywin32", "pywin32-ctypes",
            "colorama"} <= set(pins)
    assert "secretstorage" not in pins and "jeepney" not in pins          # keyring's Linux-only backends
    for name in ("xlwings", "pandas", "numpy", "scipy", "cvxpy", "clarabel", "openpyxl", "keyring", "lxml"):
        assert pins[name] == version(name), name                           # the versions the tests ran with


@pytest.mark.registry
def test_lock_resolves_to_windows_wheels_and_is_closed(tmp_path):
    """pip, told the target is win_amd64 / CPython 3.11 and binaries only, resolves the lock WITH its
    dependencies to exactly the lock (plus keyring's Linux-only backends, whose markers pip evaluates for
    this machine): every pin has a Windows wheel and nothing is missing."""
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report",
           str(report), "--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp",
           "--only-binary=:all:", "--target", str(tmp_path / "t"), "-r", str(WIN / "requirements-win.lock")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    got = {re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(): i["metadata"]["version"]
           for i in json.loads(report.read_text())["install"]}
    assert {k: v for k, v in got.items() if k not in ("secretstorage", "jeepney")} == _lock()


def test_powershell_scripts_cover_the_checklist():
    install = (WIN / "install.ps1").read_text()
    for needle in ("INTERPRETER_WIN", "ROTATION FROZEN", "XLSTART", "SectorRotation.xlam", "--no-index",
                   "requirements-win.lock", "keys init", "keys import", "import udfs.functions"):
        assert needle in install, needle
    uninstall = (WIN / "uninstall.ps1").read_text()
    assert "XLSTART\\SectorRotation.xlam" in uninstall and "Kept: signing key" in uninstall
    bundle = (WIN / "bundle.sh").read_text()
    assert "--platform win_amd64" in bundle and "addin build" in bundle
    # the conf keys the installer writes are the ones the add-in's VBA reads
    from addin.xlam.build import DEFAULT_CONF

    assert {k.upper() for k, _ in DEFAULT_CONF} & {"INTERPRETER_WIN", "ROTATION FROZEN"} == set()
    assert 'GetConfig("ROTATION FROZEN")' in (ROOT / "addin" / "ribbon" / "SectorRotationRibbon.bas").read_text()
