"""Multi-step transitions: per-step limits x m for the target, the step count when the steps asked for are
too few, and --steps auto's cost / off-target trade-off."""
from __future__ import annotations

import pandas as pd
import pytest

from engine.costs import CostModel
from engine.errors import InfeasibleError
from engine.optimize.limits import Limits
from engine.optimize.multistep import path_tradeoff, plan_steps, step_limits, steps_needed
from engine.optimize.transition import transition_path

CUR = pd.Series({"XLK": 0.35, "XLU": 0.05, "XLP": 0.60})
TGT = pd.Series({"XLK": 0.25, "XLU": 0.15, "XLP": 0.60})          # one-way turnover 10%


class FakeAlloc:
    def __init__(self, w):
        self.weights = w


def solver(calls):
    """The target needs a 10% turnover budget: infeasible below it (like the tech cap at 25%)."""
    def solve(lim):
        calls.append(lim.turnover)
        if lim.turnover < 0.10 - 1e-12:
            raise InfeasibleError("tech cap 25.0% and turnover cannot both hold", ["tech cap and turnover conflict"])
        return FakeAlloc(TGT)
    return solve


def test_step_limits_scale_turnover_liquidity_and_impact():
    lim = Limits(turnover=0.05, liquidity_days=5.0, impact_coef=0.6)
    s = step_limits(lim, 4)
    assert (s.turnover, s.liquidity_days) == (0.20, 20.0)
    assert s.impact_coef == pytest.approx(0.6 / 2)                  # m (Q/m)^1.5 = Q^1.5 / sqrt(m)
    assert step_limits(lim, 40).turnover == 1.0


def test_eight_steps_of_five_percent_reach_the_target():
    calls = []
    plan = plan_steps(solver(calls), Limits(turnover=0.05), 8, CUR)
    assert plan.steps == 8 and plan.note == "" and calls == [pytest.approx(0.40)]
    path = transition_path(CUR, plan.allocation.weights, plan.steps, Limits(turnover=0.05))
    assert path.attrs["reached"] and (path["turnover"] <= 0.05 + 1e-12).all()
    assert path.iloc[-1]["XLK"] == pytest.approx(0.25)


def test_too_few_steps_say_after_how_many_the_target_holds():
    plan = plan_steps(solver([]), Limits(turnover=0.05), 1, CUR)
    assert plan.steps == 1 and plan.target_steps == 2
    assert "they hold after 2 rebalances: use --steps 2" in plan.note
    path = transition_path(CUR, plan.allocation.weights, 1, Limits(turnover=0.05))
    assert not path.attrs["reached"] and path.attrs["steps_needed"] == 2
    assert path.iloc[-1]["XLK"] == pytest.approx(0.30) and path.iloc[-1]["turnover"] == pytest.approx(0.05)


def test_never_feasible_raises_the_diagnosis():
    def solve(lim):
        raise InfeasibleError("no", ["no"])
    with pytest.raises(InfeasibleError):
        plan_steps(solve, Limits(turnover=0.05), 3, CUR)


def test_auto_minimises_cost_plus_off_target_risk():
    cov = pd.DataFrame([[0.09, 0.0, 0.0], [0.0, 0.02, 0.0], [0.0, 0.0, 0.02]], index=CUR.index, columns=CUR.index)
    model = CostModel(half_spread_bps=2.0, impact_eta=0.142)
    args = dict(cov=cov, model=model, nav=2e9, price=pd.Series(20.0, index=CUR.index),
                sigma_daily=pd.Series(0.03, index=CUR.index), adv_dollars=pd.Series(3e8, index=CUR.index),
                sessions_per_step=5)

    def tradeoff(gamma):
        return lambda target, m: path_tradeoff(CUR, target, m, risk_aversion=gamma, **args)

    plan = plan_steps(solver([]), Limits(turnover=0.05), "auto", CUR, None, tradeoff(2.0), max_steps=20)
    rows = {r["steps"]: r for r in plan.tradeoff}
    assert min(rows) == 2                                           # 10% at 5% a step: no fewer than 2
    best = min(plan.tradeoff, key=lambda r: r["total_bps"])
    assert plan.steps == best["steps"] and best["chosen"]
    # the trade-off by hand: impact falls as 1/sqrt(m), off-target variance grows with the steps
    d = (TGT - CUR).reindex(CUR.index).to_numpy()
    k = model.impact_coefficients([0.03] * 3, [3e8] * 3, 2e9)
    m = 4
    cost = m * (model.linear_rate([20.0] * 3) @ abs(d / m) + k @ abs(d / m) ** 1.5)
    risk = 2.0 * float(d @ cov.to_numpy() @ d) * sum((1 - j / m) ** 2 for j in range(m)) * 5 / 252
    assert rows[4]["cost_bps"] == pytest.approx(1e4 * cost) and rows[4]["risk_bps"] == pytest.approx(1e4 * risk)
    assert all(rows[i]["cost_bps"] > rows[i + 1]["cost_bps"] for i in range(2, 20))
    # a much higher risk aversion wants the move done in the fewest steps
    fast = plan_steps(solver([]), Limits(turnover=0.05, risk_aversion=1e4), "auto", CUR, None, tradeoff(1e4))
    assert fast.steps == 2


def test_steps_needed_counts_liquidity():
    assert steps_needed(CUR, TGT, 0.05, None) == 2
    assert steps_needed(CUR, TGT, 0.05, pd.Series({"XLK": 0.02, "XLU": 0.5, "XLP": 0.5})) == 5
    assert steps_needed(CUR, TGT, 0.05, pd.Series({"XLK": 0.0, "XLU": 0.5, "XLP": 0.5})) == float("inf")
