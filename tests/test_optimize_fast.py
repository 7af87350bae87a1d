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
    err = max(np.abs(b.weights.to_numpy() - a.weights.to_numpy()).max(), abs(b.cash - a.cash))
    if a.status != "optimal":
        # cvxpy stopped inaccurate (it can then sit ~1e-9 outside the tracking-error cone, which buys it ~1e-8)
        assert err < 1e-5 and b.objective >= a.objective - 1e-7
        return
    if err > 1e-6:
        # a flat optimum (the objective nearly constant along the tracking-error cone): cvxpy at 1e-10 stops
        # up to ~5e-6 away (and up to ~1e-11 outside the tracking-error cone, which buys it ~1e-11 of objective);
        # the polished fast point must then be at least as good, up to that
        assert b.objective >= a.objective - 1e-10
        assert err < 1e-4
    assert b.objective == pytest.approx(a.objective, abs=1e-9)


def test_cone_program_is_the_allocation_problem(pair):
    """At the solution, the hand-built cone program's objective is minus the allocation objective (up to the
    constant gamma b_r'Σb_r) and every cone row holds: the fast path solves the problem of problem.py."""
    from engine.optimize.conic import ConeProgram

    _, fast = pair
    lim = Limits(tracking_error=0.05, turnover=0.3, cost_bps=10.0, impact_coef=0.5, allow_cash=True, cash_max=0.1)
    d = prepare(TK, draw(7, "stress"), lim)
    res = fast.solve_numeric(d, lim)
    prog = ConeProgram(TK, 0.5)
    w, c = res.weights.to_numpy(), res.cash
    u = np.abs(w - d.w0)
    x = np.concatenate([w, [c], u, [abs(c - d.cash0)], u ** 1.5])
    p_data, q, a_data, b = prog.data(d)
    P, A = (m.toarray() for m in prog.matrices(p_data, a_data))
    P = P + P.T - np.diag(P.diagonal())
    const = d.gamma * d.b_risk @ d.cov @ d.b_risk
    assert 0.5 * x @ P @ x + q @ x + const == pytest.approx(-res.objective, abs=1e-12)
    slack = b - A @ x
    assert abs(slack[0]) < 1e-12                                        # budget
    assert slack[1:1 + prog.n_nonneg].min() > -1e-9                    # linear limits
    te = slack[prog.r_te:prog.r_te + prog.n + 1]
    assert te[0] - np.linalg.norm(te[1:]) > -1e-9                     # tracking error
    pw = slack[prog.r_pow:].reshape(-1, 3)                              # (s, 1, u): s^(2/3) >= |u|
    assert (pw[:, 0] ** (2 / 3) * pw[:, 1] ** (1 / 3) - np.abs(pw[:, 2]) > -1e-9).all()


def test_tracking_error_rows_hold_the_whole_factor():
    """The tracking-error rows store only L's triangle (L is lower-triangular): A's block is exactly -L'
    (every entry of the Cholesky factor, none lost), and a factor with entries above the diagonal is refused
    with an error naming it rather than solved with those entries dropped."""
    from engine.errors import ArgumentError
    from engine.optimize.conic import ConeProgram

    lim = Limits(tracking_error=0.05)
    d = prepare(TK, draw(11, "stress"), lim)
    prog = ConeProgram(TK, 0.5)
    n = prog.n
    _, _, a_data, _ = prog.data(d)
    A = prog.matrices(np.zeros(len(prog._P_idx)), a_data)[1].toarray()
    np.testing.assert_array_equal(A[prog.r_te + 1:prog.r_te + 1 + n, :n], -d.factor.T)
    assert np.count_nonzero(np.triu(d.factor, 1)) == 0 and np.count_nonzero(np.tril(d.factor)) == n * (n + 1) // 2
    full = d.factor.copy()
    full[0, 5] = 0.01
    from dataclasses import replace
    with pytest.raises(ArgumentError, match="lower-triangular"):
        prog.data(replace(d, factor=full))


def test_resolve_is_stateless(pair):
    """Re-solving A, then B, then A again gives A's answer (no state leaks between solves)."""
    _, fast = pair
    lim = Limits(tracking_error=0.08)
    first = fast.solve(draw(1, "calm"), lim).weights
    fast.solve(draw(2, "stress"), lim)
    again = fast.solve(draw(1, "calm"), lim).weights
    np.testing.assert_allclose(again.to_numpy(), first.to_numpy(), atol=1e-9)
    assert math.isclose(again.sum(), 1.0, abs_tol=1e-8)


def test_allocate_is_bit_reproducible_within_a_process():
    """``allocate`` (every face's one-shot solve) gives the same bits for the same inputs whatever was solved
    before in this process: a re-used Clarabel solver answers differently below the polish's tolerance."""
    from engine.optimize.problem import allocate

    lim = Limits(tracking_error=0.08)
    first = allocate(draw(1, "calm"), lim).weights.to_numpy()
    for seed in range(2, 8):
        allocate(draw(seed, "stress"), lim)
    again = allocate(draw(1, "calm"), lim).weights.to_numpy()
    assert np.array_equal(first, again)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.floats(0.05, 0.9), st.integers(0, 2**31 - 1))
def test_csc_pattern_equals_scipy(m, n, density, seed):
    """The allocator's own CSC matrices (no scipy.sparse import) equal scipy's csc_matrix of the same
    entries: canonical indices and indptr, the same dense matrix."""
    import scipy.sparse as sp

    from engine.optimize.conic import CSC, csc_pattern

    rng = np.random.default_rng(seed)
    cells = np.flatnonzero(rng.random(m * n) < density)
    rng.shuffle(cells)
    rows, cols = cells // n, cells % n
    vals = rng.normal(size=len(cells))
    order, idx, ptr = csc_pattern(rows, cols, n)
    ours = CSC(vals[order], idx, ptr, (m, n))
    ref = sp.csc_matrix((vals, (rows, cols)), shape=(m, n))
    ref.sort_indices()
    assert np.array_equal(ours.indptr, ref.indptr) and np.array_equal(ours.indices, ref.indices)
    np.testing.assert_array_equal(ours.data, ref.data)
    np.testing.assert_array_equal(ours.toarray(), ref.toarray())
