"""CostModel: closed forms, unit consistency between dollars and weights, the cvxpy expression."""
import math

import numpy as np
import pytest

from engine.costs import CostModel
from engine.errors import ArgumentError


def test_rate_closed_form_square_root():
    cm = CostModel(commission_bps=1.0, commission_per_share=0.01, half_spread_bps=2.0, impact_eta=0.5,
                   impact_exponent=0.5)
    # $1,000,000 of a $50 stock, sigma 2%/day, ADV $100M: 1e-4 + 2e-4 + 0.01/50 + 0.5*0.02*sqrt(0.01)
    r = cm.rate([1e6], [50.0], [0.02], [1e8])
    expected = 1e-4 + 2e-4 + 0.01 / 50 + 0.5 * 0.02 * math.sqrt(0.01)
    assert r[0] == pytest.approx(expected, rel=1e-15)
    assert cm.dollars([-1e6], [50.0], [0.02], [1e8])[0] == pytest.approx(expected * 1e6, rel=1e-15)


def test_rate_three_halves_and_no_adv():
    cm = CostModel(half_spread_bps=0.0, impact_eta=0.142, impact_exponent=0.6)
    r = cm.rate([2e6, 2e6, 2e6], [10.0, 10.0, 10.0], [0.01, 0.01, 0.01], [4e7, np.nan, 0.0])
    assert r[0] == pytest.approx(0.142 * 0.01 * 0.05 ** 0.6, rel=1e-14)
    assert r[1] == 0.0 and r[2] == 0.0          # no ADV: no impact term


def test_weights_equal_dollars_over_nav():
    rng = np.random.default_rng(0)
    cm = CostModel(commission_bps=0.5, commission_per_share=0.005, half_spread_bps=3.0, impact_eta=0.3,
                   impact_exponent=0.6)
    n, nav = 7, 2.5e8
    t = rng.normal(0, 0.05, n)
    price = rng.uniform(20, 300, n)
    sig = rng.uniform(0.005, 0.03, n)
    adv = rng.uniform(1e7, 1e9, n)
    per_w = cm.of_weights(t, nav, price, sig, adv)
    per_d = cm.dollars(t * nav, price, sig, adv) / nav
    np.testing.assert_allclose(per_w, per_d, rtol=1e-13)
    k = cm.impact_coefficients(sig, adv, nav)
    np.testing.assert_allclose(k, 0.3 * sig * (nav / adv) ** 0.6, rtol=1e-15)
    np.testing.assert_allclose(per_w, cm.linear_rate(price) * np.abs(t) + k * np.abs(t) ** 1.6, rtol=1e-14)


def test_linear_rate_missing_price_drops_per_share_term():
    cm = CostModel(commission_bps=1.0, commission_per_share=0.01, half_spread_bps=4.0)
    np.testing.assert_allclose(cm.linear_rate([100.0, np.nan, 0.0]), [5e-4 + 1e-4, 5e-4, 5e-4])


def test_expression_matches_numeric():
    cp = pytest.importorskip("cvxpy")
    cm = CostModel(commission_per_share=0.01, half_spread_bps=2.0, impact_eta=0.2, impact_exponent=0.5)
    price, sig, adv = np.array([40.0, 80.0, 120.0]), np.array([0.01, 0.02, 0.015]), np.array([5e7, 2e8, 1e9])
    nav = 1e8
    t = np.array([0.05, -0.02, 0.1])
    u = cp.Variable(3)
    expr = cm.expression(u, cm.linear_rate(price), cm.impact_coefficients(sig, adv, nav))
    u.value = np.abs(t)
    assert expr.is_convex()
    assert float(expr.value) == pytest.approx(cm.of_weights(t, nav, price, sig, adv).sum(), rel=1e-12)


def test_from_mapping_validates():
    cm = CostModel.from_mapping({"commission_bps": 1, "impact_exponent": 0.6})
    assert cm.commission_bps == 1.0 and cm.impact_exponent == 0.6 and cm.half_spread_bps == 5.0
    with pytest.raises(ArgumentError, match="unknown key"):
        CostModel.from_mapping({"spread": 1})
    with pytest.raises(ArgumentError, match="expected a number"):
        CostModel.from_mapping({"commission_bps": "one"})
    with pytest.raises(ArgumentError, match="between"):
        CostModel(half_spread_bps=-1)
    with pytest.raises(ArgumentError):
        CostModel(impact_exponent=1.5)
