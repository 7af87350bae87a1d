"""Parameter sweeps: every configuration of a grid, locally in processes or on a Dask cluster.

``run_sweep`` answers "how does this strategy do across its parameters, and is the best point real?":
rows of metrics per configuration, the sensitivity of each metric around the best point, the
deflated Sharpe ratio of the best point for the number of configurations tried, and the probability
of backtest overfitting (CSCV) over the grid. Configurations are evaluated in fixed chunks
(``CHUNK`` momentum configurations, or one backtest, per task) whatever the executor, so the local and the cluster runs compute the same
arithmetic and return identical numbers.
"""
from __future__ import annotations

import itertools
import os
from typing import Callable

import numpy as np
import pandas as pd

from engine.errors import ArgumentError
from usecases.sweep_tasks import evaluate_chunk

CHUNK = 8
SCORE = "sharpe"
DEFAULT_START = "2005-01-01"     # as `rotation backtest`


def parse_grid(specs: list[str]) -> dict[str, list]:
    """``["lookback=118:134:2", "leverage=1.0,1.25"]`` -> ``{"lookback": [118, ..., 134], "leverage": [1.0, 1.25]}``.

    ``a:b:step`` includes b when it falls on the step; values are int when they look like ints,
    booleans for true/false, else floats. Raises ArgumentError naming the bad ``--grid``."""
    grid: dict[str, list] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ArgumentError("--grid", f"expected NAME=a:b:step or NAME=v1,v2, got {spec!r}")
        try:
            grid[name] = _range(values) if ":" in values else [_value(v) for v in values.split(",")]
        except ValueError:
            raise ArgumentError("--grid", f"{spec!r}: values must be numbers, true/false, or a:b:step") from None
        if not grid[name]:
            raise ArgumentError("--grid", f"{spec!r} gives no values (is the step's sign right?)")
    return grid


def _value(text: str):
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    f = float(t)
    return int(f) if f.is_integer() and "." not in t else f


def _range(text: str) -> list:
    parts = [_value(p) for p in text.split(":")]
    if len(parts) not in (2, 3):
        raise ValueError(text)
    a, b, step = (parts + [1])[:3]
    if step == 0:
        raise ValueError(text)
    n = int(np.floor((b - a) / step + 1e-9)) + 1
    vals = [a + i * step for i in range(max(n, 0))]
    return [int(v) if all(isinstance(p, int) for p in parts) else round(float(v), 12) for v in vals]


def configurations(grid: dict[str, list]) -> list[dict]:
    """The cartesian product of the grid, in grid order (the last parameter varies fastest)."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def _chunks(configs: list[dict], strategy: str) -> list[list[dict]]:
    """Fixed chunks: ``CHUNK`` momentum configurations (vectorised together), else one per task."""
    size = CHUNK if strategy == "momentum" else 1
    return [configs[i:i + size] for i in range(0, len(configs), size)]


def _check_strategy(strategy: str) -> None:
    if strategy == "momentum":
        return
    try:
        from usecases.backtest import STRATEGIES
    except ImportError:
        raise ArgumentError("--strategy", f"strategy {strategy!r} needs the backtester (usecases.backtest), which is "
                                          "not part of this build; only 'momentum' can be swept") from None
    if strategy not in STRATEGIES:
        raise ArgumentError("--strategy", f"expected one of {', '.join(STRATEGIES)}, got {strategy!r}")


_worker_market = None


def _init_worker(market) -> None:
    global _worker_market
    _worker_market = market


def _pool_task(strategy, chunk, start, end, refs):
    return evaluate_chunk(_worker_market, strategy, chunk, start, end, refs)


def _run_local(market, strategy, chunks, start, end, workers, tick, refs=None) -> list[list[dict]]:
    """In this process for momentum (vectorised) or one worker; else a pool of ``workers`` processes,
    each receiving the market once."""
    if strategy == "momentum" or workers <= 1 or len(chunks) == 1:
        out = []
        for ch in chunks:
            out.append(evaluate_chunk(market, strategy, ch, start, end, refs))
            tick(len(ch))
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    results: list = [None] * len(chunks)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                             initargs=(market,)) as pool:
        futures = {pool.submit(_pool_task, strategy, ch, start, end, refs): i for i, ch in enumerate(chunks)}
        from concurrent.futures import as_completed
        for f in as_completed(futures):
            i = futures[f]
            results[i] = _rows_or_failures(f, chunks[i])
            tick(len(chunks[i]))
    return results


def _rows_or_failures(future, chunk) -> list[dict]:
    """A chunk's rows; when the worker itself died, one failure row per configuration."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker is reported in the rows
        return [{"params": c, "metrics": {}, "error": f"worker failed: {type(exc).__name__}: {exc}", "returns": None}
                for c in chunk]


def _run_dask(address, market, strategy, chunks, start, end, tick, timeout: float = 20.0,
              refs=None) -> list[list[dict]]:
    """The same chunks as tasks on an existing Dask distributed scheduler at ``address``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ArgumentError("--scheduler", "needs dask distributed: pip install 'sector-rotation[cluster]'") from None
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise ArgumentError("--scheduler", f"cannot reach a Dask scheduler at {address} ({exc})") from None
    try:
        mf = client.scatter(market, broadcast=True, hash=False)
        rf = client.scatter(refs, broadcast=True, hash=False) if refs is not None else None
        futures = [client.submit(evaluate_chunk, mf, strategy, ch, start, end, rf, pure=False) for ch in chunks]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(chunks)
        for f in as_completed(futures):
            i = index[f.key]
            results[i] = _rows_or_failures(f, chunks[i])
            tick(len(chunks[i]))
        return results
    finally:
        client.close()


def run_sweep(market, strategy: str, grid: dict[str, list], start=None, end=None, scheduler: str | None = None,
              workers: int | None = None, progress: Callable[[int, int], None] | None = None,
              score: str = SCORE, connect_timeout: float = 20.0) -> dict:
    """Every configuration of ``grid`` for ``strategy`` between ``start`` (default 2005-01-01, as
    ``rotation backtest``) and ``end`` (default: the last session).

    Returns ``{"strategy", "from", "to", "grid", "configs_tried", "rows", "failed", "best",
    "sensitivity", "deflated_sharpe", "pbo", "executor", "returns"}``: ``rows`` hold the parameters,
    the metric keys of ``rotation backtest`` and ``error``; ``returns`` is the sessions x configs frame
    (successful configurations, columns numbered as ``rows``) behind the DSR and PBO.
    ``progress(done, total)`` is called as chunks finish; ``connect_timeout`` (seconds) bounds the wait
    for the scheduler.
    """
    if not grid:
        raise ArgumentError("--grid", "give at least one --grid NAME=values")
    _check_strategy(strategy)
    configs = configurations(grid)
    start = start if start is not None else DEFAULT_START
    refs = None
    if strategy == "momentum":
        from usecases.sweep_tasks import reference_returns

        lags = set(grid.get("lag", [1]))
        if len(lags) > 1:
            raise ArgumentError("--grid", "sweep one execution lag at a time (lag takes a single value)")
        refs = reference_returns(market, start, end, lags.pop())
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], len(configs))

    chunks = _chunks(configs, strategy)
    if scheduler:
        parts, executor = _run_dask(scheduler, market, strategy, chunks, start, end, tick, connect_timeout, refs), \
            f"dask {scheduler}"
    else:
        n = workers or min(os.cpu_count() or 1, len(chunks))
        parts = _run_local(market, strategy, chunks, start, end, n, tick, refs)
        executor = "in process (vectorised)" if strategy == "momentum" else f"local processes ({n})"
    rows = [r for part in parts for r in part]
    return _assemble(strategy, grid, rows, start, end, executor, score)


def _assemble(strategy, grid, rows, start, end, executor, score) -> dict:
    from engine.stats.pbo import pbo
    from engine.stats.sharpe import deflated_sharpe_from_returns

    ok = [i for i, r in enumerate(rows) if r["error"] is None]
    returns = pd.concat({i: rows[i]["returns"] for i in ok}, axis=1) if ok else pd.DataFrame()
    table = [{**r["params"], **r["metrics"], "error": r["error"]} for r in rows]
    out = {"strategy": strategy, "from": _day(returns.index[0]) if len(returns) else None,
           "to": _day(returns.index[-1]) if len(returns) else None, "grid": grid, "configs_tried": len(rows),
           "rows": table, "failed": [t for t in table if t["error"]], "executor": executor, "score": score,
           "best": None, "sensitivity": [], "deflated_sharpe": None, "pbo": None, "returns": returns}
    scores = [(rows[i]["metrics"].get(score), i) for i in ok]
    scores = [(s, i) for s, i in scores if s is not None and np.isfinite(s)]
    if not scores:
        return out
    best = max(scores)[1]
    out["best"] = {"index": best, "params": rows[best]["params"], "metrics": rows[best]["metrics"]}
    out["sensitivity"] = sensitivity(grid, table, best)
    col = returns.columns.get_loc(best)
    out["deflated_sharpe"] = _annual_dsr(deflated_sharpe_from_returns(returns.to_numpy(), col, n_trials=len(rows)))
    if returns.shape[1] >= 2:
        blocks = min(16, max(2, (len(returns.dropna()) // 60) // 2 * 2))
        p = pbo(returns.to_numpy(), n_blocks=blocks)
        out["pbo"] = {k: p[k] for k in ("pbo", "n_splits", "n_blocks", "n_configs")}
    return out


def _annual_dsr(d: dict) -> dict:
    """DSR record with the Sharpe figures also annualised (x sqrt(252)) for display."""
    return {**d, "sr_annual": d["sr"] * np.sqrt(252), "sr0_annual": d["sr0"] * np.sqrt(252)}


def _day(t) -> str:
    return pd.Timestamp(t).date().isoformat()


SENSITIVITY_KEYS = ("cagr", "sharpe", "max_drawdown", "volatility", "information_ratio", "turnover")


def sensitivity(grid: dict[str, list], table: list[dict], best: int, reach: int = 2) -> list[dict]:
    """Around the best point, one parameter at a time (the others held at the best values): each
    metric at up to ``reach`` grid steps either side. Per parameter: ``param``, ``values`` and, per
    metric, the list of values and ``drop`` = best minus the mean of its immediate neighbours (a large
    drop marks a lone spike)."""
    point = {k: table[best][k] for k in grid}
    out = []
    for name, values in grid.items():
        if len(values) < 2:
            continue
        at = values.index(point[name])
        around = values[max(at - reach, 0):at + reach + 1]
        cells = [_find(table, {**point, name: v}) for v in around]
        row = {"param": name, "values": around, "best_value": point[name], "metrics": {}}
        for key in SENSITIVITY_KEYS:
            series = [None if c is None else c.get(key) for c in cells]
            centre = series[around.index(point[name])]
            nb = [series[j] for j in (around.index(point[name]) - 1, around.index(point[name]) + 1)
                  if 0 <= j < len(series) and series[j] is not None]
            drop = None if centre is None or not nb else float(centre - np.mean(nb))
            row["metrics"][key] = {"values": series, "drop": drop}
        out.append(row)
    return out


def _find(table: list[dict], params: dict) -> dict | None:
    for t in table:
        if t["error"] is None and all(t.get(k) == v for k, v in params.items()):
            return t
    return None


def write_csv(result: dict, path) -> None:
    """One row per configuration (parameters, metrics, error), written atomically."""
    from workbooks.atomic import atomic_write_bytes

    atomic_write_bytes(path, pd.DataFrame(result["rows"]).to_csv(index=False).encode())


def write_xlsx(result: dict, path) -> None:
    """The sweep workbook (rows, heat maps, sensitivity, summary), written atomically."""
    from workbooks.atomic import atomic_write_bytes
    from workbooks.sweep_book import sweep_workbook_bytes

    atomic_write_bytes(path, sweep_workbook_bytes(result))


def sweep_log_path():
    """Where sweeps are recorded: ``$ROTATION_SWEEP_LOG``, else ``sweeps.jsonl`` beside the store."""
    from pathlib import Path

    if os.environ.get("ROTATION_SWEEP_LOG"):
        return Path(os.environ["ROTATION_SWEEP_LOG"])
    from engine.data.store import default_store_path

    return Path(default_store_path()).with_name("sweeps.jsonl")


def record_sweep(result: dict, label: str) -> None:
    """Append the sweep (strategy, window, grid, configs tried, best, DSR, PBO) to the sweep log, so
    that a scorecard can count every configuration actually tried."""
    import json
    from datetime import datetime, timezone

    entry = {"utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data": label,
             "strategy": result["strategy"], "from": result["from"], "to": result["to"], "grid": result["grid"],
             "configs_tried": result["configs_tried"], "best": (result.get("best") or {}).get("params"),
             "dsr": (result.get("deflated_sharpe") or {}).get("dsr"), "pbo": (result.get("pbo") or {}).get("pbo"),
             "sharpe_variance": (result.get("deflated_sharpe") or {}).get("trial_variance")}
    path = sweep_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")


def recorded_sweeps(strategy: str | None = None) -> list[dict]:
    """Sweep log entries (all, or of one strategy), oldest first; an unreadable line is skipped."""
    import json

    path = sweep_log_path()
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if strategy is None or e.get("strategy") == strategy:
            out.append(e)
    return out
