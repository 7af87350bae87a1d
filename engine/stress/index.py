"""Composite stress index: standardized inputs combined by an expanding first principal component.

How the PCA handles a changing input set (MOVE from 2002, holes): at each session t the correlation
matrix of the standardized inputs is estimated from all sessions up to t (pairwise-complete,
cumulative sums, so it is cheap and exactly point-in-time). Only the inputs that are *active* at t
(a value at t and at least ``pca_min_history`` standardized observations) enter; the first
eigenvector of their correlation sub-matrix gives the weights, signed so the anchor input's loading
is positive. The index is the PC score divided by sqrt(lambda_1), i.e. the score of a unit-variance
factor: adding or losing an input changes the weights but keeps the index on the same scale
(standard deviations of its own history, 0 = average stress).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def expanding_correlations(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete expanding correlation matrices of the columns of ``z`` (n x k, NaN = missing).

    Returns ``(corr, count)`` of shape (n, k, k): at row t, the correlation (and the number of joint
    observations) over rows 0..t. Entries with fewer than two joint observations are NaN.

    The running sums are kept for the k (k + 1) / 2 pairs i <= j only, as (n, pairs) arrays, and written
    into both triangles at the end: the same sums in the same order as for the full matrices (each entry
    bit for bit), with 55 % of the elements for k = 11 and fewer temporaries (each freshly touched array costs
    a page fault per 4 KiB; 22 MB less peak memory on ../shared/data).
    """
    nobs, k = z.shape
    iu, ju = np.triu_indices(k)
    m = ~np.isnan(z)
    zf = np.where(m, z, 0.0)
    mf = m.astype(float)
    zi, zj, mi, mj = zf[:, iu], zf[:, ju], mf[:, iu], mf[:, ju]
    n = np.cumsum(mi * mj, axis=0)
    si = np.cumsum(zi * mj, axis=0)          # sum of z_i where j is also present
    sj = np.cumsum(zj * mi, axis=0)
    zi *= zi
    zj *= zj
    sii = np.cumsum(zi * mj, axis=0)
    sjj = np.cumsum(zj * mi, axis=0)
    sij = np.cumsum(zf[:, iu] * zf[:, ju], axis=0)
    del zi, zj, mi, mj
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sij - si * sj / n
        sii -= si * si / n                   # the variances of i and j over the joint rows
        sjj -= sj * sj / n
        sii *= sjj
        np.sqrt(sii, out=sii)
        cov /= sii
    cov[n < 2] = np.nan
    corr = np.empty((nobs, k, k))
    count = np.empty((nobs, k, k))
    corr[:, iu, ju] = cov
    corr[:, ju, iu] = cov
    count[:, iu, ju] = n
    count[:, ju, iu] = n
    return corr, count


def combine(z: pd.DataFrame, anchor: str, method: str = "pca", min_history: int = 63
            ) -> tuple[pd.Series, pd.DataFrame]:
    """Combine standardized inputs into one index per session.

    ``z``: sessions x inputs (expanding z-scores, NaN where unavailable); ``anchor``: the column whose
    loading is made positive (its absence at t makes the index NaN at t). ``method``: "pca" (first
    principal component of the expanding correlation matrix) or "equal" (equal weights). Returns the
    index (NaN before any input is active) and the loadings used at each session (0 for inactive inputs).
    """
    cols = list(z.columns)
    if anchor not in cols:
        raise KeyError(f"anchor {anchor!r} not among the inputs {cols}")
    a = cols.index(anchor)
    zz = z.to_numpy(dtype=float)
    nobs, k = zz.shape
    corr, count = expanding_correlations(zz)
    diag = count[:, np.arange(k), np.arange(k)]
    active = ~np.isnan(zz) & (diag >= min_history)
    act2 = active[:, :, None] & active[:, None, :]
    r = np.nan_to_num(corr, copy=False, nan=0.0)       # in place: corr is this call's own array
    r[~act2] = 0.0
    r[:, np.arange(k), np.arange(k)] = np.where(active, 1.0, 0.0)
    if method == "pca":
        vals, vecs = np.linalg.eigh(r)
        w = vecs[:, :, -1]
        lam = vals[:, -1]
        flip = np.where(w[:, a] < 0, -1.0, 1.0)
        w = w * flip[:, None]
    elif method == "equal":
        w = active / np.sqrt(np.maximum(active.sum(axis=1, keepdims=True), 1))
        lam = np.einsum("ni,nij,nj->n", w, r, w)
    else:
        raise ValueError(f"unknown combine method {method!r}")
    w = np.where(active, w, 0.0)
    ok = active[:, a] & (lam > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.einsum("ni,ni->n", w, np.nan_to_num(zz)) / np.sqrt(lam)
    score[~ok] = np.nan
    w[~ok] = np.nan
    log.debug("stress index: %d sessions, %d with a value", nobs, int(ok.sum()))
    return (pd.Series(score, index=z.index, name="index"),
            pd.DataFrame(w, index=z.index, columns=cols))
