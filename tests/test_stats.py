"""engine.stats: bootstrap intervals, deflated Sharpe, PBO, verdicts (known answers and constructions)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ArgumentError
from engine.stats.bootstrap import block_length, stationary_ci
from engine.stats.pbo import pbo
from engine.stats.sharpe import deflated_sharpe, deflated_sharpe_from_returns, expected_max_sharpe, psr, sharpe
from engine.stats.verdict import FAIL, INCONCLUSIVE, PASS, verdict


# --- deflated Sharpe: the paper's worked example and the false-strategy theorem -----------------
def test_dsr_matches_bailey_lopez_de_prado_2014_numerical_example():
    """Paper, section 'A numerical example': N=100 trials, annualised trial-SR variance 1/2, best
    annualised SR 2.5 over T=1250 daily observations, skewness -3, kurtosis 10: SR0 = 0.1132 (daily)
    and DSR = 0.9004."""
    sr_daily = 2.5 / math.sqrt(250)
    res = deflated_sharpe(sr_daily, 1250, 100, 0.5 / 250, skewness=-3.0, kurt=10.0)
    assert res["sr0"] == pytest.approx(0.1132, abs=5e-5)
    assert res["dsr"] == pytest.approx(0.9004, abs=5e-4)


def test_psr_closed_form_by_hand():
    # normal returns (g3=0, g4=3): z = (0.1 - 0) * sqrt(99) / sqrt(1 + 0.5 * 0.01)
    z = 0.1 * math.sqrt(99) / math.sqrt(1.005)
    from scipy.stats import norm
    assert psr(0.1, 0.0, 100) == pytest.approx(norm.cdf(z), abs=1e-14)
    assert deflated_sharpe(0.1, 100, 1, 0.3)["dsr"] == pytest.approx(norm.cdf(z), abs=1e-14)  # one trial: SR0 = 0


def test_expected_max_sharpe_against_simulation():
    """False-strategy theorem: the best of N worthless strategies' Sharpe is close to SR0."""
    rng = np.random.default_rng(3)
    n, t, reps = 50, 500, 300
    best = [sharpe_max(rng.standard_normal((t, n))) for _ in range(reps)]
    sr0 = expected_max_sharpe(n, 1.0 / t)   # variance of a Sharpe estimate of white noise ~ 1/T
    assert np.mean(best) == pytest.approx(sr0, rel=0.05)


def sharpe_max(m: np.ndarray) -> float:
    return float((m.mean(0) / m.std(0, ddof=1)).max())


def test_dsr_from_returns_penalises_more_trials():
    rng = np.random.default_rng(5)
    m = rng.standard_normal((1000, 20)) * 0.01
    m[:, 0] += 0.0008
    one = deflated_sharpe_from_returns(m, 0, n_trials=1)
    many = deflated_sharpe_from_returns(m, 0)
    assert many["n_trials"] == 20 and many["sr0"] > 0
    assert many["dsr"] < one["dsr"]
    assert one["sr"] == pytest.approx(sharpe(m[:, 0]), abs=1e-15)
    with pytest.raises(ArgumentError, match="n_trials"):
        expected_max_sharpe(0, 1.0)


# --- PBO by CSCV on constructed cases --------------------------------------------------------------
def test_pbo_pure_noise_is_near_one_half():
    rng = np.random.default_rng(11)
    values = [pbo(rng.standard_normal((800, 30)), n_blocks=10)["pbo"] for _ in range(8)]
    assert 0.35 < np.mean(values) < 0.65


def test_pbo_one_dominant_true_strategy_is_near_zero():
    rng = np.random.default_rng(12)
    m = rng.standard_normal((1600, 30)) * 0.01
    m[:, 7] += 0.004   # daily Sharpe 0.4: it wins in and out of sample
    res = pbo(m, n_blocks=16)
    assert res["n_splits"] == 12870 and res["n_configs"] == 30
    assert res["pbo"] < 0.02


def test_pbo_reversal_is_near_one():
    """Edges that flip sign between alternating 100-row regimes (one regime per block): when the
    in-sample half holds more blocks of one regime, the out-of-sample half holds more of the other and
    the in-sample winner ranks last; only the 4900 of 12870 balanced splits are a coin toss, so the
    expected PBO is 1 - 0.5 * 4900 / 12870 = 0.81."""
    rng = np.random.default_rng(13)
    t, n = 1600, 10
    m = rng.standard_normal((t, n)) * 0.01
    drift = np.linspace(-0.003, 0.003, n)
    sign = np.where((np.arange(t) // 100) % 2 == 0, 1.0, -1.0)   # alternating 100-row regimes
    m += sign[:, None] * drift[None, :]
    assert pbo(m, n_blocks=16)["pbo"] == pytest.approx(1 - 0.5 * 4900 / 12870, abs=0.05)


def test_pbo_arguments_are_checked():
    with pytest.raises(ArgumentError, match="N >= 2"):
        pbo(np.zeros((100, 1)))
    with pytest.raises(ArgumentError, match="even"):
        pbo(np.zeros((100, 3)), n_blocks=5)


# --- stationary bootstrap ----------------------------------------------------------------------
def test_bootstrap_ci_of_mean_matches_long_run_standard_error():
    """AR(1) with phi = 0.5: the long-run s.e. of the mean is sigma / (1 - phi) / sqrt(n); a 95%
    stationary-bootstrap interval should be about 2 * 1.96 of it wide (an i.i.d. one would be ~1.7x narrower)."""
    rng = np.random.default_rng(0)
    n, phi = 4000, 0.5
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    res = stationary_ci(x, np.mean, reps=600, seed=1)
    width = res["ci_high"] - res["ci_low"]
    assert width == pytest.approx(2 * 1.96 / (1 - phi) / math.sqrt(n), rel=0.2)
    assert res["ci_low"] < res["value"] < res["ci_high"] and res["block"] >= 2
    assert "mean block" in res["method"]


def test_bootstrap_is_deterministic_and_resamples_rows_jointly():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(500)
    data = np.column_stack([a, a])            # identical columns stay identical in every draw
    diff = stationary_ci(data, lambda d: float(np.mean(d[:, 0] - d[:, 1])), block=5, reps=200, seed=4)
    assert diff["ci_low"] == diff["ci_high"] == 0.0
    one = stationary_ci(a, np.mean, block=5, reps=200, seed=4)
    two = stationary_ci(a, np.mean, block=5, reps=200, seed=4)
    assert one == two and one["block"] == 5


def test_block_length_is_short_for_white_noise_and_long_for_persistent_series():
    rng = np.random.default_rng(9)
    noise = rng.standard_normal(2000)
    walkish = np.cumsum(rng.standard_normal(2000)) * 0.1 + rng.standard_normal(2000) * 0.01
    assert block_length(noise) <= 3 < block_length(walkish)


# --- verdicts --------------------------------------------------------------------------------------
@given(lo=st.floats(-5, 5), width=st.floats(0, 5), target=st.floats(-5, 5))
@settings(max_examples=200, deadline=None)
def test_verdict_rules(lo, width, target):
    hi = lo + width
    v = verdict(lo, hi, target)
    assert v == (PASS if lo > target else FAIL if hi < target else INCONCLUSIVE)
    # a ceiling is the mirror image
    assert verdict(-hi, -lo, -target, higher_is_better=False) == v


def test_verdict_without_interval_is_inconclusive():
    assert verdict(None, 0.3, 0.1) == INCONCLUSIVE
    assert verdict(0.02, 0.04, 0.05, higher_is_better=False) == PASS
    assert verdict(0.06, 0.09, 0.05, higher_is_better=False) == FAIL
