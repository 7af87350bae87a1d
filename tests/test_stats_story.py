"""Story statistics: hand cases and library cross-checks (scikit-learn, empyrical)."""
from __future__ import annotations

import empyrical as ep
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from engine.stats.story import (accuracy, balanced_accuracy, information_ratio, rolling_active_12m, share_within,
                                tracking_error)


def test_balanced_and_plain_accuracy_equal_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.07
    w = rng.random(500) < 0.2
    assert balanced_accuracy(y, w) == pytest.approx(balanced_accuracy_score(y, w), abs=1e-15)
    assert accuracy(y, w) == pytest.approx(accuracy_score(y, w), abs=1e-15)
    never = np.zeros(500, bool)
    assert accuracy(y, never) == pytest.approx(1 - y.mean()) and balanced_accuracy(y, never) == 0.5
    assert np.isnan(balanced_accuracy(np.zeros(5, bool), never[:5]))


def test_rolling_active_by_hand_and_ir_te_equal_empyrical():
    r = np.full(300, 0.001)
    b = np.zeros(300)
    assert rolling_active_12m(r, b) == pytest.approx(1.001 ** 252 - 1, abs=1e-12)
    rng = np.random.default_rng(2)
    r, b = rng.normal(0.0004, 0.01, 1000), rng.normal(0.0003, 0.01, 1000)
    assert information_ratio(r, b) == pytest.approx(ep.excess_sharpe(r, b) * np.sqrt(252), abs=1e-12)
    assert tracking_error(r, b) == pytest.approx(ep.annual_volatility(r - b), abs=1e-12)
    assert np.isnan(rolling_active_12m(r[:100], b[:100]))


def test_share_within_counts_never_warned_as_misses():
    assert share_within(np.array([25, 61, np.nan, 20, 60]), 20, 60) == pytest.approx(3 / 5)
