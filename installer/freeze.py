"""PyInstaller one-folder build of the `rotation` command line (what the ribbon's RunFrozenPython runs).

``python -m installer.freeze --dist DIR`` builds ``DIR/rotation/rotation`` (``rotation.exe`` on
Windows), prints the build time, then smoke-tests the frozen program: ``rotation demo`` (every stage,
ending with a signed workbook) and ``rotation verify`` on that workbook. Exit 0 only if both hold.
A frozen program cannot serve worksheet functions (xlwings starts ``python.exe`` for them); the
Windows installer therefore also installs a real Python (installer/windows/install.ps1).
"""
from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_PACKAGES = ("engine", "workbooks", "addin")          # TOML defaults, the workbook template, ribbon XML
# Every module of the product's own packages (main.py registers some commands through __import__, which
# PyInstaller's analysis cannot see), plus the solver and keyring backends loaded by name.
HIDDEN = ("addin", "engine", "usecases", "workbooks", "udfs", "clarabel", "keyring.backends")


def pyinstaller_args(dist: Path, work: Path) -> list[str]:
    args = [str(HERE / "rotation_entry.py"), "--name", "rotation", "--onedir", "--noconfirm", "--clean",
            "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work / "build"),
            "--specpath", str(work), "--paths", str(ROOT)]
    for p in DATA_PACKAGES:
        args += ["--collect-data", p]
    for h in HIDDEN:
        args += ["--collect-submodules", h]
    return args


def build(dist: Path) -> tuple[Path, float]:
    """Freeze into ``dist``; returns (the executable, seconds)."""
    import PyInstaller.__main__

    with tempfile.TemporaryDirectory(prefix="rotation-freeze-") as work:
        t0 = time.perf_counter()
        PyInstaller.__main__.run(pyinstaller_args(dist, Path(work)))
        took = time.perf_counter() - t0
    exe = dist / "rotation" / ("rotation.exe" if os.name == "nt" else "rotation")
    if not exe.exists():
        raise SystemExit(f"freeze: PyInstaller produced no {exe}")
    return exe, took


def smoke(exe: Path, out: Path) -> None:
    """Run the frozen `rotation demo` and `rotation verify` on its workbook (outside the source tree)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.setdefault("ROTATION_STORE", str(out / "store.sqlite"))
    env.setdefault("ROTATION_LEDGER", str(out / "ledger.sqlite"))
    env.setdefault("ROTATION_KEYS_DIR", str(out / "keys"))
    # a machine without a keyring (CI) keeps the smoke's key passphrase here, so the demo signs with a
    # key of its own that `keys init` adds to the trust store, and the frozen verify can trust it
    env.setdefault("ROTATION_SIGNING_PASSPHRASE", secrets.token_urlsafe(24))
    t0 = time.perf_counter()
    if subprocess.run([str(exe), "demo", "--out", str(out / "demo")], cwd=out, env=env).returncode:
        raise SystemExit("freeze: the frozen `rotation demo` failed (its message is above)")
    books = sorted((out / "demo").glob("rotation-decision-*.xlsx"))
    if not books:
        raise SystemExit("freeze: the frozen demo wrote no signed workbook")
    if subprocess.run([str(exe), "verify", str(books[-1])], cwd=out, env=env).returncode:
        raise SystemExit("freeze: the frozen `rotation verify` failed on the demo's workbook")
    print(f"freeze: frozen demo and verify hold ({time.perf_counter() - t0:.1f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: ./dist)")
    ap.add_argument("--no-smoke", action="store_true", help="build only")
    a = ap.parse_args(argv)
    exe, took = build(a.dist.resolve())
    size = sum(f.stat().st_size for f in exe.parent.rglob("*") if f.is_file())
    print(f"freeze: built {exe} in {took:.0f} s ({size / 1e6:.0f} MB, {os.cpu_count()} cores)", flush=True)
    if not a.no_smoke:
        with tempfile.TemporaryDirectory(prefix="rotation-frozen-") as out:
            smoke(exe, Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
