"""The fast re-solve path gives the same solution as the plain cvxpy problem."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.errors import InfeasibleError
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs, Allocator, prepare
from engine.universe import SECTORS

TK = list(SECTORS)


@pytest.fixture(scope="module")
def pair():
    return Allocator(TK), FastAllocator(TK)


def draw(seed, regime):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(11, 11)) * 0.06
    cov = a @ a.T + np.diag(rng.uniform(0.01, 0.05, 11))
    b = rng.dirichlet(np.ones(11) * 8)
    w0 = 0.5 * b + 0.5 * rng.dirichlet(np.ones(11))
    s = lambda x: pd.Series(x, index=TK)  # noqa: E731
    return AllocationInputs(mu=s(rng.normal(0, 0.05, 11)), cov=pd.DataFrame(cov, index=TK, columns=TK),
                            current=s(w0), benchmark=s(b), regime=regime, adv_dollars=s(rng.uniform(3e8, 3e9, 11)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1), regime=st.sampled_from(["calm", "stress"]),
       te=st.floats(0.01, 0.15), turnover=st.floats(0.05, 1.0), tech=st.floats(0.05, 0.4),
       gamma=st.floats(0.2, 10.0), bps=st.floats(0.0, 20.0), impact=st.floats(0.0, 1.0),
       cash=st.booleans())
def test_fast_equals_cvxpy(pair, seed, regime, te, turnover, tech, gamma, bps, impact, cash):
    plain, fast = pair
    lim = Limits(tracking_error=te, turnover=turnover, tech_cap=tech, risk_aversion=gamma, cost_bps=bps,
                 impact_coef=impact, allow_cash=cash, cash_max=0.2, sector_max=0.4, portfolio_value=2e9)
    inp = draw(seed, regime)
    outcomes = []
    for alloc in (plain, fast):
        try:
            outcomes.append(alloc.solve(inp, lim))
        except InfeasibleError as e:
            outcomes.append(e)
    a, b = outcomes
    assert type(a) is type(b)
    if isinstance(a, InfeasibleError):
        assert a.conflicts == b.conflicts
        return
    np.testing.assert_allclose(b.weights.to_numpy(), a.weights.to_numpy(), atol=1e-6)
    assert b.cash == pytest.approx(a.cash, abs=1e-6)
    assert b.objective == pytest.approx(a.objective, abs=1e-7)


def test_conic_data_match_cvxpy(pair):
    """Our cached affine map reproduces the data cvxpy itself hands to Clarabel."""
    import cvxpy as cp
    import scipy.sparse as sp

    plain, fast = pair
    inp = draw(123, "stress")
    lim = Limits()
    d = prepare(TK, inp, lim)
    plain.set_parameters(d)
    data, _, _ = plain.problem.get_problem_data(cp.CLARABEL)
    p_data, q, a_data, b = fast.conic_data(d)
    A = sp.csc_matrix((a_data, fast._a_idx, fast._a_ptr), shape=(fast.m, fast.nx))
    assert abs(A - data["A"]).max() < 1e-12
    np.testing.assert_allclose(b, data["b"], atol=1e-12)
    np.testing.assert_allclose(q, data["c"], atol=1e-12)
    P = sp.csc_matrix((p_data, fast._p_idx, fast._p_ptr), shape=(fast.nx, fast.nx))
    assert abs(P - sp.triu(data["P"])).max() < 1e-12


def test_resolve_is_stateless(pair):
    """Re-solving A, then B, then A again gives A's answer (no state leaks between solves)."""
    _, fast = pair
    lim = Limits(tracking_error=0.08)
    first = fast.solve(draw(1, "calm"), lim).weights
    fast.solve(draw(2, "stress"), lim)
    again = fast.solve(draw(1, "calm"), lim).weights
    np.testing.assert_allclose(again.to_numpy(), first.to_numpy(), atol=1e-9)
    assert math.isclose(again.sum(), 1.0, abs_tol=1e-8)
