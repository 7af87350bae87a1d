"""Where one ``rotation export`` (or ``rotation verify``) process spends its time, phase by phase.

Run as its own process (fresh imports): ``python bench/export_phases.py export|verify BOOK.xlsx [DATA]``
prints one JSON object ``{phase: [cpu_s, wall_s]}``. It imports the heavy libraries one group at a
time (each group's cost is the time of its first import, after the groups before it), then runs the
real CLI (``addin.cli.main.main``) with timers around the stages of the export; each stage's time
excludes the stages nested in it, so the phases add up to the whole process. ``interpreter`` is the
CPU time used before this script's first line (start-up and site), with no wall time.
``bench/bench_export.py`` runs it several times and prints the medians.

Parallel branches (usecases.parallel): the export forks a child for its share of the data files and one
for the validation, sector regressions and alerts. A child's stages are not timed by the wrappers (they
run in the child); each child's CPU is its own row (``parallel child: ...``, from the child's rusage,
wall 0: it overlaps the parent), and the parent's wait at the join is in the wall time of the stage that
joins (data read; decision: everything else). The import groups are imported ahead, so here the workbook
modules are not imported during the data read as in a real export (the parent then reads more files).

A group is imported ahead only if the command imports it on its own: ``python bench/export_phases.py
probe export|verify BOOK [DATA]`` runs the command without timers and prints the groups whose modules
it loaded (``$EXPORT_PHASES_PRESENT`` passes that list to the timed runs; without it the timed run probes
first in a subprocess). A group the command does not load is listed as "not imported" with 0 s, so the
table never charges a library the command no longer uses.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
import subprocess
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
    ("import: scipy.optimize (benchmark nnls; brings scipy.special, .sparse, .linalg)", ["scipy.optimize"]),
    ("import: scipy.sparse (the allocator's Clarabel matrices)", ["scipy.sparse"]),
    ("import: scipy.special", ["scipy.special"]),
    ("import: scipy.stats", ["scipy.stats"]),
    ("import: cvxpy", ["cvxpy"]),
    ("import: engine, usecases, workbooks", ["usecases.context", "usecases.export", "addin.cli.export_cmd",
                                              "workbooks.verify", "workbooks.trust"]),
    ("import: workbooks.verify, trust, ledger", ["workbooks.verify", "workbooks.trust", "addin.cli.verify_cmd"]),
]
EXPORT_STAGES = [   # (module, attribute, phase): patched where the export calls them
    ("usecases.context", "open_market", "data: read + validate the CSVs"),
    ("usecases.signals", "compute", "decision: stress stage (index, regimes, warning fits)"),
    ("usecases.signals", "validate", "decision: validation (VIX and HY OAS baseline fits)"),   # serial only
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


def cli_args(argv: list[str]) -> list[str]:
    """The ``rotation`` arguments of ``export BOOK DATA [AS_OF]`` or ``verify BOOK``; AS_OF ``last`` (the
    default) exports the last session, as the plain ``rotation export --data DATA`` does."""
    kind, book = argv[0], argv[1]
    if kind == "export":
        as_of = argv[3] if len(argv) > 3 else "last"
        return ["export", "--data", argv[2], *([] if as_of == "last" else ["--as-of", as_of]), "--out", book,
                "--force"]
    return ["verify", book]


def run_cli(args: list[str], wrap=lambda fn: fn) -> None:
    """Run ``rotation ARGS`` in this process (``wrap`` around its entry point); any exit code but 0 raises."""
    from addin.cli.main import main

    sys.argv = ["rotation", *args]
    try:
        wrap(main)()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def probe(argv: list[str]) -> list[str]:
    """The names of the groups in ``IMPORTS`` whose modules the command loads by itself."""
    run_cli(cli_args(argv))
    return [name for name, mods in IMPORTS if all(m in sys.modules for m in mods)]


def present_groups(argv: list[str]) -> list[str]:
    env = os.environ.get("EXPORT_PHASES_PRESENT")
    if env:
        return json.loads(env)
    res = subprocess.run([sys.executable, __file__, "probe", *argv], check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(argv: list[str]) -> dict:
    present = present_groups(argv)
    for name, mods in IMPORTS:
        if name in present:
            timed(name, lambda ms=mods: [importlib.import_module(m) for m in ms])()
        else:
            PHASES[f"{name}: not imported"] = [0.0, 0.0]
    if argv[0] == "export":
        for mod, attr, name in EXPORT_STAGES:
            patch(mod, attr, name)
    else:
        patch("workbooks.verify", "verify_workbook", "verify: the five checks")
    run_cli(cli_args(argv), lambda fn: timed("CLI: parse, keys, ledger, files, output (the rest)", fn))
    from usecases import parallel
    beyond = 0.0
    for fn_name, child_cpu, overlap, _ in parallel.HISTORY:
        _add(CHILDREN.get(fn_name, f"parallel child: {fn_name}"), child_cpu, 0.0)
        beyond += max(0.0, child_cpu - overlap)
    PHASES[CRITICAL] = [time.process_time() + beyond, 0.0]
    return PHASES


# not a phase: this process's CPU plus each child's CPU beyond this process's CPU between its fork and join,
# the wall time the export would take on an idle machine with two cores (no sleeping on I/O counted)
CRITICAL = "=critical path on an idle 2-core machine (this process's CPU + children beyond it)"


CHILDREN = {   # parallel.HISTORY's function names -> phase rows
    "_take": "parallel child: its share of the data files (read + validate; CPU, overlaps)",
    "_side_parts": "parallel child: validation fits, sector regressions, alerts (CPU, overlaps)",
}


if __name__ == "__main__":
    import contextlib
    import io

    argv = sys.argv[1:]
    with contextlib.redirect_stdout(io.StringIO()):
        result = probe(argv[1:]) if argv[0] == "probe" else run(argv)
    print(json.dumps(result))
