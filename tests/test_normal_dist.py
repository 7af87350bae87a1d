"""engine.stats.normal (ndtr, ndtri) and engine.stats.student (stdtr) replace scipy.special on the export
path; these tests hold them to scipy.special itself: random and tail values, edge cases, shapes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special

from engine.stats.normal import ndtr, ndtri
from engine.stats.student import stdtr

EPS = np.finfo(float).eps


def _ndtr_tol(x: float) -> float:
    """Phi's relative condition number in the tails grows like x^2 (rounding x / sqrt 2 alone moves the
    result by x^2 ulps), so two correct implementations may differ by that much."""
    return 4 * EPS * (2 + x * x)


@settings(max_examples=400, deadline=None)
@given(x=st.floats(-37.5, 38.0, allow_nan=False))
def test_ndtr_matches_scipy(x):
    ours, theirs = float(ndtr(x)), float(special.ndtr(x))
    assert ours == pytest.approx(theirs, rel=_ndtr_tol(x), abs=0)


@settings(max_examples=400, deadline=None)
@given(p=st.one_of(st.floats(0, 1, exclude_min=True, exclude_max=True),
                   st.floats(1e-300, 1e-6), st.floats(1e-16, 1e-6).map(lambda e: 1.0 - e)))
def test_ndtri_matches_scipy(p):
    ours, theirs = float(ndtri(p)), float(special.ndtri(p))
    assert ours == pytest.approx(theirs, rel=4 * EPS, abs=0)
    assert float(ndtr(ours)) == pytest.approx(p, rel=1e-13 * max(1.0, abs(ours)) ** 2)   # round trip


def test_edge_cases_as_scipy():
    p = np.array([0.0, -0.0, 1.0, 0.5, -1e-300, 1.0 + EPS, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(ndtri(p), special.ndtri(p))
    assert ndtri(5e-324) == pytest.approx(special.ndtri(5e-324), rel=4 * EPS)   # the smallest subnormal
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -40.0, 40.0])
    np.testing.assert_allclose(ndtr(x), special.ndtr(x), rtol=1e-13, atol=0)
    assert np.isnan(ndtr(np.nan)) and ndtr(0.0) == 0.5 and ndtri(0.5) == 0.0


def test_shapes_and_rank_scores_as_scipy():
    """The factor scores' inputs: (rank - 0.5) / n for 11 sectors with ties and NaN, a date x sector grid."""
    rng = np.random.default_rng(7)
    ranks = rng.integers(1, 23, size=(500, 11)) / 2.0
    n = rng.integers(3, 12, size=(500, 1)).astype(float)
    p = (ranks - 0.5) / np.maximum(n, ranks.max(axis=1, keepdims=True))
    p[rng.random(p.shape) < 0.1] = np.nan
    ours, theirs = ndtri(p), special.ndtri(p)
    assert ours.shape == p.shape and isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, theirs, rtol=4 * EPS, atol=0, equal_nan=True)
    x = rng.normal(0, 2, size=(40, 3))
    np.testing.assert_allclose(ndtr(x), special.ndtr(x), rtol=1e-14, atol=0)
    assert isinstance(ndtr(1.0), np.floating) and ndtri(np.array([])).shape == (0,)


@settings(max_examples=300, deadline=None)
@given(df=st.integers(2, 200), t=st.floats(-60, 60, allow_nan=False))
def test_stdtr_matches_scipy_integer_df(df, t):
    ours, theirs = stdtr(df, t), float(special.stdtr(df, t))
    assert ours == pytest.approx(theirs, rel=1e-11, abs=0)


@settings(max_examples=200, deadline=None)
@given(df=st.floats(1.5, 1000), t=st.floats(-1e6, 1e6, allow_nan=False))
def test_stdtr_matches_scipy_real_df(df, t):
    ours, theirs = stdtr(df, t), float(special.stdtr(df, t))
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(t=st.floats(-100, 100, allow_nan=False))
def test_stdtr_cauchy_closed_form(t):
    """df = 1 is the Cauchy CDF, 0.5 + atan(t) / pi (here scipy's stdtr is off by up to 1e-8 relative for
    |t| < 1e-6, so the reference is the closed form)."""
    assert stdtr(1, t) == pytest.approx(0.5 + math.atan(t) / math.pi, rel=1e-13)


def test_stdtr_closed_forms_and_edges():
    for t in (-3.0, -0.5, 0.0, 2.0):
        assert stdtr(1, t) == pytest.approx(0.5 + math.atan(t) / math.pi, rel=1e-14)      # Cauchy
        assert stdtr(2, t) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), rel=1e-14)
    assert stdtr(5, math.inf) == 1.0 and stdtr(5, -math.inf) == 0.0
    assert math.isnan(stdtr(5, math.nan)) and math.isnan(stdtr(0, 1.0))
