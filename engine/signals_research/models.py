"""Candidate models: each ``fit(x, y, binary)`` returns a predictor ``x -> score`` (a probability for a
binary target, an expected value for a continuous one). Maintained implementations only (scikit-learn).

- ``ridge``: ridge logistic (binary) or ridge regression (continuous) on standardized features;
- ``rule``: one signal, standardized with the training mean/sd, its sign and scale fitted (a z-score rule);
- ``equal``: the equal-weight average of the sign-aligned standardized features (signs from the training
  correlation with the target), calibrated like a rule;
- ``hgb``: a shallow, strongly regularised HistGradientBoosting model (depth 2, 40 trees, 200 rows a leaf);
- ``hmm2`` / ``hmm3``: a two- / three-state Gaussian hidden Markov regime model (hmmlearn EM on the training
  rows, label-free), read with the causal forward filter; the score is the filtered probability of the most
  volatile state, calibrated on the training rows like a rule (engine.signals_research.hmm). Its predictor is
  *sequential*: it takes every row of history up to the last one to score, since the filter at t needs rows
  before t (and only those).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidate:
    """A model applied to a feature set; ``name`` is unique in a pool."""

    name: str
    model: str
    features: tuple[str, ...]


def _standardize(x):
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return mu, sd


def _linear(z, y, binary, ridge):
    from sklearn.linear_model import LogisticRegression, Ridge

    if binary:
        m = LogisticRegression(C=1.0 / ridge, max_iter=500).fit(z, y)
        return lambda zz: m.predict_proba(zz)[:, 1]
    m = Ridge(alpha=ridge).fit(z, y)
    return m.predict


def fit(model: str, x: np.ndarray, y: np.ndarray, binary: bool, ridge: float = 1.0):
    """A predictor for ``model`` fitted on rows ``x`` (n, k) and targets ``y`` (n,)."""
    mu, sd = _standardize(x)
    z = (x - mu) / sd
    if model in ("ridge", "rule"):
        f = _linear(z, y, binary, ridge)
        return lambda xx: f((xx - mu) / sd)
    if model == "equal":
        yc = y - y.mean()
        sign = np.sign(z.T @ yc)
        sign[sign == 0] = 1.0
        f = _linear((z * sign).mean(axis=1, keepdims=True), y, binary, ridge)
        return lambda xx: f((((xx - mu) / sd) * sign).mean(axis=1, keepdims=True))
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        kw = dict(max_depth=2, max_iter=40, learning_rate=0.05, min_samples_leaf=200, l2_regularization=10.0,
                  early_stopping=False, random_state=0)
        if binary:
            m = HistGradientBoostingClassifier(**kw).fit(x, y)
            return lambda xx: m.predict_proba(xx)[:, 1]
        m = HistGradientBoostingRegressor(**kw).fit(x, y)
        return m.predict
    if model in ("hmm2", "hmm3"):
        return _hmm(int(model[-1]), x, y, binary, ridge)
    raise ValueError(f"unknown model {model!r}")


def _hmm(k: int, x, y, binary, ridge):
    """The regime model's calibrated predictor (see module doc); ``predict.sequential`` is True."""
    from engine.signals_research.hmm import filtered, fit_regimes

    reg = fit_regimes(x, k)
    s = filtered(reg, x)[:, -1:]
    ok = np.isfinite(s[:, 0])
    mu, sd = _standardize(s[ok])
    f = _linear((s[ok] - mu) / sd, y[ok], binary, ridge)

    def predict(hist):
        p = filtered(reg, hist)[:, -1:]
        out = np.full(len(hist), np.nan)
        good = np.isfinite(p[:, 0])
        if good.any():
            out[good] = f((p[good] - mu) / sd)
        return out

    predict.sequential = True
    predict.regimes = reg
    return predict


def default_pool(names, sets: dict[str, tuple[str, ...]], hgb: bool = True,
                 hmm: tuple[str, ...] = ()) -> list[Candidate]:
    """Rules on every signal in ``names``; ridge and equal-weight on every feature set; hgb on the
    largest set when ``hgb``; two- and three-state HMMs on each feature set named in ``hmm``."""
    pool = [Candidate(f"rule:{n}", "rule", (n,)) for n in names]
    for k, feats in sets.items():
        pool.append(Candidate(f"ridge:{k}", "ridge", tuple(feats)))
        pool.append(Candidate(f"equal:{k}", "equal", tuple(feats)))
    if hgb and sets:
        k = max(sets, key=lambda s: len(sets[s]))
        pool.append(Candidate(f"hgb:{k}", "hgb", tuple(sets[k])))
    for k in hmm:
        for m in ("hmm2", "hmm3"):
            pool.append(Candidate(f"{m}:{k}", m, tuple(sets[k])))
    return pool
