"""Probability of backtest overfitting by combinatorially symmetric cross-validation
(Bailey, Borwein, Lopez de Prado and Zhu 2017).

The T x N matrix of per-period returns of N configurations is cut into S equal blocks of
consecutive rows. For every way of choosing S/2 blocks as the in-sample set (the rest out of
sample), the configuration with the best in-sample Sharpe is found and its out-of-sample rank
among the N is taken: omega = rank / (N + 1), lambda = ln(omega / (1 - omega)). PBO is the share of
splits with lambda <= 0, i.e. where the in-sample winner lands in the bottom half out of sample.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
from engine.errors import ArgumentError


def _block_moments(m: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block: row count, sum and sum of squares per configuration (blocks x N)."""
    edges = np.linspace(0, len(m), s + 1).astype(int)
    cnt = np.diff(edges).astype(float)
    s1 = np.add.reduceat(m, edges[:-1], axis=0)
    s2 = np.add.reduceat(m * m, edges[:-1], axis=0)
    return cnt, s1, s2


def _sharpe_from(cnt: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    mean = s1 / cnt[:, None]
    var = (s2 - cnt[:, None] * mean * mean) / (cnt[:, None] - 1.0)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, mean / sd, 0.0)


def pbo(returns: np.ndarray, n_blocks: int = 16) -> dict:
    """PBO of selecting the best in-sample Sharpe among the columns of ``returns`` (T x N, N >= 2).

    ``n_blocks`` (even, default 16: 12,870 splits) blocks of consecutive rows; rows with NaN are dropped.
    Returns ``{"pbo", "n_splits", "n_blocks", "n_configs", "logits"}`` (``logits``: lambda per split).
    """
    m = np.asarray(returns, float)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ArgumentError("returns", f"PBO needs a T x N matrix with N >= 2 configurations, got shape {m.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise ArgumentError("n_blocks", f"expected an even number of blocks >= 2, got {n_blocks}")
    m = m[np.isfinite(m).all(axis=1)]
    if len(m) < 2 * n_blocks:
        raise ArgumentError("returns", f"{len(m)} complete rows are too few for {n_blocks} blocks")
    cnt, s1, s2 = _block_moments(m, n_blocks)
    splits = np.array(list(combinations(range(n_blocks), n_blocks // 2)))
    ins = np.zeros((len(splits), n_blocks))
    ins[np.arange(len(splits))[:, None], splits] = 1.0
    outs = 1.0 - ins
    sr_in = _sharpe_from(ins @ cnt, ins @ s1, ins @ s2)
    sr_out = _sharpe_from(outs @ cnt, outs @ s1, outs @ s2)
    best = np.argmax(sr_in, axis=1)
    v = sr_out[np.arange(len(splits)), best][:, None]
    rank = (sr_out < v).sum(axis=1) + ((sr_out == v).sum(axis=1) + 1) / 2.0   # average rank, ties halved
    n = m.shape[1]
    omega = rank / (n + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return {"pbo": float(np.mean(logits <= 0.0)), "n_splits": int(len(splits)), "n_blocks": int(n_blocks),
            "n_configs": int(n), "logits": logits}
