"""Issue 11 item 8: the `rotation export` and `rotation verify` processes import only what they use.

Each command runs in a fresh interpreter (the real CLI entry point on ../shared/data) that reports the
top-level libraries and our packages loaded at exit: heavy libraries the export does not need (pydantic
through typer, scipy.special/stats, cvxpy, sklearn, statsmodels, hmmlearn, arch, dask) never load, and
verify loads no numpy, pandas, scipy, openpyxl or keyring at all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = ("import sys, json\nfrom addin.cli.main import main\nsys.argv = ['rotation', *{args!r}]\n"
          "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
          "print(json.dumps({{'code': code, 'modules': sorted(sys.modules)}}))\n")
NEVER = {"pydantic", "cvxpy", "sklearn", "statsmodels", "hmmlearn", "arch", "dask", "matplotlib", "xlwings"}


def _run(args: list[str], env: dict) -> tuple[int, set[str]]:
    res = subprocess.run([sys.executable, "-c", REPORT.format(args=args)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    return out["code"], set(out["modules"])


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "ROTATION_KEYS_DIR": str(tmp_path / "keys"), "ROTATION_LEDGER": str(tmp_path / "ledger.sqlite"),
            "ROTATION_SIGNING_PASSPHRASE": "a passphrase for tests only",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.fixture(scope="module")
def exported(shared_data, tmp_path_factory):
    """(env, book, modules loaded by the export process) for one real-data export of 2008-10-10."""
    tmp = tmp_path_factory.mktemp("lazy")
    env = _env(tmp)
    subprocess.run([sys.executable, "-m", "addin.cli.main", "keys", "init", "--name", "Test Operator"],
                   env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    book = tmp / "book.xlsx"
    code, mods = _run(["export", "--data", str(shared_data), "--as-of", "2008-10-10", "--out", str(book)], env)
    assert code == 0 and book.exists()
    return env, book, mods


def test_export_imports_no_heavy_library_it_does_not_use(exported):
    _, _, mods = exported
    assert not (_tops(mods) & NEVER), sorted(_tops(mods) & NEVER)
    assert "scipy.stats" not in mods and "typer._adapters" not in mods
    # the factor ranks, regime strength and t-test use engine.stats.normal / student, not scipy.special; the
    # benchmark fit is a numpy NNLS (not scipy.optimize.nnls); the allocator hands Clarabel its own CSC
    # matrices (not scipy.sparse): the export imports no scipy at all
    scipy_mods = sorted(m for m in mods if m.split(".")[0] == "scipy")
    assert not scipy_mods, scipy_mods[:10]
    assert {"engine.stats.normal", "engine.stats.student", "openpyxl", "pandas"} <= mods   # the path ran


def test_verify_imports_no_numpy_pandas_scipy_or_openpyxl(exported, tmp_path):
    env, book, _ = exported
    code, mods = _run(["verify", str(book)], env)
    assert code == 0                                     # all checks hold: the path measured is the real one
    heavy = _tops(mods) & (NEVER | {"numpy", "pandas", "scipy", "openpyxl", "keyring", "usecases"})
    assert not heavy, sorted(heavy)
    assert {m for m in mods if m.startswith("engine.")} <= {"engine.errors"}
    assert {"workbooks.verify", "cryptography.x509", "lxml.etree"} <= mods
    assert "typer.rich_utils" not in mods and "rich.markdown" not in mods   # rich help only for --help / errors


def test_help_imports_no_command_module_and_no_pydantic(tmp_path):
    code, mods = _run(["--help"], _env(tmp_path))
    assert code == 0
    assert not (_tops(mods) & {"pydantic", "numpy", "pandas", "engine", "usecases", "workbooks"})
    assert not {m for m in mods if m.startswith("addin.cli.") and m not in ("addin.cli.main",)}


@pytest.mark.parametrize("command", ["export", "optimize", "trades", "verify", "backtest"])
def test_command_help_imports_no_numpy_pandas_or_engine(tmp_path, command):
    code, mods = _run([command, "--help"], _env(tmp_path))
    assert code == 0 and f"addin.cli.{command}_cmd" in mods
    assert not (_tops(mods) & {"pydantic", "numpy", "pandas", "scipy", "usecases", "workbooks", "openpyxl"})
    assert {m for m in mods if m.startswith("engine.")} <= {"engine.errors"}


def test_help_shows_bracketed_words_literally(tmp_path):
    """typer renders help as rich markup; `[limits]` must not vanish as an unknown style tag."""
    env = {**_env(tmp_path), "COLUMNS": "200"}
    res = subprocess.run([sys.executable, "-m", "addin.cli.main", "export", "--help"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=120)
    assert res.returncode == 0 and "TOML file with a [limits] table" in res.stdout
    res = subprocess.run([sys.executable, "-m", "addin.cli.main", "alerts", "--help"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=120)
    assert "([smtp] and [webhook] tables" in res.stdout
