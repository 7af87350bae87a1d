"""Run every benchmark module (bench/bench_*.py) and print one table.

Usage: python bench/run.py [substring ...]   (only modules whose name contains a substring)
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import measure, measure_interleaved, print_table  # noqa: E402


def main(argv: list[str]) -> int:
    results = []
    for path in sorted(HERE.glob("bench_*.py")):
        if argv and not any(a in path.stem for a in argv):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if getattr(mod, "INTERLEAVE", False):       # rows compared with each other: measured round-robin
            results.extend(measure_interleaved(mod.rows()))
        else:
            results.extend(measure(row) for row in mod.rows())
    print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
