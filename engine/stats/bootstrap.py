"""Stationary block bootstrap (Politis and Romano 1994), drawn exactly as the ``arch`` package draws it.

The stationary bootstrap resamples blocks of consecutive rows whose lengths are geometric with mean
``block``; it keeps the serial dependence of daily returns (volatility clustering, overlapping
12-month windows) that an i.i.d. bootstrap would destroy. Rows of a 2-D array are resampled
together, so statistics of several aligned series (a strategy and its benchmark) keep their
cross-correlation.

Why not call ``arch`` here: importing ``arch.bootstrap`` imports the whole package (its univariate
models, scipy.stats): 2-4 s on this kind of machine, paid by every export that shows an interval. This
module is numpy only. It uses arch's conventions and random stream (per replication: ``integers(n)``
then ``random(n)`` from ``numpy.random.default_rng(seed)``; a new block starts where the uniform is at
most 1/block; blocks wrap around), and arch's Politis-White block-length rule, so its indices, block
lengths and intervals equal arch's (tests/test_bootstrap_arch.py checks indices exactly and block
lengths to 1e-10 against arch itself).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

DEFAULT_REPS = 1000
DEFAULT_LEVEL = 0.95


def optimal_block(x: np.ndarray) -> float:
    """Politis-White (2004) optimal mean block of the stationary bootstrap for one series, with the
    correction of Patton, Politis and White (2009) and arch's tuning: the bandwidth m is twice the first
    lag after which ``k_n = max(5, int(log10 n))`` consecutive autocorrelations lie inside
    +-2 sqrt(log10(n)/n) (at most ceil(sqrt n) + k_n); flat-top kernel weights; capped at
    ceil(min(3 sqrt n, n/3))."""
    n = len(x)
    e = x - x.mean()
    kn = max(5, int(np.log10(n)))
    m_max = int(np.ceil(np.sqrt(n))) + kn
    lags = np.arange(m_max + 1)
    cross = np.array([e[i:] @ e[: n - i] for i in lags])
    sq = np.concatenate([[0.0], np.cumsum(e * e)])            # sq[j] = sum of e[:j]^2
    tail = sq[n] - sq[lags + 1]                                # sum of e[i+1:]^2 (arch's normalisation)
    head = sq[n - lags - 1]                                    # sum of e[:-(i+1)]^2
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.abs(cross) / np.sqrt(tail * head) < 2 * np.sqrt(np.log10(n) / n)
    runs = [i - kn for i in range(kn, m_max + 1) if inside[i - kn: i].all()]
    m = min(2 * max(runs[0], 1) if runs else m_max, m_max)
    acv = cross / n
    k = np.arange(1, m + 1)
    lam = np.where(k / m <= 0.5, 1.0, 2 * (1 - k / m))
    g = np.sum(2 * lam * k * acv[1: m + 1])
    lr = acv[0] + np.sum(2 * lam * acv[1: m + 1])
    with np.errstate(divide="ignore", invalid="ignore"):     # a constant series: NaN, as arch gives
        b = ((2 * g ** 2) / (2 * lr ** 2)) ** (1 / 3) * n ** (1 / 3)
    return float(min(b, np.ceil(min(3 * np.sqrt(n), n / 3))))


def block_length(data: np.ndarray) -> int:
    """Mean block length for ``data`` (n rows, or n x k): :func:`optimal_block` (Politis-White, as arch
    computes it), the largest over columns, rounded up, at least 1 and at most n // 2. NaN rows must be
    removed by the caller."""
    x = np.asarray(data, dtype=float)
    x = x.reshape(len(x), -1)
    if len(x) < 8:
        return 1
    opt = np.array([optimal_block(col) for col in x.T], dtype=float)
    opt = opt[np.isfinite(opt)]
    b = math.ceil(float(opt.max())) if len(opt) else 1
    return int(min(max(b, 1), max(len(x) // 2, 1)))


def stationary_indices(rng: np.random.Generator, n: int, block: int) -> np.ndarray:
    """Row indices of one stationary-bootstrap replication of ``n`` rows with mean block ``block``:
    a block starts at row 0 and wherever the uniform is at most 1/block, at a uniform random row, and
    continues with the next rows (wrapping past the end)."""
    start = rng.integers(n, size=n, dtype=np.int64)
    new = rng.random(n) <= 1.0 / block
    new[0] = True
    at = np.maximum.accumulate(np.where(new, np.arange(n), 0))   # the row where each row's block began
    return (start[at] + np.arange(n) - at) % n


def stationary_index_rows(rng: np.random.Generator, n: int, block: int, reps: int) -> np.ndarray:
    """``reps`` consecutive replications of :func:`stationary_indices` as a (reps, n) array: the same random
    stream (per replication ``integers(n)`` then ``random(n)``), the block bookkeeping done for all rows at
    once; row r equals the r-th call of ``stationary_indices`` on the same generator."""
    starts = np.empty((reps, n), dtype=np.int64)
    new = np.empty((reps, n), dtype=bool)
    cut = 1.0 / block
    for r in range(reps):
        starts[r] = rng.integers(n, size=n, dtype=np.int64)
        new[r] = rng.random(n) <= cut
    new[:, 0] = True
    rows = np.arange(n)
    at = np.maximum.accumulate(np.where(new, rows, 0), axis=1)
    return (np.take_along_axis(starts, at, axis=1) + rows - at) % n


_CHUNK = 1 << 21     # index elements per batch of replications (16 MB of int64)


def _draws(x: np.ndarray, statistic, rng: np.random.Generator, block: int, reps: int) -> np.ndarray:
    """The statistic of each replication, in order. A 1-D sample with ``np.mean`` is averaged row-wise over
    the whole batch (numpy's row reduction is the same pairwise sum as ``np.mean`` of each row: equal bit
    for bit, tests/test_bootstrap_arch.py); other statistics are called once per replication."""
    n = len(x)
    step = max(1, _CHUNK // max(n, 1))
    out = []
    for first in range(0, reps, step):
        idx = stationary_index_rows(rng, n, block, min(step, reps - first))
        if statistic is np.mean and x.ndim == 1:
            out.append(x[idx].mean(axis=1))
        else:
            out.append(np.array([statistic(x[i]) for i in idx], dtype=float))
    return np.concatenate(out) if out else np.empty(0)


def stationary_ci(data: np.ndarray, statistic: Callable[[np.ndarray], float], *, block: int | None = None,
                  reps: int = DEFAULT_REPS, level: float = DEFAULT_LEVEL, seed: int = 0) -> dict:
    """Percentile interval of ``statistic(data)`` under the stationary bootstrap.

    ``data``: n rows (1-D, or n x k resampled by row); ``statistic`` maps an array shaped like
    ``data`` to a float (NaN results are dropped). ``block``: mean block length (None: ``block_length``).
    Returns ``{"value", "ci_low", "ci_high", "block", "reps", "level", "method"}``; the interval is
    None when fewer than half the replications give a finite value.
    """
    x = np.asarray(data, dtype=float)
    value = float(statistic(x))
    b = block_length(x) if block is None else int(block)
    rng = np.random.default_rng(seed)
    draws = _draws(x, statistic, rng, b, reps)
    draws = draws[np.isfinite(draws)]
    lo = hi = None
    if len(draws) >= reps / 2:
        a = (1.0 - level) / 2.0
        lo, hi = (float(v) for v in np.quantile(draws, [a, 1.0 - a]))
    return {"value": value, "ci_low": lo, "ci_high": hi, "block": b, "reps": int(reps), "level": level,
            "method": f"stationary block bootstrap (Politis-Romano), mean block {b} rows, {reps} draws, "
                      f"{level:.0%} percentile interval"}
