"""Allocator known answers, cross-checks and constraint properties (plain cvxpy and fast path)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from engine.errors import ArgumentError, InfeasibleError
from engine.optimize import costs
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs, Allocator, prepare
from engine.universe import DEFENSIVE, SECTORS, TECH

TK = list(SECTORS)
LOOSE = Limits(tech_cap=1.0, tracking_error=math.inf, turnover=1.0, sector_min=0.0, sector_max=1.0,
               defensive_floor=0.0, risk_aversion=1.0, cost_bps=0.0, impact_coef=0.0, active_risk=False)


def random_cov(rng, n, scale=0.2):
    a = rng.normal(size=(n, n)) * scale / math.sqrt(n)
    return a @ a.T + np.diag(rng.uniform(0.01, 0.06, n))


def inputs(mu, cov, w0, b, tickers=TK, regime="calm", adv=None):
    s = lambda x: pd.Series(np.asarray(x, float), index=tickers)  # noqa: E731
    return AllocationInputs(mu=s(mu), cov=pd.DataFrame(cov, index=tickers, columns=tickers), current=s(w0),
                            benchmark=s(b), regime=regime, adv_dollars=None if adv is None else s(adv))


@pytest.fixture(scope="module")
def fast():
    return FastAllocator(TK)


@pytest.fixture(scope="module")
def plain():
    return Allocator(TK)


def test_problem_is_dpp(plain):
    assert plain.problem.is_dpp()


def test_min_variance_matches_closed_form(plain, fast):
    rng = np.random.default_rng(3)
    # low correlations: the unconstrained minimum-variance portfolio is long only
    cov = np.diag(rng.uniform(0.02, 0.08, 11)) + 0.003
    ones = np.ones(11)
    x = np.linalg.solve(cov, ones)
    closed = x / x.sum()
    assert (closed > 0).all()
    inp = inputs(np.zeros(11), cov, np.full(11, 1 / 11), np.full(11, 1 / 11))
    for alloc in (plain, fast):
        r = alloc.solve(inp, LOOSE)
        np.testing.assert_allclose(r.weights.to_numpy(), closed, atol=1e-6)
        assert r.volatility == pytest.approx(math.sqrt(1 / (ones @ np.linalg.solve(cov, ones))), rel=1e-6)


def test_two_assets_by_hand():
    s1, s2, rho, mu1, mu2, gamma = 0.20, 0.10, 0.3, 0.08, 0.03, 2.0
    c12 = rho * s1 * s2
    cov = np.array([[s1 ** 2, c12], [c12, s2 ** 2]])
    # d/dw [mu1 w + mu2 (1-w) - gamma var(w)] = 0
    w_star = ((mu1 - mu2) / (2 * gamma) + s2 ** 2 - c12) / (s1 ** 2 + s2 ** 2 - 2 * c12)
    assert 0 < w_star < 1
    tk = ["A", "B"]
    r = Allocator(tk).solve(inputs([mu1, mu2], cov, [0.5, 0.5], [0.5, 0.5], tickers=tk),
                            LOOSE.with_(risk_aversion=gamma))
    assert r.weights["A"] == pytest.approx(w_star, abs=1e-6)
    assert r.weights.sum() == pytest.approx(1.0, abs=1e-8)


def test_min_volatility_matches_pypfopt(fast):
    from pypfopt import EfficientFrontier

    rng = np.random.default_rng(11)
    cov = random_cov(rng, 11)
    S = pd.DataFrame(cov, index=TK, columns=TK)
    ef = EfficientFrontier(None, S, weight_bounds=(0, 1))
    ref = pd.Series(ef.min_volatility())
    r = fast.solve(inputs(np.zeros(11), cov, np.full(11, 1 / 11), np.full(11, 1 / 11)), LOOSE)
    np.testing.assert_allclose(r.weights[TK].to_numpy(), ref[TK].to_numpy(), atol=1e-4)
    assert r.volatility <= math.sqrt(ref.to_numpy() @ cov @ ref.to_numpy()) + 1e-7


def test_excluded_sectors_get_zero_weight(fast):
    rng = np.random.default_rng(5)
    cov = random_cov(rng, 11)
    for t in ("XLRE", "XLC"):
        i = TK.index(t)
        cov[i, :] = 0.0
        cov[:, i] = 0.0
    mu = rng.normal(0, 0.05, 11)
    mu[TK.index("XLC")] = np.nan
    b = np.where(np.diag(cov) > 0, 1.0, 0.0)
    b /= b.sum()
    r = fast.solve(inputs(mu, cov, b, b), Limits(tech_cap=0.3, sector_max=0.4, tracking_error=0.2))
    assert r.weights["XLRE"] == 0 and r.weights["XLC"] == 0
    assert np.isfinite(r.weights).all()


def test_bad_inputs_raise_typed_errors(fast):
    cov = np.eye(11) * 0.04
    with pytest.raises(ArgumentError, match="benchmark"):
        fast.solve(inputs(np.zeros(11), cov, np.full(11, 1 / 11), np.full(11, 0.2)))
    with pytest.raises(ArgumentError, match="mu"):
        fast.solve(inputs(np.full(11, np.nan), cov, np.full(11, 1 / 11), np.full(11, 1 / 11)))
    with pytest.raises(ArgumentError, match="regime"):
        fast.solve(inputs(np.zeros(11), cov, np.full(11, 1 / 11), np.full(11, 1 / 11), regime="panic"))


def test_cost_expression_equals_numeric_cost_at_solution(plain):
    rng = np.random.default_rng(8)
    cov = random_cov(rng, 11)
    adv = rng.uniform(2e8, 3e9, 11)
    inp = inputs(rng.normal(0, 0.05, 11), cov, np.full(11, 1 / 11), np.full(11, 1 / 11), adv=adv)
    lim = Limits(cost_bps=7.0, impact_coef=0.8, portfolio_value=5e9, turnover=0.4, tracking_error=0.1)
    r = plain.solve(inp, lim)
    d = prepare(TK, inp, lim)
    numeric = costs.cost(plain.trade.value, lim.cost_bps, d.impact)
    # the objective's cost term is the one-off cost amortized over the holding period (252 / 21 = 12x)
    assert lim.cost_scale == pytest.approx(12.0)
    assert float(plain.cost_expr.value) == pytest.approx(lim.cost_scale * numeric, rel=1e-9, abs=1e-14)
    assert r.expected_cost_bps == pytest.approx(1e4 * costs.cost(r.trades.to_numpy(), 7.0, d.impact), rel=1e-9)
    assert r.expected_cost_bps > 0
    # the optimizer charges cost on one epigraph variable u >= |w - w0|; it is tight at the optimum,
    # so the objective's cost is the reported cost and the turnover/liquidity limits see the true trades
    np.testing.assert_allclose(plain.abs_trade.value, np.abs(plain.trade.value), atol=1e-6)   # solver accuracy


limits_st = st.builds(
    Limits,
    tech_cap=st.floats(0.05, 0.5), tracking_error=st.floats(0.01, 0.2), turnover=st.floats(0.02, 1.0),
    sector_min=st.floats(0.0, 0.1), sector_max=st.floats(0.1, 1.0), defensive_floor=st.floats(0.0, 0.5),
    risk_aversion=st.floats(0.1, 20.0), cost_bps=st.floats(0.0, 20.0), impact_coef=st.floats(0.0, 1.0),
    participation=st.floats(0.01, 0.3), liquidity_days=st.floats(0.5, 5.0), allow_cash=st.booleans(),
    cash_max=st.floats(0.0, 0.3), portfolio_value=st.floats(1e8, 5e9),
)


def check_all_limits(r, d, lim, tol=1e-6):
    w, c = r.weights[TK].to_numpy(), r.cash
    assert abs(w.sum() + c - 1) <= tol
    assert (w >= -tol).all() and c >= -tol and c <= d.cash_max + tol
    assert (w >= d.lo - tol).all() and (w <= d.hi + tol).all()
    assert w[TK.index(TECH)] <= lim.tech_cap + tol
    mask = np.isin(TK, DEFENSIVE)
    assert w[mask].sum() >= d.floor - tol
    te = math.sqrt(max((w - d.b) @ d.cov @ (w - d.b), 0))
    assert te <= d.te + 1e-5 and r.tracking_error == pytest.approx(te, abs=1e-9)
    turn = 0.5 * (np.abs(w - d.w0).sum() + abs(c - d.cash0))
    assert turn <= lim.turnover + tol and r.turnover == pytest.approx(turn, abs=1e-9)
    assert (np.abs(w - d.w0) <= d.tbound + tol).all()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lim=limits_st, seed=st.integers(0, 2 ** 32 - 1), regime=st.sampled_from(["calm", "stress", "crisis"]))
def test_every_limit_holds_or_infeasible_error(fast, lim, seed, regime):
    assume(lim.sector_min <= lim.sector_max)
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, 11)
    b = rng.dirichlet(np.ones(11) * 8)
    w0 = (0.6 * b + 0.4 * rng.dirichlet(np.ones(11))) * (1.0 if lim.allow_cash else rng.choice([1.0, 0.97]))
    adv = rng.uniform(1e8, 3e9, 11)
    inp = inputs(rng.normal(0, 0.05, 11), cov, w0, b, regime=regime, adv=adv)
    d = prepare(TK, inp, lim)
    try:
        r = fast.solve_numeric(d, lim)
    except InfeasibleError as e:
        assert e.conflicts and all(isinstance(s, str) and s for s in e.conflicts)
        return
    check_all_limits(r, d, lim)
