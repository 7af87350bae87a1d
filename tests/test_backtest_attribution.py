"""Brinson-Fachler with Carino/GRAP linking: a hand-worked two-period, two-sector case and the identity."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.backtest.attribution import brinson_fachler, link_factors

IDX = pd.to_datetime(["2020-01-31", "2020-02-28"])


def frame(rows):
    return pd.DataFrame(rows, index=IDX, columns=["S1", "S2"])


WP = frame([[0.6, 0.4], [0.3, 0.7]])
WB = frame([[0.5, 0.5], [0.5, 0.5]])
RP = frame([[0.10, 0.02], [-0.05, 0.04]])
RB = frame([[0.08, 0.03], [-0.04, 0.02]])


def test_two_periods_two_sectors_by_hand():
    Rp = pd.Series([0.068, 0.013], index=IDX)        # 0.6*0.10 + 0.4*0.02 ; 0.3*-0.05 + 0.7*0.04
    # per-period effects by hand (period 1 | period 2)
    alloc = {"S1": (0.0025, 0.006), "S2": (0.0025, 0.006)}
    sel = {"S1": (0.01, -0.005), "S2": (-0.005, 0.01)}
    inter = {"S1": (0.002, 0.002), "S2": (0.001, 0.004)}
    R, B = 1.068 * 1.013 - 1, 1.055 * 0.99 - 1
    k = (math.log(1 + R) - math.log(1 + B)) / (R - B)
    k1 = (math.log(1.068) - math.log(1.055)) / 0.013
    k2 = (math.log(1.013) - math.log(0.99)) / 0.023
    a = brinson_fachler(WP, RP, Rp, WB, RB, method="carino", period=None)
    for s in ("S1", "S2"):
        assert a.sectors.loc[s, "allocation"] == pytest.approx((alloc[s][0] * k1 + alloc[s][1] * k2) / k, rel=1e-12)
        assert a.sectors.loc[s, "selection"] == pytest.approx((sel[s][0] * k1 + sel[s][1] * k2) / k, rel=1e-12)
        assert a.sectors.loc[s, "interaction"] == pytest.approx((inter[s][0] * k1 + inter[s][1] * k2) / k, rel=1e-12)
    assert a.active_return == pytest.approx(R - B, abs=1e-15)
    assert a.total == pytest.approx(R - B, abs=1e-15)
    g = brinson_fachler(WP, RP, Rp, WB, RB, method="grap", period=None)
    # GRAP: period 1 effects x (1 + B2), period 2 effects x (1 + R1)
    assert g.sectors.loc["S1", "allocation"] == pytest.approx(0.0025 * 0.99 + 0.006 * 1.068, rel=1e-12)
    assert g.total == pytest.approx(R - B, abs=1e-15)
    assert a.costs == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("method", ["carino", "grap"])
def test_linked_effects_sum_to_active_return_random(method):
    rng = np.random.default_rng(3)
    n, k = 2500, 6
    idx = pd.bdate_range("2005-01-03", periods=n)
    cols = [f"S{i}" for i in range(k)] + ["cash"]
    wp = pd.DataFrame(rng.dirichlet(np.ones(k + 1), n), index=idx, columns=cols)
    wb = pd.DataFrame(np.c_[rng.dirichlet(np.ones(k), n), np.zeros(n)], index=idx, columns=cols)
    rb = pd.DataFrame(rng.normal(3e-4, 0.012, (n, k + 1)), index=idx, columns=cols)
    rp = rb.copy()
    cost = rng.uniform(0, 2e-4, n) * (rng.random(n) < 0.05)
    Rp = pd.Series((wp * rp).sum(axis=1) - cost, index=idx)
    a = brinson_fachler(wp, rp, Rp, wb, rb, method=method)
    assert abs(a.total - a.active_return) < 1e-10
    assert a.by_period.to_numpy().sum() + a.costs == pytest.approx(a.active_return, abs=1e-10)
    assert a.sectors["selection"].abs().max() < 1e-15    # same instruments: no selection effect
    assert a.costs < 0


def test_link_factor_equal_returns():
    f = link_factors([0.01, 0.02], [0.01, 0.02])
    assert np.isfinite(f).all()
