"""A Gaussian hidden Markov regime model, fitted by hmmlearn's EM and read with a causal filter.

hmmlearn's ``predict_proba`` returns *smoothed* state probabilities (forward-backward: the value at t uses
rows after t), which would be look-ahead in a backtest. :func:`filtered` runs the forward recursion only,
P(state_t | x_1..x_t), so the value at t uses rows up to t. On the last row of a sequence the filtered and
the smoothed probabilities coincide, which the tests use to check the filter against hmmlearn.

States are relabelled deterministically by the trace of their covariance (ascending): state K-1 is the
most volatile ("stress") regime, whatever order EM happened to find them in. Features are standardized with
the training mean and standard deviation before the fit.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Regimes:
    """Fitted parameters in variance order: ``startprob`` (K,), ``transmat`` (K, K), ``means`` (K, d),
    ``covars`` (K, d, d), plus the standardization ``mu``/``sd`` (d,) and EM's ``converged`` flag."""

    startprob: np.ndarray
    transmat: np.ndarray
    means: np.ndarray
    covars: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    converged: bool


def fit_regimes(x: np.ndarray, k: int, seed: int = 0, n_iter: int = 50) -> Regimes:
    """Fit a ``k``-state full-covariance Gaussian HMM to the rows of ``x`` (n, d; finite) and order the
    states by the trace of their covariance."""
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return _fit_cached(np.ascontiguousarray((x - mu) / sd).tobytes(), x.shape, k, seed, n_iter, mu.tobytes(),
                       sd.tobytes())


@lru_cache(maxsize=512)
def _fit_cached(zb: bytes, shape, k, seed, n_iter, mub, sdb) -> Regimes:
    """The EM fit is label-free, so targets sharing a horizon reuse it (keyed by the standardized rows)."""
    from hmmlearn.hmm import GaussianHMM
    from threadpoolctl import threadpool_limits

    z = np.frombuffer(zb).reshape(shape)
    m = GaussianHMM(n_components=k, covariance_type="full", n_iter=n_iter, tol=1e-2, random_state=seed,
                    min_covar=1e-3, init_params="stc")
    m.means_ = _initial_means(z, k)
    with threadpool_limits(1):          # tiny problems: thread start-up costs more than it saves
        m.fit(z)
    cov = m.covars_
    order = np.argsort([np.trace(c) for c in cov], kind="stable")
    return Regimes(m.startprob_[order], m.transmat_[np.ix_(order, order)], m.means_[order], cov[order],
                   np.frombuffer(mub), np.frombuffer(sdb), bool(m.monitor_.converged))


def _initial_means(z: np.ndarray, k: int) -> np.ndarray:
    """Deterministic EM start (instead of k-means): the mean rows of ``k`` equal groups of rows sorted by
    their distance from the centre, calm to volatile."""
    order = np.argsort(np.linalg.norm(z, axis=1), kind="stable")
    return np.array([z[g].mean(axis=0) for g in np.array_split(order, k)])


def _log_emission(r: Regimes, z: np.ndarray) -> np.ndarray:
    """Gaussian log densities (n, K) through each covariance's eigen-decomposition (eigenvalues floored
    at 1e-12: EM on degenerate rows can leave a covariance a hair below positive semidefinite)."""
    d = z.shape[1]
    out = np.empty((len(z), len(r.means)))
    for j in range(len(r.means)):
        w, v = np.linalg.eigh((r.covars[j] + r.covars[j].T) / 2)
        w = np.maximum(w, 1e-12)
        q = ((z - r.means[j]) @ v) ** 2 / w
        out[:, j] = -0.5 * (q.sum(axis=1) + np.log(w).sum() + d * np.log(2 * np.pi))
    return out


def filtered(r: Regimes, x: np.ndarray) -> np.ndarray:
    """P(state_t | rows up to t) for every row of ``x`` (n, d); a row with a NaN only propagates the state
    through the transition matrix and gets NaN probabilities. Rows before the first finite row: NaN."""
    z = (x - r.mu) / r.sd
    ok = np.isfinite(z).all(axis=1)
    out = np.full((len(z), len(r.means)), np.nan)
    if not ok.any():
        return out
    logb = np.full((len(z), len(r.means)), np.nan)
    logb[ok] = _log_emission(r, z[ok])
    b = np.full_like(logb, np.nan)
    b[ok] = np.exp(logb[ok] - logb[ok].max(axis=1, keepdims=True))
    a, A = None, r.transmat
    for t in np.flatnonzero(ok)[0] + np.arange(len(z) - np.flatnonzero(ok)[0]):
        prior = r.startprob if a is None else a @ A
        if not ok[t]:
            a = prior
            continue
        post = prior * b[t]
        s = post.sum()
        a = post / s if s > 0 else prior
        out[t] = a
    return out
