"""Out-of-sample metrics with stationary block-bootstrap intervals (engine.stats).

Binary targets: ROC AUC, Brier score, balanced accuracy (warning when the probability exceeds the
training base rate known at the refit). Continuous targets: Spearman rank IC with a Newey-West (HAC)
t-statistic (lags = horizon: overlapping forward windows). Intervals resample aligned rows in blocks
of mean length at least the horizon.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from engine.stats.bootstrap import block_length, stationary_ci


def auc(p, y) -> float:
    """ROC AUC via the Mann-Whitney statistic (ties count one half); NaN with a single class."""
    npos = y.sum()
    if npos == 0 or npos == len(y) or np.ptp(p) == 0:
        return np.nan if npos == 0 or npos == len(y) else 0.5
    r = rankdata(p)
    return float((r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(y) - npos)))


def brier(p, y) -> float:
    """Mean squared error of the probability."""
    return float(np.mean((p - y) ** 2))


def balanced_accuracy(flag, y) -> float:
    """Mean of the hit rate on positives and the correct-rejection rate on negatives."""
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return np.nan
    return float(0.5 * (flag[pos].mean() + (1 - flag[neg]).mean()))


def rank_ic(p, y) -> float:
    """Spearman correlation."""
    if np.ptp(p) == 0 or np.ptp(y) == 0:
        return np.nan
    return float(np.corrcoef(rankdata(p), rankdata(y))[0, 1])


def hac_t(p, y, lags: int) -> float:
    """Newey-West t-statistic of the slope of rank(y) on rank(p) (statsmodels OLS, HAC covariance)."""
    import statsmodels.api as sm

    rp, ry = rankdata(p), rankdata(y)
    res = sm.OLS(ry, sm.add_constant(rp)).fit(cov_type="HAC", cov_kwds={"maxlags": int(lags)})
    return float(res.tvalues[1])


def _ci(data, stat, block, reps, seed):
    r = stationary_ci(data, stat, block=block, reps=reps, seed=seed)
    return {"value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}


def evaluate(pred: np.ndarray, y: np.ndarray, binary: bool, horizon: int, base: np.ndarray | None = None,
             reps: int = 300, seed: int = 0, block: int | None = None) -> dict:
    """Metrics of ``pred`` against ``y`` on the rows where both are finite, each with an interval.

    Returns ``{"n", "block", metric: {"value", "ci_low", "ci_high"}, ...}``; ``base`` is the threshold of
    balanced accuracy per row (binary). ``block``: mean block length (None: Politis-White, at least
    ``horizon``)."""
    ok = np.isfinite(pred) & np.isfinite(y) & (np.isfinite(base) if base is not None else True)
    p, t = pred[ok], y[ok]
    if len(p) < 50:
        return {"n": int(len(p)), "block": None}
    b = block if block is not None else max(block_length(np.column_stack([p, t])), horizon)
    out = {"n": int(len(p)), "block": int(b)}
    if binary:
        th = base[ok]
        d = np.column_stack([p, t, th])
        out["auc"] = _ci(d, lambda a: auc(a[:, 0], a[:, 1]), b, reps, seed)
        out["brier"] = _ci(d, lambda a: brier(a[:, 0], a[:, 1]), b, reps, seed)
        out["balanced_accuracy"] = _ci(d, lambda a: balanced_accuracy((a[:, 0] > a[:, 2]).astype(float), a[:, 1]),
                                       b, reps, seed)
        out["base_rate"] = float(t.mean())
    else:
        d = np.column_stack([p, t])
        out["rank_ic"] = _ci(d, lambda a: rank_ic(a[:, 0], a[:, 1]), b, reps, seed)
        out["rank_ic"]["hac_t"] = hac_t(p, t, horizon)
    return out


def paired_difference(a: np.ndarray, b: np.ndarray, y: np.ndarray, binary: bool, block: int, reps: int = 300,
                      seed: int = 0) -> dict:
    """AUC (binary) or rank IC (continuous) of ``a`` minus that of ``b`` on their common rows, with a
    block-bootstrap interval resampling the rows of both together."""
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(y)
    d = np.column_stack([a[ok], b[ok], y[ok]])
    if len(d) < 50:
        return {"value": None, "ci_low": None, "ci_high": None, "n": int(len(d))}
    m = auc if binary else rank_ic
    r = _ci(d, lambda x: m(x[:, 0], x[:, 2]) - m(x[:, 1], x[:, 2]), block, reps, seed)
    r["n"] = int(len(d))
    return r
