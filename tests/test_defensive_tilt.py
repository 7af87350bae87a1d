"""The allocator's defensive tilt: an estimate from the defensive basket's evidence when that evidence is
strong and positive (size = min(MAX_TILT, ci_low x 252 / horizon / 2)), else the documented prior;
point in time in the reading, the optimizer and the rotation backtest."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.errors import NoDataError
from engine.optimize.expected import MAX_TILT, PRIOR_TILT
from engine.stress.defensive import (BASKET, STRESS_REGIMES, basket_seed, basket_spread, defensive_evidence,
                                     tilt_at, tilt_basis)
from pit_helpers import altered_after

H = 60
COLS = ["XLB", "XLE", "XLK", "XLP", "XLU", "XLV", "XLY"]


def crafted(n=3000, seed=0, edge=0.0, vol=0.01):
    """Stress in one year of every three (and every 7th session a crisis); in stress sessions XLU, XLP and
    XLV each beat the others by ``edge`` a day; daily noise ``vol``."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=n, name="date")
    reg = np.where((np.arange(n) // 250) % 3 == 0, "stress", "calm").astype(object)
    reg[::7] = "crisis"
    regimes = pd.Series(reg, index=idx)
    r = pd.DataFrame(rng.normal(0, vol, (n, len(COLS))), index=idx, columns=COLS)
    stressed = regimes.isin(STRESS_REGIMES).to_numpy()
    for s in ("XLU", "XLP", "XLV"):
        r.loc[stressed, s] += edge
    return (1 + r).cumprod() * 100, regimes


def _basket(prices, regimes, pos, reps=500):
    return defensive_evidence(prices, regimes, pos, H, "XLK", min_obs=120, reps=reps)


def test_a_clear_edge_gives_an_estimate_of_the_documented_size():
    """Defensives beat tech by 0.03% a day in stress (1.8% over 60 sessions), little noise: strong evidence,
    and the size is the closed form of the rule from the evidence's own interval (below the cap)."""
    prices, regimes = crafted(edge=0.0003, vol=0.002, seed=1)
    ev = _basket(prices, regimes, len(prices) - 1)
    b = ev.loc[BASKET]
    assert b["strength"] == "strong" and b["score"] > 0 and b["ci_low"] > 0
    tb = tilt_basis(ev)
    want = b["ci_low"] * 252 / H / 2
    assert want < MAX_TILT                                  # the crafted edge is below the cap
    assert tb["basis"] == "estimate" and tb["size"] == pytest.approx(want, rel=1e-12) and not tb["capped"]
    assert tb["estimate"] == pytest.approx(want, rel=1e-12) and tb["size"] != PRIOR_TILT
    assert f"{want:.1%} a year" in tb["text"] and "an estimate from the evidence" in tb["text"]
    assert f"[{b['ci_low'] * 100:+.1f}%, {b['ci_high'] * 100:+.1f}%]" in tb["text"]


def test_a_lucky_history_is_capped():
    prices, regimes = crafted(edge=0.003, seed=2)               # 18% over 60 sessions
    ev = _basket(prices, regimes, len(prices) - 1)
    tb = tilt_basis(ev)
    assert tb["basis"] == "estimate" and tb["capped"] and tb["size"] == MAX_TILT
    assert tb["estimate"] == pytest.approx(ev.loc[BASKET, "ci_low"] * 252 / H / 2, rel=1e-12)
    assert tb["estimate"] > MAX_TILT
    assert "capped at 4.0%" in tb["text"]


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_pure_noise_keeps_the_prior(seed):
    prices, regimes = crafted(seed=seed)
    tb = tilt_basis(_basket(prices, regimes, len(prices) - 1, reps=300))
    assert tb["basis"] == "prior" and tb["size"] == PRIOR_TILT and tb["estimate"] is None
    assert "documented prior (2.0% a year), not an estimate" in tb["text"]


def test_negative_strong_evidence_keeps_the_prior():
    """Defensives clearly WORSE than tech after stress: strong evidence, but of the other sign: the prior stays
    (the rule never turns the tilt around; the PM sees the evidence in the text)."""
    prices, regimes = crafted(edge=-0.0003, vol=0.002, seed=1)
    ev = _basket(prices, regimes, len(prices) - 1)
    assert ev.loc[BASKET, "strength"] == "strong" and ev.loc[BASKET, "score"] < 0
    assert tilt_basis(ev)["basis"] == "prior"


@pytest.mark.parametrize("edge,vol", [(0.0003, 0.002), (0.003, 0.01), (0.0, 0.01)])
def test_backtest_path_equals_the_reading_rule(edge, vol):
    """tilt_at (the backtest's path: one spread array, the bootstrap only when t and p pass) gives the basis
    and size of tilt_basis(defensive_evidence(...)) at every tested session, including before min_obs."""
    prices, regimes = crafted(edge=edge, vol=vol, seed=1)
    spread = basket_spread(prices, H, "XLK")
    stressed = regimes.isin(STRESS_REGIMES).to_numpy()
    seed = basket_seed(prices.columns, "XLK")
    seen = set()
    for pos in (150, 900, 1500, 2100, 2999):          # 150: fewer than 120 stress sessions yet
        try:
            tb = tilt_basis(_basket(prices, regimes, pos, reps=200))
        except NoDataError:                   # too little stress history: no ranking, the prior
            tb = {"basis": "prior", "size": PRIOR_TILT}
        basis, size = tilt_at(spread, stressed, pos, H, 120, 200, seed)
        assert (basis, size) == (tb["basis"], pytest.approx(tb["size"], rel=1e-12)), pos
        seen.add(basis)
    assert seen == ({"prior"} if edge == 0 else {"prior", "estimate"})


def test_tilt_at_t_ignores_everything_after_t():
    prices, regimes = crafted(edge=0.0003, vol=0.002, seed=1)
    pos = 2000
    spread = basket_spread(prices, H, "XLK")
    stressed = regimes.isin(STRESS_REGIMES).to_numpy()
    base = tilt_at(spread, stressed, pos, seed=6)
    assert base[0] == "estimate"
    p2 = prices.copy()
    p2.iloc[pos + 1:] *= np.linspace(1, 0.2, len(p2) - pos - 1)[:, None] ** np.arange(1, 8)   # tech-friendly future
    r2 = regimes.copy()
    r2.iloc[pos + 1:] = "crisis"
    s2 = basket_spread(p2, H, "XLK")
    assert tilt_at(s2, r2.isin(STRESS_REGIMES).to_numpy(), pos, seed=6) == base
    assert tilt_at(s2[: pos + 1], r2.isin(STRESS_REGIMES).to_numpy()[: pos + 1], pos, seed=6) == base   # truncated
    assert not np.allclose(s2[pos - H + 1:], spread[pos - H + 1:], equal_nan=True)     # the alteration bites later
    # evidence at t equals the reading's at t on the truncated prices
    tb = tilt_basis(_basket(prices.iloc[: pos + 1], regimes.iloc[: pos + 1], pos))
    assert (tb["basis"], tb["size"]) == (base[0], pytest.approx(base[1], rel=1e-12))


def test_real_data_keeps_the_prior(shared_data):
    """On ../shared/data the basket's evidence is 'none' (+0.9%, interval about -3% to +5%): the prior, in
    the reading and in the optimizer, and every stress decision of the rotation backtest 1999-2019."""
    from usecases import signals
    from usecases.context import open_market

    m = open_market(data=shared_data)
    tb = signals.reading(m)["defensive_tilt"]
    assert tb["basis"] == "prior" and tb["size"] == PRIOR_TILT and tb["evidence"]["strength"] == "none"
    res = signals.stress_result(m)
    spread = basket_spread(m.prices.reindex(res.daily.index), H, "XLK")
    stressed = res.daily["regime"].isin(STRESS_REGIMES).to_numpy()
    seed = basket_seed(m.prices.columns, "XLK")
    pos = [p for p in range(300, len(spread), 21) if stressed[p]]
    assert len(pos) > 30 and {tilt_at(spread, stressed, p, seed=seed)[0] for p in pos} == {"prior"}


def test_optimizer_expected_returns_carry_the_size(real_market, monkeypatch):
    """The size of the tilt reaches the allocation's expected returns: an estimate of 3.5% instead of the
    2% prior moves each defensive's expected return by +1.5% x 2 and XLK's by -1.5% x 2 in crisis, nothing else."""
    from usecases import optimize, signals

    at = "2008-10-10"                                        # crisis
    prior = optimize.optimize_as_of(real_market, at, steps=1)
    real = signals.defensive_tilt
    monkeypatch.setattr(signals, "defensive_tilt",
                        lambda *a, **k: {**real(*a, **k), "basis": "estimate", "size": 0.035})
    est = optimize.optimize_as_of(real_market, at, steps=1)
    assert prior["defensive_tilt"]["size"] == PRIOR_TILT and est["defensive_tilt"]["applied_size"] == 0.07
    d = {k: est["expected_returns"][k] - prior["expected_returns"][k] for k in prior["expected_returns"]
         if prior["expected_returns"][k] is not None}
    for k, v in d.items():
        want = 0.03 if k in ("XLU", "XLP", "XLV") else -0.03 if k == "XLK" else 0.0
        assert v == pytest.approx(want, abs=1e-12), k
    assert "+7.0% a year for XLU, XLP and XLV and -7.0% for XLK" in est["defensive_tilt"]["sentence"]


@pytest.fixture(scope="module")
def evidence_setup(real_market):
    """Real prices, a crafted regime: 'stress' on sessions whose basket spread over the next 60 sessions
    beat XLK by more than 2% (a look-ahead regime, an INPUT here), so the evidence supports an estimate."""
    from engine.backtest.simulate import BacktestConfig
    from engine.optimize.limits import Limits
    from engine.universe import SECTORS

    m = real_market
    spread = basket_spread(m.prices, H, "XLK")
    regimes = pd.Series(np.where(spread > 0.02, "stress", "calm"), index=m.sessions, dtype=object)
    rng = np.random.default_rng(1)
    comp = pd.DataFrame(rng.normal(size=(len(m.sessions), len(SECTORS))), index=m.sessions, columns=list(SECTORS))
    cfg = BacktestConfig(start=pd.Timestamp("2003-01-01"), end=pd.Timestamp("2005-12-31"),
                         cost_model=Limits().cost_model())
    return m, regimes, comp, cfg


def _rotation(regimes, comp, **kw):
    from engine.backtest.rotation import Rotation
    from engine.optimize.limits import Limits
    from engine.universe import SECTORS

    return Rotation(list(SECTORS), Limits(turnover=0.2), regimes, comp, **kw)


def test_backtest_estimates_the_tilt_from_past_evidence_only(evidence_setup):
    from engine.backtest.simulate import run

    m, regimes, comp, cfg = evidence_setup
    pol = _rotation(regimes, comp)
    full = run(m, pol, cfg)
    assert pol.tilts and {b for b, _ in pol.tilts.values()} >= {"estimate"}
    # each recorded size is the reading's rule at that session (evidence from windows ended by t)
    prices = m.prices
    for t in list(pol.tilts)[:: max(1, len(pol.tilts) // 4)]:
        pos = m.sessions.get_loc(t)
        tb = tilt_basis(defensive_evidence(prices, regimes, pos, H, "XLK", 120, 500))
        assert pol.tilts[t] == (tb["basis"], pytest.approx(tb["size"], rel=1e-12)), t
    # the estimate bites: the prior-only run decides differently
    prior = run(m, _rotation(regimes, comp, estimate_tilt=False), cfg)
    assert not full.weights.equals(prior.weights)
    # altering every price after t leaves the tilts and the decisions up to t unchanged
    t = pd.Timestamp("2004-06-30")
    pol2 = _rotation(regimes, comp)
    alt = run(altered_after(m, t), pol2, cfg)
    assert {k: v for k, v in pol2.tilts.items() if k <= t} == {k: v for k, v in pol.tilts.items() if k <= t}
    pd.testing.assert_frame_equal(full.weights.loc[:t], alt.weights.loc[:t], check_exact=True)
    assert {k: v for k, v in pol2.tilts.items() if k > t} != {k: v for k, v in pol.tilts.items() if k > t} \
        or not full.weights.loc[t:].iloc[1:].equals(alt.weights.loc[t:].iloc[1:])


def test_backtest_reference_path_equals_positional_path(evidence_setup):
    from engine.backtest.simulate import run

    m, regimes, comp, cfg = evidence_setup
    a, b = _rotation(regimes, comp), _rotation(regimes, comp)
    fast = run(m, a, replace(cfg, end=pd.Timestamp("2004-06-30")))
    slow = run(m, b, replace(cfg, end=pd.Timestamp("2004-06-30"), positional=False))
    assert a.tilts == b.tilts and "estimate" in {x for x, _ in a.tilts.values()}
    pd.testing.assert_frame_equal(fast.weights, slow.weights, check_exact=True)


def test_nosignal_has_no_tilt(evidence_setup):
    from engine.backtest.simulate import run

    m, regimes, comp, cfg = evidence_setup
    pol = _rotation(regimes, comp, use_signal=False)
    run(m, pol, replace(cfg, end=pd.Timestamp("2003-12-31")))
    assert pol.tilts == {}
