"""Research benchmarks: the 241-lookback momentum sweep (vectorised, in process) beside vectorbt on
identical rules, and wall times of a `rotation` sweep on 1 and 2 Dask workers.

Run: python bench/run.py research                 (sweep rows, vectorbt beside)
     python bench/bench_research.py --rotation-configs 200   (rotation sweep wall times, 1 and 2 workers)
Rules for the side-by-side: 9 original sectors, top 3 by trailing N-session return, equal weight,
decided at each month's last session and filled at the next close, no costs, cash earning nothing,
1999-01-01 to 2019-12-31, N = 20..260 (241 lookbacks). The two give the same daily returns (the
largest difference is printed).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness import Row

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SECTORS9 = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
LOOKBACKS = np.arange(20, 261)
START, END = "1999-01-01", "2019-12-31"
_cache: dict = {}


def _market():
    if "m" not in _cache:
        from engine.data.folder import load_folder
        _cache["m"] = load_folder(DATA) if (DATA / "README.md").exists() else None
    return _cache["m"]


def _ours(m, cost_bps=0.0, tbill=None):
    from engine.research.momentum import momentum_sweep
    return momentum_sweep(m.prices[SECTORS9], tbill, lookback=LOOKBACKS, cost_bps=cost_bps, start=START, end=END)


def _ours_with_metrics(m):
    from engine.research.summary import summarize
    r = _ours(m, 10.0, m.stress["dgs3mo"])
    return summarize(r.returns.to_numpy(), turnover=r.turnover.to_numpy(), cost=r.cost.to_numpy(),
                     leverage=r.leverage.to_numpy())


def _vectorbt(m):
    """The same sweep in vectorbt: one grouped, cash-sharing portfolio of 241 x 9 columns."""
    import vectorbt as vbt
    from engine.research.momentum import decision_positions

    close = m.prices[SECTORS9]
    s = close.index
    first = int(s.searchsorted(pd.Timestamp(START)))
    last = int(s.searchsorted(pd.Timestamp(END), side="right")) - 1
    dec = decision_positions(s, first, last, 1)
    sizes = []
    for n in LOOKBACKS:
        score = (close / close.shift(n) - 1.0).iloc[dec]
        rank = score.rank(axis=1, ascending=False, method="first")
        w = ((rank <= 3) & score.notna()).astype(float) / 3.0
        size = pd.DataFrame(np.nan, index=s, columns=SECTORS9)
        size.iloc[dec + 1] = w.to_numpy()
        sizes.append(size)
    keys = pd.Index(LOOKBACKS, name="lookback")
    size = pd.concat(sizes, axis=1, keys=keys).iloc[first:last + 1]
    px = close.iloc[first:last + 1].vbt.tile(len(LOOKBACKS), keys=keys)
    pf = vbt.Portfolio.from_orders(px, size, size_type="targetpercent", group_by="lookback", cash_sharing=True,
                                   call_seq="auto", init_cash=1e6, freq="1D")
    return pf.returns()


def _check_equal(m) -> str:
    try:
        v = _vectorbt(m)
    except Exception as exc:  # noqa: BLE001 - the bench says precisely why the peer could not run
        return f"vectorbt could not run: {type(exc).__name__}: {exc}"
    o = _ours(m).returns
    d = np.abs(v.to_numpy() - o.to_numpy()).max()
    return f"identical rules: largest daily-return difference vs ours {d:.1e}"


def rows() -> list[Row]:
    m = _market()
    if m is None:
        return [Row("research: ../shared/data missing", lambda _: None, note="no real data")]
    note = _check_equal(m)
    out = [Row("momentum sweep 241 lookbacks 1999-2019 (vectorised returns)", lambda _: _ours(m), 0.5, repeat=5),
           Row("  + 10 bps, T-bill cash, all metrics of every configuration", lambda _: _ours_with_metrics(m), 1.0,
               repeat=5)]
    if not note.startswith("vectorbt could not run"):
        out.append(Row("vectorbt: same 241-lookback sweep (one grouped portfolio)", lambda _: _vectorbt(m),
                       repeat=2, note=note, peer=True))
    else:
        out.append(Row("vectorbt: not run", lambda _: None, note=note, peer=True, repeat=1))
    return out


def rotation_grid(n: int) -> dict:
    """``n`` rotation configurations: leverage 0.90, 0.905, ... by 5 cost levels (5-25 bps)."""
    costs = [5.0, 10.0, 15.0, 20.0, 25.0]
    per = max(1, -(-n // len(costs)))
    lev = [round(0.9 + 0.005 * i, 3) for i in range(per)]
    grid = {"leverage": lev, "cost_bps": costs}
    return grid if per * len(costs) == n else {"leverage": lev[:n], "cost_bps": [10.0]}


def rotation_wall_times(n: int, workers=(1, 2), start: str = START, end: str = END) -> list[tuple]:
    """Wall time of an ``n``-configuration `rotation` sweep on a loopback Dask cluster of each size
    (real `dask scheduler` and `dask worker` processes, one thread each), with the rows' Sharpe ratios
    so the runs can be compared: (workers, seconds, failed configurations, sharpes)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from dask_cluster import loopback_cluster
    from usecases.sweep import run_sweep

    m, out = _market(), []
    for w in workers:
        with loopback_cluster(w, timeout=120) as address:
            t0 = time.perf_counter()
            res = run_sweep(m, "rotation", rotation_grid(n), start=start, end=end, scheduler=address)
            out.append((w, time.perf_counter() - t0, len(res["failed"]), [r.get("sharpe") for r in res["rows"]]))
    return out


def rotation_in_process(start: str = START, end: str = END) -> list[tuple[str, float, float]]:
    """One `rotation` configuration in this process: the first (stress stage, scores, references and
    the allocator compiled) and the next two (cached), as (label, CPU s, wall s)."""
    from usecases.backtest import run_backtest

    m, out = _market(), []
    for label, lev in (("first configuration", 1.0), ("next configuration", 0.95), ("next configuration", 0.9)):
        c0, t0 = time.process_time(), time.perf_counter()
        run_backtest(m, "rotation", start=start, end=end, leverage=lev)
        out.append((label, time.process_time() - c0, time.perf_counter() - t0))
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rotation-configs", type=int, default=200)
    ap.add_argument("--from", dest="start", default=START)
    ap.add_argument("--to", dest="end", default=END)
    a = ap.parse_args()
    print(f"rotation backtest {a.start} to {a.end}, in process (run_backtest):")
    for label, cpu, wall in rotation_in_process(a.start, a.end):
        print(f"  {label:24} cpu {cpu:6.2f} s   wall {wall:6.2f} s")
    print(f"{'rotation sweep (Dask, loopback)':34} {'workers':>8} {'configs':>8} {'wall':>10} {'per config':>11} failed")
    runs = rotation_wall_times(a.rotation_configs, start=a.start, end=a.end)
    for w, t, failed, _ in runs:
        print(f"{'  ' + a.start + ' to ' + a.end:34} {w:>8} {a.rotation_configs:>8} {t:>9.1f}s "
              f"{t / a.rotation_configs:>10.2f}s {failed}")
    same = all(r[3] == runs[0][3] for r in runs)
    print(f"rows identical across cluster sizes: {same}; {os.cpu_count()} CPU cores on this machine, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
