"""Startup and import speed (issue 8), against targets and against pandas side by side.

Rows (medians): ``rotation --help`` as a whole process (target 0.3 s), ``import udfs.functions`` as a
whole process (target 1 s), and reading + validating the 36 development CSVs of ../shared/data with
the product's importers next to ``pandas.read_csv`` of the same files (target: at most 2x pandas).
``python bench/bench_startup.py`` prints the table with the ratio; ``bench/run.py startup`` too.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import Row, measure, print_table  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _process(code: str):
    def run(_):
        subprocess.run([sys.executable, "-c", code], check=True, env=ENV, capture_output=True)
    return run


def _files() -> list[Path]:
    from engine.data.folder import find_files

    return find_files([DATA])


def _pandas_read(_):
    import pandas as pd

    for f in _files():
        pd.read_csv(f)


def _ours_read(_):
    from engine.data.folder import read_files

    read_files([DATA])


def rows() -> list[Row]:
    out = [
        Row("startup: `rotation --help` (whole process)",
            _process("import sys; sys.argv=['rotation','--help']\nfrom addin.cli.main import main\n"
                     "try:\n    main()\nexcept SystemExit:\n    pass"), target_s=0.3, repeat=7),
        Row("startup: python -c 'import udfs.functions' (whole process)", _process("import udfs.functions"),
            target_s=1.0, repeat=5),
        # xlwings imports matplotlib when it is installed; only the dev extras (bt, vectorbt) bring it, so
        # this row is the UDF server of a product install (matplotlib absent, as xlwings sees it).
        Row("startup: python -c 'import udfs.functions' without matplotlib (product install)",
            _process("import sys; sys.modules['matplotlib'] = None\nimport udfs.functions"), target_s=1.0, repeat=5),
        # a command's help loads its module and typer's rich help, never pandas/numpy (tests/test_lazy_imports.py)
        Row("startup: `rotation export --help` (whole process)",
            _process("import sys; sys.argv=['rotation','export','--help']\nfrom addin.cli.main import main\n"
                     "try:\n    main()\nexcept SystemExit:\n    pass"), repeat=7),
        Row("startup: python -c 'pass' (interpreter alone, for scale)", _process("pass"), repeat=7, peer=True),
    ]
    if DATA.exists():
        out += [Row("read: pandas.read_csv of the 36 development CSVs", _pandas_read, repeat=9, peer=True),
                Row("read: rotation importers (parse + validate) of the same", _ours_read, repeat=9)]
    return out


def main() -> None:
    results = [measure(r) for r in rows()]
    by = {r.row.name: r for r in results}
    peer = by.get("read: pandas.read_csv of the 36 development CSVs")
    ours = by.get("read: rotation importers (parse + validate) of the same")
    if peer and ours:
        ours.row.target_s = 2.0 * peer.median_s
        ours.row.note = f"ratio {ours.median_s / peer.median_s:.2f}x pandas (target <= 2x)"
    print_table(results)


if __name__ == "__main__":
    main()
