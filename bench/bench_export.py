"""Export and sign the full demo-sized decision workbook (5,000 sessions, every sheet)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness import Row

_STATE: dict = {}


def _setup():
    if not _STATE:
        from workbooks.keys import init_keys, load_signer
        from workbooks.ledger import Ledger
        from workbooks.report import example_report

        tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
        os.environ.setdefault("ROTATION_SIGNING_PASSPHRASE", "bench-passphrase")
        init_keys(keys_dir=tmp / "keys", passphrase=os.environ["ROTATION_SIGNING_PASSPHRASE"])
        _STATE.update(report=example_report(sessions=5000), signer=load_signer(keys_dir=tmp / "keys"),
                      ledger=Ledger(tmp / "ledger.sqlite"), out=tmp / "decision.xlsx")
    return _STATE


def _export(s):
    from workbooks.export import export_signed

    export_signed(s["report"], s["out"], s["signer"], s["ledger"], verify=False, force=True)


def _write(s):
    from workbooks.writer import write_workbook

    write_workbook(s["report"], s["out"].with_name("preview.xlsx"))


DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


_CPU: dict[str, list[float]] = {"export": [], "verify": []}


def _cli(kind: str, *args: str) -> None:
    """Run ``rotation ARGS`` as a whole process; record its CPU time (user + sys) under ``kind``."""
    import resource
    import subprocess
    s = _setup()
    env = {**os.environ, "ROTATION_KEYS_DIR": str(s["out"].parent / "keys"),
           "ROTATION_LEDGER": str(s["out"].parent / "cli-ledger.sqlite")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["rotation", *args], check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU[kind].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def _cli_export(_):
    _cli("export", "export", "--data", str(DATA), "--as-of", "2008-10-10", "--out",
         str(_setup()["out"].with_name("cli.xlsx")), "--force")


def _cli_verify(_):
    out = _setup()["out"].with_name("cli.xlsx")
    if not out.exists():
        _cli_export(None)
    _cli("verify", "verify", str(out))


class _CpuNote:
    """A row note that reads the median CPU time of the whole-process runs when the table is printed."""

    def __init__(self, kind: str, target: float):
        self.kind, self.target = kind, target

    def __str__(self) -> str:
        import statistics
        cpu = _CPU[self.kind]
        if not cpu:
            return ""
        med = statistics.median(cpu)
        verdict = "ok" if med <= self.target else "MISSED"
        return (f"CPU (user+sys) median {med:.2f} s over {len(cpu)} runs vs {self.target:.1f} s: {verdict}; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def rows() -> list[Row]:
    # wall time is the median column; the CPU time (what the load average does not inflate as much) is in the note
    whole = [Row("export: whole process, rotation export --data ../shared/data (2008-10-10)", _cli_export, 2.0,
                 setup=_setup, repeat=3, note=_CpuNote("export", 2.0)),
             Row("verify: whole process, rotation verify on that record", _cli_verify, 0.6, setup=_setup, repeat=5,
                 note=_CpuNote("verify", 0.6))]
    return (whole if DATA.is_dir() else []) + [
        Row("export: render + sign + ledger, 5,000 sessions (no verify)", _export, 1.5, setup=_setup, repeat=5),
        Row("export: unsigned preview workbook, 5,000 sessions", _write, None, setup=_setup, repeat=5),
    ]
