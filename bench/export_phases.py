"""Where one ``rotation export`` (or ``rotation verify``) process spends its time, phase by phase.

Run as its own process (fresh imports): ``python bench/export_phases.py export|verify BOOK.xlsx [DATA]``
prints one JSON object ``{phase: [cpu_s, wall_s]}``. It imports the heavy libraries one group at a
time (each group's cost is the time of its first import, after the groups before it), then runs the
real CLI (``addin.cli.main.main``) with timers around the stages of the export; each stage's time
excludes the stages nested in it, so the phases add up to the whole process. ``interpreter`` is the
CPU time used before this script's first line (start-up and site), with no wall time.
``bench/bench_export.py`` runs it several times and prints the medians.
"""
from __future__ import annotations

import functools
import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHASES: dict[str, list[float]] = {"interpreter": [time.process_time(), 0.0]}
_STACK: list[list[float]] = []


def _add(name: str, cpu: float, wall: float) -> None:
    cur = PHASES.setdefault(name, [0.0, 0.0])
    cur[0] += cpu
    cur[1] += wall


def timed(name: str, fn):
    """``fn`` wrapped to add its exclusive CPU and wall time to phase ``name``."""
    @functools.wraps(fn)
    def run(*a, **k):
        _STACK.append([0.0, 0.0])
        c, w = time.process_time(), time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            dc, dw = time.process_time() - c, time.perf_counter() - w
            inner = _STACK.pop()
            _add(name, dc - inner[0], dw - inner[1])
            if _STACK:
                _STACK[-1][0] += dc
                _STACK[-1][1] += dw
    return run


def patch(module: str, attr: str, name: str) -> None:
    mod = importlib.import_module(module)
    setattr(mod, attr, timed(name, getattr(mod, attr)))


IMPORTS = [   # (phase, modules): in the order the export first needs them
    ("import: typer CLI layer (addin.cli.main, rich)", ["addin.cli.main", "addin.cli.common", "rich.table"]),
    ("import: typer's pydantic parameter layer", ["typer._adapters"]),
    ("import: numpy + pandas", ["numpy", "pandas"]),
    ("import: lxml, cryptography", ["lxml.etree", "cryptography.x509"]),
    ("import: openpyxl", ["openpyxl"]),
    ("import: scipy.special (factor ranks, regime strength)", ["scipy.special"]),
    ("import: scipy.optimize (benchmark nnls; brings scipy.sparse)", ["scipy.optimize"]),
    ("import: engine, usecases, workbooks", ["usecases.context", "usecases.export", "addin.cli.export_cmd",
                                              "workbooks.verify", "workbooks.trust"]),
]
EXPORT_STAGES = [   # (module, attribute, phase): patched where the export calls them
    ("usecases.context", "open_market", "data: read + validate the CSVs"),
    ("usecases.signals", "compute", "decision: stress stage (index, regimes, warning fits)"),
    ("usecases.signals", "validate", "decision: validation (VIX and HY OAS baseline fits)"),
    ("usecases.signals", "external_check", "decision: validation (VIX and HY OAS baseline fits)"),
    ("usecases.signals", "sector_table", "decision: sector regressions and ranking"),
    ("usecases.signals", "defensive_ranking", "decision: sector regressions and ranking"),
    ("usecases.signals", "regime_returns", "decision: sector regressions and ranking"),
    ("usecases.factors", "current_scores", "decision: factor scores"),
    ("usecases.optimize", "_plan", "decision: allocator (compile + solve; cvxpy only to diagnose infeasible limits)"),
    ("usecases.export", "preceding_alerts", "decision: alerts sheet"),
    ("usecases.export", "build_report", "decision: everything else (transition, frames, digests)"),
    ("workbooks.export", "render_bytes", "workbook: render + save + seal"),
    ("workbooks.export", "sign_bytes", "workbook: sign (XML-DSig + CMS)"),
    ("workbooks.verify", "verify_workbook", "verify (closing check)"),
]


def run(argv: list[str]) -> dict:
    kind, book = argv[0], argv[1]
    groups = IMPORTS
    if kind == "verify":
        groups = [g for g in groups if not any(w in g[0] for w in ("pandas", "scipy", "engine", "openpyxl"))]
        groups.append(("import: workbooks.verify, trust, ledger", ["workbooks.verify", "workbooks.trust",
                                                                   "addin.cli.verify_cmd"]))
    for name, mods in groups:
        timed(name, lambda ms=mods: [importlib.import_module(m) for m in ms])()
    from addin.cli.main import main

    if kind == "export":
        for mod, attr, name in EXPORT_STAGES:
            patch(mod, attr, name)
        args = ["export", "--data", argv[2], "--as-of", "2008-10-10", "--out", book, "--force"]
    else:
        patch("workbooks.verify", "verify_workbook", "verify: the five checks")
        args = ["verify", book]
    sys.argv = ["rotation", *args]
    label = "CLI: parse, keys, ledger, files, output (the rest)"
    try:
        timed(label, main)()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    return PHASES


if __name__ == "__main__":
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = run(sys.argv[1:])
    print(json.dumps(result))
