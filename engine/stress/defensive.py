"""The defensive ranking: which sectors did better than tech when bond stress was high, and how sure we are.

Evidence of a sector s at the decision date t, using only what is known at t:

- sessions d whose stress regime (the causal regime at d) was ``stress`` or ``crisis`` and whose
  forward window ended by t (d + horizon <= t);
- on those sessions, ``y_d = P_s(d+h)/P_s(d) - P_XLK(d+h)/P_XLK(d)``: the sector's forward
  ``horizon``-session return relative to XLK;
- ``score`` = mean of y (the ranking sorts on it and nothing else), its Newey-West t-statistic with
  ``horizon`` lags (:func:`engine.factors.ic.newey_west`, the IC tests' estimator; overlapping windows)
  and a 95% stationary block-bootstrap interval (:func:`engine.stats.bootstrap.stationary_ci`, mean
  block at least the horizon).

Strength in words, computed: ``strong`` when the interval excludes zero AND |t| >= 2 AND a Student t-test
on non-overlapping windows (every ``horizon``-th session of the sample: ``p_independent``) gives p < 0.05;
``weak`` when either |t| >= 1 or the interval excludes zero; ``none`` otherwise. Why the third test: stress
comes in a handful of episodes, and on pure noise with four episodes (tests/test_defensive_evidence.py)
the HAC t and the bootstrap interval together still called 8.6% of series "strong" (210 series; nominal
5%); with the independent-window test 0.5%. ``direction`` says whether the
sector did better or worse than XLK. A sector with fewer than ``min_obs`` such sessions is left out.

The allocator's defensive tilt (:mod:`engine.optimize.expected`) is a documented PRIOR. It is called
"supported by the evidence" only when the defensive basket (XLU, XLP, XLV equally weighted) passes the
strong test with a positive score (:func:`tilt_basis`); its size stays the documented prior either way.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.errors import NoDataError
from engine.factors.ic import newey_west
from engine.universe import DEFENSIVE, SECTORS

HORIZON = 60
STRESS_REGIMES = ("stress", "crisis")
MIN_OBS = 120
REPS = 500
T_STRONG, T_WEAK = 2.0, 1.0
BASKET = "defensive basket"
P_STRONG = 0.05
THRESHOLD = (f"strong = the 95% block-bootstrap interval excludes zero, |Newey-West t| >= {T_STRONG:g} and a "
             f"t-test on non-overlapping windows gives p < {P_STRONG:g}; weak = |t| >= {T_WEAK:g} or the interval "
             "excludes zero; none otherwise")


def strength(t_stat: float, lo: float | None, hi: float | None, p_independent: float = 0.0) -> str:
    """``strong`` / ``weak`` / ``none`` from the HAC t-statistic, the interval and the independent-window
    p-value (module docstring)."""
    excludes = lo is not None and hi is not None and (lo > 0 or hi < 0)
    t = abs(t_stat) if math.isfinite(t_stat) else 0.0
    if excludes and t >= T_STRONG and math.isfinite(p_independent) and p_independent < P_STRONG:
        return "strong"
    return "weak" if excludes or t >= T_WEAK else "none"


def t_test_p(x: np.ndarray) -> float:
    """Two-sided p-value of Student's one-sample t-test of mean 0 (``scipy.stats.ttest_1samp``'s, without
    importing scipy.stats: about a second on the export path)."""
    from engine.stats.student import stdtr   # not scipy.special (0.4 s of CPU at import)

    n = len(x)
    t = float(np.mean(x) / (np.std(x, ddof=1) / math.sqrt(n)))
    return float(2.0 * stdtr(n - 1, -abs(t)))


def _evidence(y: np.ndarray, horizon: int, reps: int, seed: int) -> dict:
    from engine.stats.bootstrap import block_length, stationary_ci

    mean, se = newey_west(y, horizon)
    t = mean / se if se > 0 else math.nan
    ci = stationary_ci(y, np.mean, block=max(block_length(y), horizon), reps=reps, seed=seed)
    lo, hi = ci["ci_low"], ci["ci_high"]
    ind = y[::horizon]
    p = t_test_p(ind) if len(ind) >= 3 and np.std(ind) > 0 else math.nan
    return {"score": float(mean), "t_stat": float(t), "ci_low": lo, "ci_high": hi, "n": int(len(y)),
            "p_independent": p, "n_independent": int(len(ind)), "strength": strength(t, lo, hi, p),
            "direction": "better than XLK" if mean > 0 else "worse than XLK"}


def relative_returns(prices: pd.DataFrame, regimes: pd.Series, pos: int, horizon: int, tech: str) -> pd.DataFrame:
    """y (sessions in stress with a completed window by position ``pos``) x sector, plus the basket."""
    p = prices.iloc[: pos + 1]
    fwd = p.shift(-horizon) / p - 1.0
    rel = fwd.drop(columns=[tech]).sub(fwd[tech], axis=0)
    rel[BASKET] = fwd[[s for s in DEFENSIVE if s in fwd.columns]].mean(axis=1, skipna=False) - fwd[tech]
    reg = regimes.reindex(p.index)
    return rel[reg.isin(STRESS_REGIMES).to_numpy()]


def defensive_evidence(prices: pd.DataFrame, regimes: pd.Series, pos: int, horizon: int = HORIZON,
                       tech: str = "XLK", min_obs: int = MIN_OBS, reps: int = REPS) -> pd.DataFrame:
    """Evidence per sector (and the basket) at session position ``pos``: DataFrame indexed by sector with
    score, t_stat, ci_low, ci_high, n, strength, direction; sectors sorted by score, the basket last.
    Raises NoDataError when no sector has ``min_obs`` stress sessions with completed windows."""
    cols = [s for s in SECTORS if s in prices.columns]
    rel = relative_returns(prices[cols], regimes, pos, horizon, tech)
    rows = {}
    for i, s in enumerate(rel.columns):
        y = rel[s].dropna().to_numpy(float)
        if len(y) >= min_obs:
            rows[s] = _evidence(y, horizon, reps, seed=i)
    sectors = [s for s in rows if s != BASKET]
    if not sectors:
        raise NoDataError(f"fewer than {min_obs} stress sessions with a completed {horizon}-session window "
                          "yet: no sector can be ranked on evidence")
    df = pd.DataFrame.from_dict(rows, orient="index")
    order = df.loc[sectors].sort_values("score", ascending=False, kind="mergesort").index.tolist()
    return df.loc[order + ([BASKET] if BASKET in rows else [])].rename_axis("sector")


def describe(row, horizon: int = HORIZON) -> str:
    """One sentence of evidence, e.g. 'XLP: +3.1% vs XLK over the 60 sessions after sessions in stress, 95%
    interval [-1.0%, +7.2%], t +1.40 (n=410): evidence weak, better than XLK'."""
    ci = ("no interval" if row["ci_low"] is None or row["ci_high"] is None
          else f"95% interval [{row['ci_low'] * 100:+.1f}%, {row['ci_high'] * 100:+.1f}%]")
    return (f"{row['sector']}: {row['score'] * 100:+.1f}% vs XLK over the {horizon} sessions after sessions in stress, "
            f"{ci}, Newey-West t {row['t_stat']:+.2f} (n={row['n']}): evidence {row['strength']}, {row['direction']}")


def tilt_basis(evidence: pd.DataFrame | None, horizon: int = HORIZON) -> dict:
    """Whether the allocator's defensive tilt is supported by the evidence or stays a documented prior:
    ``basis`` ("supported" only for strong, positive basket evidence; else "prior"), ``text``, ``evidence``."""
    basket = None if evidence is None or BASKET not in evidence.index else evidence.loc[BASKET]
    if basket is None:
        return {"basis": "prior", "evidence": None, "threshold": THRESHOLD,
                "text": "The defensive tilt is a documented prior: there is not yet enough stress history to test it."}
    ev = {k: (None if v is None else v if isinstance(v, str) else float(v)) for k, v in basket.items()}
    ev["n"] = int(ev["n"])
    said = describe({**ev, "sector": "XLU+XLP+XLV"}, horizon)
    if ev["strength"] == "strong" and ev["score"] > 0:
        return {"basis": "supported", "evidence": ev, "threshold": THRESHOLD,
                "text": f"The defensive tilt is supported by the evidence ({said}); its size is the documented prior."}
    return {"basis": "prior", "evidence": ev, "threshold": THRESHOLD,
            "text": f"The defensive tilt is a documented prior, not an estimate: the evidence does not support it ({said})."}
