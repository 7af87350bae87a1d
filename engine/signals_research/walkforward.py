"""Nested walk-forward: every candidate is refitted every ``step`` sessions on rows whose label is fully
known (t + horizon <= refit session); at each refit the candidate used for the next segment is the one
with the best out-of-sample score on past rows whose labels are known by then. The procedure's own
out-of-sample predictions are what gets reported, never the best candidate in hindsight.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.signals_research.models import Candidate, fit


@dataclass
class WalkForward:
    """``pred``: sessions x candidates (out of sample); ``base``: training base rate / mean per session;
    ``procedure``: the selected predictions; ``chosen``: (refit date, candidate) per refit;
    ``tried``: candidates in the pool; ``scores``: the chosen candidate's past-only score per refit (None:
    the default applied); ``refits``: the refit positions."""

    pred: pd.DataFrame
    base: pd.Series
    procedure: pd.Series
    chosen: list
    tried: int
    scores: list = None
    refits: list = None


def score(pred: np.ndarray, y: np.ndarray, binary: bool) -> float:
    """Selection score: ROC AUC (binary) or Spearman rank IC (continuous); NaN when undefined."""
    from scipy.stats import rankdata

    ok = np.isfinite(pred) & np.isfinite(y)
    p, t = pred[ok], y[ok]
    if len(p) < 30 or np.ptp(p) == 0:
        return np.nan
    if binary:
        npos = t.sum()
        if npos < 5 or npos == len(t):
            return np.nan
        r = rankdata(p)
        return float((r[t == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(t) - npos)))
    return float(np.corrcoef(rankdata(p), rankdata(t))[0, 1])


def candidate_predictions(x: pd.DataFrame, y: pd.Series, horizon: int, binary: bool, pool: list[Candidate],
                          step: int = 63, min_train: int = 500, min_positive: int = 20, ridge: float = 1.0):
    """Out-of-sample predictions of every candidate (sessions x names), the training base rate per session
    and the refit positions. The value at t uses only rows s <= refit - horizon and features at t."""
    yv = y.to_numpy(float)
    n = len(yv)
    out = {c.name: np.full(n, np.nan) for c in pool}
    base = np.full(n, np.nan)
    refits = []
    for p in range(horizon + min_train, n, step):
        known = np.isfinite(yv[: p - horizon + 1])
        if known.sum() < min_train or (binary and yv[: p - horizon + 1][known].sum() < min_positive):
            continue
        seg = slice(p, min(p + step, n))
        refits.append(p)
        base[seg] = yv[: p - horizon + 1][known].mean()
        for c in pool:
            xa = x[list(c.features)].to_numpy(float)
            tr = np.flatnonzero(known & np.isfinite(xa[: p - horizon + 1]).all(axis=1))
            if len(tr) < min_train or (binary and yv[tr].sum() < min_positive):
                continue
            f = fit(c.model, xa[tr], yv[tr], binary, ridge)
            if getattr(f, "sequential", False):      # a filter: the whole history up to the segment's end
                out[c.name][seg] = f(xa[: seg.stop])[seg]
                continue
            xs = xa[seg]
            okr = np.isfinite(xs).all(axis=1)
            if okr.any():
                out[c.name][seg.start + np.flatnonzero(okr)] = f(xs[okr])
    return pd.DataFrame(out, index=x.index), pd.Series(base, index=x.index), refits


def select(pred: pd.DataFrame, y: pd.Series, horizon: int, binary: bool, refits, default: str,
           min_oos: int = 252) -> tuple[pd.Series, list]:
    """The procedure: at each refit p the candidate with the best score on rows s <= p - horizon (labels
    known at p) among those with at least ``min_oos`` such scored rows; ``default`` until one qualifies."""
    proc, chosen, _ = select_scored(pred, y, horizon, binary, refits, default, min_oos)
    return proc, chosen


def select_scored(pred: pd.DataFrame, y: pd.Series, horizon: int, binary: bool, refits, default: str,
                  min_oos: int = 252) -> tuple[pd.Series, list, list]:
    """:func:`select` plus, per refit, the chosen candidate's past-only score (None where ``default``
    applied because no candidate had ``min_oos`` scored rows yet)."""
    yv = y.to_numpy(float)
    pv = pred.to_numpy(float)
    names = list(pred.columns)
    out = np.full(len(yv), np.nan)
    chosen, scores = [], []
    bounds = list(refits) + [len(yv)]
    for i, p in enumerate(refits):
        last = p - horizon + 1
        best, best_s = default, -np.inf
        for j, nm in enumerate(names):
            ok = np.isfinite(pv[:last, j]) & np.isfinite(yv[:last])
            if ok.sum() < min_oos:
                continue
            s = score(pv[:last, j], yv[:last], binary)
            if np.isfinite(s) and s > best_s:
                best, best_s = nm, s
        chosen.append((pred.index[p], best))
        scores.append(float(best_s) if np.isfinite(best_s) else None)
        out[p: bounds[i + 1]] = pv[p: bounds[i + 1], names.index(best)]
    return pd.Series(out, index=pred.index, name="procedure"), chosen, scores


def walk_forward(x, y, horizon, binary, pool, default, **kw) -> WalkForward:
    """Candidate predictions, then the nested selection (see module doc)."""
    min_oos = kw.pop("min_oos", 252)
    pred, base, refits = candidate_predictions(x, y, horizon, binary, pool, **kw)
    proc, chosen, scores = select_scored(pred, y, horizon, binary, refits, default, min_oos)
    return WalkForward(pred, base, proc, chosen, len(pool), scores, list(refits))
