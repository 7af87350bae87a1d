"""Bench rows of the worksheet functions, in process (as the UDF server calls them), on the demo market.

Targets (issue 14): warm BOND_STRESS <= 0.05 ms per call, OPTIMAL_WEIGHTS warm <= 5 ms,
REBALANCE_TRADES <= 20 ms, ``import udfs.functions`` <= 1 s. "Warm" = the same arguments on the same data version (the result
cache); the rows with a new argument each call show what a cache miss costs.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness import Row

ROOT = Path(__file__).resolve().parents[1]
CALLS = 1000
NINE = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")


def _udfs():
    os.environ["ROTATION_UDF_SOURCE"] = "demo"
    import udfs.functions as f

    return f


def _import_seconds(_=None) -> float:
    code = "import time; t = time.perf_counter(); import udfs.functions; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                check=True).stdout)


def rows() -> list[Row]:
    f = _udfs()
    weights = [[tk, 1 / 9] for tk in NINE]
    f.OPTIMAL_WEIGHTS(weights, "2008-10-10", None)
    f.BOND_STRESS("2008-10-10")
    holdings = [["ticker", "shares"], ["XLK", 10000], ["XLU", 5000], ["CASH", 100000]]
    f.REBALANCE_TRADES(holdings, "2019-06-28", None)
    counter = iter(range(10**9))

    def new_weights():
        k = next(counter) % 97 + 1
        raw = [1.0 + (k / 1000.0 if i == 0 else 0.0) for i in range(len(NINE))]
        return [[tk, x / sum(raw)] for tk, x in zip(NINE, raw)]          # a valid, new portfolio each call

    def many(fn, *args):
        for _ in range(CALLS):
            fn(*args)

    return [
        Row("udf: import udfs.functions (fresh process; whole interpreter run)", _import_seconds, 1.0, repeat=3,
            note="interpreter start included"),
        Row(f"udf: BOND_STRESS warm x{CALLS} (target 0.05 ms per call)", lambda _: many(f.BOND_STRESS, "2008-10-10"),
            CALLS * 0.05e-3, repeat=15, note="demo market, cached result"),
        Row("udf: BOND_STRESS new date each call (cache miss)",
            lambda _: f.BOND_STRESS(30000.0 + next(counter) * 1e-3), None, repeat=51, note="as-of lookup"),
        Row(f"udf: STRESS_REGIME warm x{CALLS}", lambda _: many(f.STRESS_REGIME, "2008-10-10"), None, repeat=7),
        Row(f"udf: SECTOR_SCORES warm x{CALLS} (1,000 cells recalculated)",
            lambda _: many(f.SECTOR_SCORES, "2008-10-10"), None, repeat=7),
        Row("udf: OPTIMAL_WEIGHTS warm (same arguments)", lambda _: f.OPTIMAL_WEIGHTS(weights, "2008-10-10", None),
            5e-3, repeat=51, note="cached result"),
        Row("udf: REBALANCE_TRADES warm (same arguments)", lambda _: f.REBALANCE_TRADES(holdings, "2019-06-28", None),
            20e-3, repeat=51, note="cached result"),
        Row("udf: OPTIMAL_WEIGHTS new current weights (cache miss)",
            lambda w: f.OPTIMAL_WEIGHTS(w, "2008-10-10", None), None, setup=new_weights, repeat=5,
            note="whole optimize_as_of: scores, risk model, solve, transition"),
    ]
