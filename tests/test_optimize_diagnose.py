"""Infeasible limits are diagnosed in words; the nearest feasible value is checked by re-solving."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine.errors import InfeasibleError
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs
from engine.universe import SECTORS

TK = list(SECTORS)


@pytest.fixture(scope="module")
def fast():
    return FastAllocator(TK)


def tech_heavy_inputs(regime="calm"):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(11, 11)) * 0.05
    cov = a @ a.T + np.eye(11) * 0.02
    b = pd.Series(0.06, index=TK)
    b["XLK"] = 0.40
    b /= b.sum()
    return AllocationInputs(mu=pd.Series(rng.normal(0, 0.03, 11), index=TK),
                            cov=pd.DataFrame(cov, index=TK, columns=TK), current=b, benchmark=b, regime=regime)


def pct(sentence, name):
    m = re.search(rf"nearest feasible {name} is ([0-9.]+)%", sentence)
    assert m, sentence
    return float(m.group(1)) / 100


def test_tech_cap_vs_tracking_error(fast):
    lim = Limits(tech_cap=0.10, tracking_error=0.02, turnover=1.0, sector_max=1.0)
    with pytest.raises(InfeasibleError) as ei:
        fast.solve(tech_heavy_inputs(), lim)
    e = ei.value
    te_sentence = next(s for s in e.conflicts if "nearest feasible tracking error" in s)
    assert "tech cap 10.0%" in te_sentence and "tracking error 2.0%" in te_sentence
    assert "cannot both hold" in te_sentence
    te_star = pct(te_sentence, "tracking error")
    assert te_star > 0.02
    # The stated value is the nearest feasible one: just above it solves, clearly below it does not.
    r = fast.solve(tech_heavy_inputs(), lim.with_(tracking_error=te_star + 0.0006))
    assert r.weights["XLK"] <= 0.10 + 1e-6
    with pytest.raises(InfeasibleError):
        fast.solve(tech_heavy_inputs(), lim.with_(tracking_error=te_star - 0.002))
    # The alternative: relax the tech cap instead.
    cap_sentence = next(s for s in e.conflicts if "nearest feasible tech cap" in s)
    cap_star = pct(cap_sentence, "tech cap")
    fast.solve(tech_heavy_inputs(), lim.with_(tech_cap=cap_star + 0.0006))
    with pytest.raises(InfeasibleError):
        fast.solve(tech_heavy_inputs(), lim.with_(tech_cap=cap_star - 0.002))


def test_turnover_vs_tech_cap(fast):
    # Current tech 40%, cap 25%: selling 15% needs one-way turnover of at least 15%.
    lim = Limits(tech_cap=0.25, tracking_error=1.0, turnover=0.05, sector_max=1.0)
    with pytest.raises(InfeasibleError) as ei:
        fast.solve(tech_heavy_inputs(), lim)
    s = next(s for s in ei.value.conflicts if "nearest feasible turnover" in s)
    w0 = tech_heavy_inputs().current["XLK"]
    assert pct(s, "turnover") == pytest.approx(w0 - 0.25, abs=0.001)
    assert str(ei.value).startswith("The allocation limits cannot all hold")


def test_sector_bounds_that_cannot_sum_to_one(fast):
    lim = Limits(sector_max=0.05, tech_cap=0.05, turnover=1.0, tracking_error=1.0)
    with pytest.raises(InfeasibleError) as ei:
        fast.solve(tech_heavy_inputs(), lim)
    s = next(s for s in ei.value.conflicts if "nearest feasible sector maximum" in s)
    # 11 sectors x max >= 1 needs max >= 1/11; the tech cap (5%) stays, so the others need (1-0.05)/10
    assert pct(s, "sector maximum") == pytest.approx(0.095, abs=0.0011)


def test_defensive_floor_in_stress(fast):
    lim = Limits(defensive_floor=0.5, turnover=0.1, tracking_error=1.0, sector_max=1.0, tech_cap=1.0)
    fast.solve(tech_heavy_inputs("calm"), lim)  # floor does not apply in calm
    with pytest.raises(InfeasibleError) as ei:
        fast.solve(tech_heavy_inputs("stress"), lim)
    assert any("defensive floor 50.0%" in s for s in ei.value.conflicts)


def test_direct_cone_program_agrees_with_the_cvxpy_formulation(fast):
    """The diagnosis solves its slack problems as a cone program written out with numpy (no cvxpy
    compilation). On random infeasible limit sets (stress and calm, an excluded sector, liquidity
    bounds) it agrees with the cvxpy formulation wherever the answer is unique: the smallest joint
    relaxation (sum of slacks) and each limit's own smallest relaxation to 1e-6, so every "nearest
    feasible" value in the sentences is the same. (How a joint relaxation splits between two limits
    that trade off one for one, and which other limits happen to bind at the relaxed weights, are not
    unique: each formulation returns its own point of the optimal face. On the 15 infeasible
    rebalances of the 1999-2019 rotation backtest the sentences are identical word for word.)"""
    from engine.optimize.diagnose import _Relaxed, _RelaxedConic, diagnose
    from engine.optimize.problem import prepare

    rng = np.random.default_rng(3)
    compared = 0
    for k in range(40):
        inp = tech_heavy_inputs("stress" if k % 2 else "calm")
        if k % 3 == 0:                                   # XLRE not trading yet: excluded
            inp.investable = tuple(t for t in TK if t != "XLRE")
        if k % 4 == 0:
            inp.adv_dollars = pd.Series(rng.uniform(2e7, 2e8, 11), index=TK)
            inp.sigma_daily = pd.Series(0.01, index=TK)
        lim = Limits(tech_cap=rng.uniform(0.02, 0.3), tracking_error=rng.uniform(0.002, 0.06),
                     turnover=rng.uniform(0.01, 0.4), sector_max=rng.uniform(0.08, 0.4),
                     sector_min=rng.choice([0.0, 0.02]), defensive_floor=rng.uniform(0.2, 0.6))
        d = prepare(TK, inp, lim)
        try:
            fast.solve_numeric(d, lim)
            continue
        except InfeasibleError:
            pass
        ref, new = _Relaxed(TK, d), _RelaxedConic(TK, d)
        assert new.active_keys == ref.active_keys
        keys = set(ref.active_keys)
        a, b = ref.solve(keys), new.solve(keys)
        assert sum(b.values()) == pytest.approx(sum(a.values()), abs=1e-6)
        for key in ref.active_keys:
            a, b = ref.solve({key}), new.solve({key})
            assert (a is None) == (b is None), key
            if a is not None:
                assert b[key] == pytest.approx(a[key], abs=1e-6), key
        nearest = lambda sentences: sorted(re.findall(r"nearest feasible (.+?) is ([0-9.]+%)", " ".join(sentences)))  # noqa: E731
        assert nearest(diagnose(TK, d, lim)[1]) == nearest(diagnose(TK, d, lim, reference=True)[1])
        compared += 1
    assert compared >= 15
