"""Bench of the LibreOffice Calc extension in a real headless LibreOffice (issue 15).

Rows: a batch of 100 cells ``=BOND_STRESS(date)`` recalculated in Calc (100 new dates each time: the
result cache misses; then the same 100 again: it hits), and one toolbar action (Optimize) on a PM
workbook with its inputs in named ranges. Times are wall time of the whole round trip (UNO call from
LibreOffice's Python, recalculation, the product's code inside soffice) and the CPU time soffice used
(read from /proc for its process group), since the work happens in soffice, not in this process.

    python bench/bench_calc.py          # builds, installs into a temporary profile, prints the table

Data: ../shared/data when present (imported into a temporary store), else the synthetic demo market.
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from harness import Row  # noqa: E402

REPEAT = 5
GROUP_CPU = """
import os
def group_cpu(pgid):
    tick = os.sysconf('SC_CLK_TCK')
    total = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            f = open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(f[2]) == pgid:
            total += int(f[11]) + int(f[12])
    return total / tick
"""
_state: dict = {}


def _session():
    """Build, install and start once: (session, data env, tmp folder)."""
    if "session" in _state:
        return _state["session"], _state["tmp"]
    from addin.calc.build import build_oxt
    from addin.calc.office import Session, install

    tmp = Path(tempfile.mkdtemp(prefix="bench-calc-"))
    env = {}
    data = ROOT.parent / "shared" / "data"
    if (data / "README.md").exists():
        from usecases.context import import_folders

        import_folders([data], store=tmp / "store.sqlite")
        env["ROTATION_STORE"] = str(tmp / "store.sqlite")
    else:
        env["ROTATION_UDF_SOURCE"] = "demo"
    build_oxt(tmp / "SR.oxt")
    install(tmp / "SR.oxt", tmp / "profile")
    session = Session(tmp / "profile", env=env)
    session.run(GROUP_CPU + "doc = load(None)\nsh = doc.Sheets.getByIndex(0)\n"
                "sh.getCellRangeByName('B1').setFormula('=BOND_STRESS(\"2008-10-10\")')\ndoc.calculateAll()\n")
    _state.update(session=session, tmp=tmp, batch=0)
    return session, tmp


def recalc_100(new_dates: bool) -> tuple[float, float]:
    """(wall s, soffice CPU s) for 100 BOND_STRESS cells recalculated (new dates, or the same again)."""
    session, _ = _session()
    if new_dates:
        _state["batch"] += 1
    start = 38000 + 100 * _state["batch"]          # 100 distinct date serials per batch (2004-01-15 onwards)
    code = f"""
import time
c0 = group_cpu(proc.pid)
t0 = time.perf_counter()
sh.getCellRangeByName('A1:A100').setFormulaArray(tuple(('=BOND_STRESS(%d)' % ({start} + i),) for i in range(100)))
doc.calculateAll()
result = [time.perf_counter() - t0, group_cpu(proc.pid) - c0, sh.getCellRangeByName('A100').getString()]
"""
    wall, cpu, last = session.run(code)
    if not last or last.startswith("#"):
        raise RuntimeError(f"the cells did not compute: {last!r}")
    return wall, cpu


def action(name: str = "Optimize") -> tuple[float, float]:
    """(wall s, soffice CPU s) of one toolbar action on a PM workbook (inputs in named ranges)."""
    session, tmp = _session()
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName

    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    ws["A1"], ws["A3"], ws["B3"], ws["A4"], ws["B4"] = "2008-10-10", "XLK", 0.5, "XLU", 0.5
    wb.defined_names["AsOfDate"] = DefinedName("AsOfDate", attr_text="Inputs!$A$1")
    wb.defined_names["CurrentWeights"] = DefinedName("CurrentWeights", attr_text="Inputs!$A$3:$B$4")
    path = tmp / f"pm-{time.time_ns()}.xlsx"
    wb.save(path)
    code = f"""
import time
d = load({str(path)!r})
c0 = group_cpu(proc.pid)
t0 = time.perf_counter()
dispatch(d, 'org.sectorrotation.calc:{name}')
result = [time.perf_counter() - t0, group_cpu(proc.pid) - c0,
          d.DocumentProperties.UserDefinedProperties.getPropertyValue('SectorRotationMessage')]
d.close(True)
"""
    wall, cpu, message = session.run(code)
    if message.startswith("Error"):
        raise RuntimeError(message)
    return wall, cpu


def close() -> None:
    if "session" in _state:
        _state.pop("session").close()
        shutil.rmtree(_state.pop("tmp"), ignore_errors=True)


def rows() -> list[Row]:
    """For bench/run.py (wall time of the round trip; the CPU column there is this process only)."""
    note = "wall incl. soffice; bench_calc.py prints soffice CPU"
    return [Row("calc: 100 cells =BOND_STRESS(date), new dates", lambda _: recalc_100(True), 2.0, note=note, repeat=REPEAT),
            Row("calc: the same 100 cells again (cached)", lambda _: recalc_100(False), 0.5, note=note, repeat=REPEAT),
            Row("calc: toolbar Optimize on a PM workbook", lambda _: action(), 10.0, note=note, repeat=3)]


def main() -> None:
    cases = [("100 cells =BOND_STRESS(date), new dates each time", lambda: recalc_100(True), 2.0),
             ("the same 100 cells recalculated again (result cache)", lambda: recalc_100(False), 0.5),
             ("toolbar action Optimize (named ranges in, Weights sheet out)", lambda: action(), 10.0)]
    try:
        t0 = time.perf_counter()
        _session()
        setup = time.perf_counter() - t0
        print(f"build + install + start soffice + first reading: {setup:.1f} s wall")
        head = f"{'benchmark':62} {'median wall':>12} {'soffice cpu':>12} {'target':>8}"
        print(head + "\n" + "-" * len(head))
        for name, fn, target in cases:
            fn()                                                   # warm-up
            runs = [fn() for _ in range(REPEAT)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"{name:62} {wall:>10.3f} s {cpu:>10.3f} s {target:>6.1f} s  {'ok' if wall <= target else 'MISSED'}")
    finally:
        close()


if __name__ == "__main__":
    main()
