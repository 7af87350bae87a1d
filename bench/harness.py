"""Tiny benchmark harness: median wall time and peak Python memory per row, printed as a table."""
from __future__ import annotations

import gc
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Row:
    name: str
    fn: Callable[[Any], Any]            # called with the value returned by setup (or None)
    target_s: float | None = None
    setup: Callable[[], Any] | None = None  # untimed, run once before each timed call
    repeat: int = 7
    note: str = ""
    peer: bool = False                  # a peer library's row, shown for comparison
    record: list | None = None          # the harness appends each timed call's wall time here (for notes that
                                        # compare rows; warm-up and memory calls are not timed calls)


@dataclass
class Result:
    row: Row
    median_s: float
    peak_mb: float
    times: list[float] = field(default_factory=list)
    cpu_s: float = float("nan")         # median CPU time per call: this process's and its reaped children's

    @property
    def cpu_ok(self) -> bool | None:
        return None if self.row.target_s is None else self.cpu_s <= self.row.target_s

    @property
    def ok(self) -> bool | None:
        return None if self.row.target_s is None else self.median_s <= self.row.target_s


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and of every child process it has waited for (so a row that
    runs a whole `rotation` process, and the processes that one forks, counts their CPU, not only the bench's)."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def measure(row: Row) -> Result:
    """One untimed warm-up call, then ``repeat`` timed calls (wall and CPU time) with the garbage collector paused
    during each call (as ``timeit`` does); peak memory from one more call under tracemalloc."""
    row.fn(row.setup() if row.setup else None)
    gc.collect()
    calls = [_timed_call(row) for _ in range(row.repeat)]
    times, cpu = [w for w, _ in calls], [c for _, c in calls]
    return Result(row, statistics.median(times), _peak_mb(row), times, statistics.median(cpu))


def _timed_call(row: Row) -> tuple[float, float]:
    arg = row.setup() if row.setup else None
    gc.disable()
    try:
        c0, t0 = _cpu(), time.perf_counter()
        row.fn(arg)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
    finally:
        gc.enable()
    if row.record is not None:
        row.record.append(wall)
    return wall, cpu


def _peak_mb(row: Row) -> float:
    arg = row.setup() if row.setup else None
    gc.collect()
    tracemalloc.start()
    row.fn(arg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def measure_interleaved(rows: list[Row], block: int = 5) -> list[Result]:
    """Like :func:`measure` for each row, but round-robin in blocks: ``block`` timed calls of every row per round
    (until each has had its ``repeat``), so a slow spell of a shared machine (its speed swings by 1.5x within
    seconds here) falls on every row alike and the rows' ratios stay comparable. Each block starts with one
    untimed call, as :func:`measure` starts with one: the first calls after another row's run in caches and
    allocator arenas that row has disturbed (the first re-solve after a cvxpy solve costs 100-150 us more,
    measured), which is not the steady state a row measures (and is the warm-up). Peak memory as in
    :func:`measure`."""
    gc.collect()
    times: list[list[float]] = [[] for _ in rows]
    cpu: list[list[float]] = [[] for _ in rows]
    while any(len(t) < row.repeat for t, row in zip(times, rows)):
        for j, row in enumerate(rows):
            if len(times[j]) < row.repeat:
                row.fn(row.setup() if row.setup else None)
            for _ in range(min(block, row.repeat - len(times[j]))):
                wall, c = _timed_call(row)
                times[j].append(wall)
                cpu[j].append(c)
    return [Result(row, statistics.median(t), _peak_mb(row), t, statistics.median(c))
            for row, t, c in zip(rows, times, cpu)]


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def print_table(results: list[Result]) -> None:
    head = f"{'benchmark':58} {'median':>10} {'cpu':>10} {'peak mem':>10} {'target':>10}  status"
    print(head)
    print("-" * len(head))
    for r in results:
        tgt = fmt_time(r.row.target_s) if r.row.target_s else "-"
        status = {True: "ok", False: "MISSED", None: "peer" if r.row.peer else ""}[r.ok]
        if r.ok is False and r.cpu_ok:
            status += " (cpu ok)"       # on a shared machine the wall time waits for other jobs' cores
        print(f"{r.row.name[:58]:58} {fmt_time(r.median_s):>10} {fmt_time(r.cpu_s):>10} {r.peak_mb:>8.1f}MB {tgt:>10}  "
              f"{status} {r.row.note}")
