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

The allocator's defensive tilt (:mod:`engine.optimize.expected`: +size a year for each of XLU, XLP, XLV
and -size for XLK in ``stress``, twice that in ``crisis``) is sized by :func:`tilt_basis`:

- basis ``estimate`` only when the defensive basket (XLU, XLP, XLV equally weighted) passes the strong
  test above with a positive score and a positive interval (``ci_low > 0``). Its size is then
  ``min(MAX_TILT, ci_low * 252 / horizon / 2)``: the LOWER end of the basket's 95% interval (the smallest
  mean 60-session spread over XLK the evidence supports; a result that only just passes gives a small
  tilt, and the point estimate of a result kept because it passed a significance screen is biased up by
  that screen), converted to a year by simple scaling (the expected returns are arithmetic annual
  excess returns), halved because the tilt adds +size to the defensives and -size to XLK (the spread of
  basket over XLK in the expected returns is 2 x size), and capped at ``MAX_TILT`` = 4% a year (twice
  the prior; 8% in crisis) so that a lucky history cannot let the regime overrule every score (a
  one-sigma score is worth about 1% a year). The evidence pools stress and crisis sessions (crisis
  alone has too few), so the crisis doubling stays part of the documented structure;
- basis ``prior`` otherwise (weak, none, negative, or not yet ``min_obs`` stress sessions): the size is the
  documented prior ``PRIOR_TILT`` = 2% a year, and the text says it is not an estimate.

The backtest (:class:`engine.backtest.rotation.Rotation`) applies the same rule point in time at each
rebalance in stress or crisis with :func:`basket_spread` and :func:`tilt_at`, which give the size of
:func:`tilt_basis` on :func:`defensive_evidence` at that session (the bootstrap is run only when the
HAC t and the independent-window test already pass: without them the basis is ``prior`` whatever the
interval says).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.errors import NoDataError
from engine.factors.ic import newey_west
from engine.optimize.expected import MAX_TILT, PRIOR_TILT
from engine.universe import DEFENSIVE, SECTORS

HORIZON = 60
STRESS_REGIMES = ("stress", "crisis")
MIN_OBS = 120
REPS = 500
T_STRONG, T_WEAK = 2.0, 1.0
BASKET = "defensive basket"
P_STRONG = 0.05
YEAR = 252
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


def _screen(y: np.ndarray, horizon: int) -> tuple[float, float, float, int]:
    """(mean, Newey-West t, independent-window p, independent count): the cheap part of the evidence."""
    mean, se = newey_west(y, horizon)
    t = mean / se if se > 0 else math.nan
    ind = y[::horizon]
    p = t_test_p(ind) if len(ind) >= 3 and np.std(ind) > 0 else math.nan
    return float(mean), float(t), p, int(len(ind))


def _evidence(y: np.ndarray, horizon: int, reps: int, seed: int) -> dict:
    from engine.stats.bootstrap import block_length, stationary_ci

    mean, t, p, n_ind = _screen(y, horizon)
    ci = stationary_ci(y, np.mean, block=max(block_length(y), horizon), reps=reps, seed=seed)
    lo, hi = ci["ci_low"], ci["ci_high"]
    return {"score": mean, "t_stat": t, "ci_low": lo, "ci_high": hi, "n": int(len(y)),
            "p_independent": p, "n_independent": n_ind, "strength": strength(t, lo, hi, p),
            "direction": "better than XLK" if mean > 0 else "worse than XLK"}


def relative_returns(prices: pd.DataFrame, regimes: pd.Series, pos: int, horizon: int, tech: str) -> pd.DataFrame:
    """y (sessions in stress with a completed window by position ``pos``) x sector, plus the basket."""
    p = prices.iloc[: pos + 1]
    fwd = p.shift(-horizon) / p - 1.0
    rel = fwd.drop(columns=[tech]).sub(fwd[tech], axis=0)
    rel[BASKET] = _basket_minus_tech(fwd, tech)
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


RULE = (f"the tilt's size is min({MAX_TILT:.0%}, the lower end of the defensive basket's 95% interval x {YEAR} / "
        f"horizon / 2) a year when the basket's evidence is strong and positive, else the documented prior "
        f"{PRIOR_TILT:.0%} a year; +size for XLU, XLP, XLV and -size for XLK in stress, twice in crisis")


def estimated_size(ci_low: float, horizon: int = HORIZON) -> float:
    """The estimated tilt a year from the basket's interval (module docstring):
    ``min(MAX_TILT, max(ci_low, 0) * 252 / horizon / 2)``."""
    return float(min(MAX_TILT, max(float(ci_low), 0.0) * YEAR / horizon / 2.0))


def supports(ev: dict) -> bool:
    """Whether basket evidence ``ev`` supports an estimate: strong, positive score, positive interval."""
    lo = ev.get("ci_low")
    return ev.get("strength") == "strong" and ev.get("score", 0.0) > 0 and lo is not None and lo > 0


def _sized(ev: dict | None, horizon: int) -> dict:
    """basis, size, prior, cap, estimate (the uncapped figure, None for the prior), capped, rule."""
    base = {"prior": PRIOR_TILT, "cap": MAX_TILT, "rule": RULE}
    if ev is None or not supports(ev):
        return {**base, "basis": "prior", "size": PRIOR_TILT, "estimate": None, "capped": False}
    raw = max(float(ev["ci_low"]), 0.0) * YEAR / horizon / 2.0
    return {**base, "basis": "estimate", "size": estimated_size(ev["ci_low"], horizon), "estimate": raw,
            "capped": raw > MAX_TILT}


def tilt_basis(evidence: pd.DataFrame | None, horizon: int = HORIZON) -> dict:
    """The allocator's defensive tilt at the evidence's session: ``basis`` ("estimate" for strong, positive
    basket evidence, else "prior"), ``size`` (a year, per defensive and against XLK in stress; twice in
    crisis), ``prior``, ``cap``, ``estimate`` (uncapped, or None), ``capped``, ``rule``, ``text``,
    ``evidence`` (the basket's row, None without enough stress history) and ``threshold``."""
    basket = None if evidence is None or BASKET not in evidence.index else evidence.loc[BASKET]
    if basket is None:
        return {**_sized(None, horizon), "evidence": None, "threshold": THRESHOLD,
                "text": (f"The defensive tilt is the documented prior ({PRIOR_TILT:.1%} a year), not an estimate: "
                         "there is not yet enough stress history to test it.")}
    ev = {k: (None if v is None else v if isinstance(v, str) else float(v)) for k, v in basket.items()}
    ev["n"] = int(ev["n"])
    sized = _sized(ev, horizon)
    said = describe({**ev, "sector": "XLU+XLP+XLV"}, horizon)
    if sized["basis"] == "estimate":
        cap = f", capped at {MAX_TILT:.1%}" if sized["capped"] else ""
        text = (f"The defensive tilt is an estimate from the evidence: {sized['size']:.1%} a year (the lower end of "
                f"the interval, {ev['ci_low'] * 100:+.1f}% over {horizon} sessions, as a year and halved{cap}; "
                f"{said}).")
    else:
        text = (f"The defensive tilt is the documented prior ({PRIOR_TILT:.1%} a year), not an estimate: the "
                f"evidence does not support one ({said}).")
    return {**sized, "evidence": ev, "threshold": THRESHOLD, "text": text}


def basket_seed(columns, tech: str = "XLK") -> int:
    """The bootstrap seed :func:`defensive_evidence` gives the basket for prices with these columns."""
    return len([s for s in SECTORS if s in columns and s != tech])


def basket_spread(prices: pd.DataFrame, horizon: int = HORIZON, tech: str = "XLK") -> np.ndarray:
    """Per session d: the basket's forward ``horizon``-session return minus tech's (NaN where the window
    passes the last row), the same figures as :func:`relative_returns`; the value at d uses prices up to
    d + horizon only, so :func:`tilt_at` at position pos reads rows d <= pos - horizon."""
    return _basket_minus_tech(prices.shift(-horizon) / prices - 1.0, tech).to_numpy(float)


def _basket_minus_tech(fwd: pd.DataFrame, tech: str) -> pd.Series:
    """The equal-weight defensive basket's forward return minus tech's, from forward returns ``fwd``."""
    return fwd[[s for s in DEFENSIVE if s in fwd.columns]].mean(axis=1, skipna=False) - fwd[tech]


def tilt_at(spread: np.ndarray, stressed: np.ndarray, pos: int, horizon: int = HORIZON, min_obs: int = MIN_OBS,
            reps: int = REPS, seed: int = 0) -> tuple[str, float]:
    """(basis, size) of :func:`tilt_basis` at position ``pos`` from :func:`basket_spread` and the stress
    mask (regime at d in stress or crisis): windows ending by pos only; the bootstrap only when the
    Newey-West t and the independent-window test already pass."""
    end = max(pos - horizon + 1, 0)
    y = spread[:end][stressed[:end]]
    y = y[np.isfinite(y)]
    if len(y) < min_obs:
        return "prior", PRIOR_TILT
    mean, t, p, _ = _screen(y, horizon)
    if not (mean > 0 and math.isfinite(t) and t >= T_STRONG and math.isfinite(p) and p < P_STRONG):
        return "prior", PRIOR_TILT
    sized = _sized(_evidence(y, horizon, reps, seed), horizon)
    return sized["basis"], sized["size"]


def tilt_words(tilt: dict | None) -> str:
    """The tilt in a few words for a table cell: 'an estimate from the evidence, 2.3% a year' or 'the
    documented prior, 2.0% a year, not an estimate' (None: the prior)."""
    if not tilt or tilt.get("basis") != "estimate":
        return f"the documented prior, {(tilt or {}).get('size', PRIOR_TILT):.1%} a year, not an estimate"
    return f"an estimate from the evidence, {tilt['size']:.1%} a year" + (" (capped)" if tilt.get("capped") else "")
