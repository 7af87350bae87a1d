"""Warm starts of the fast allocator (FastAllocator(warm_start=True)): a solve first tries the active set of the
previous certified solve without Clarabel and keeps that point only with the optimality certificate.

Checked here: on a sequence of real monthly problems (11 sectors, 2004-2012, risk model, SPY replication and
momentum scores from ../shared/data, the book drifting with real returns), each re-solved under changed limits,
warm and cold solves give the same weights to 1e-8 and the warm path is actually taken; a warm start from a
wrong active set falls back (or repairs itself) and still gives the certified optimum; a point whose certificate
fails is never accepted.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine.errors import InfeasibleError
from engine.optimize import polish as polish_mod
from engine.optimize.benchmark import replicate_window
from engine.optimize.covariance import covariance_window
from engine.optimize.expected import expected_returns_array, tilt_vector
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs, prepare
from engine.universe import SECTORS

TK = list(SECTORS)
LIMITS = Limits(tracking_error=0.06, turnover=0.30, tech_cap=0.25, sector_max=0.35, defensive_floor=0.30)
CHANGES = ({}, {"turnover": 0.2}, {"tracking_error": 0.045}, {"risk_aversion": 2.0})


def _monthly_inputs(market, start="2004-01-01", end="2012-12-31"):
    """(session position, AllocationInputs without current weights) at each month end, from data up to t."""
    px = market.prices.reindex(columns=TK + ["SPY"])
    rets = px.pct_change(fill_method=None).to_numpy(float)
    dv = (market.close.reindex(index=px.index, columns=TK) * market.volume.reindex(index=px.index, columns=TK))
    dv = dv.to_numpy(float)
    level = px[TK].to_numpy(float)
    s = market.sessions
    ends = [i for i in range(len(s) - 1) if s[i].month != s[i + 1].month and start <= str(s[i].date()) <= end]
    out = []
    for k, pos in enumerate(ends):
        win = rets[pos - 251:pos + 1]
        cov, inv, _ = covariance_window(win[:, :-1])
        sig = np.sqrt(np.diag(cov))
        bench = np.where(inv, replicate_window(win[:, :-1], win[:, -1]), 0.0)
        score = np.where(inv, level[pos] / level[pos - 126] - 1.0, np.nan)
        regime = ("calm", "stress", "elevated", "crisis")[k % 4]
        mu = expected_returns_array(score, np.where(sig > 0, sig, np.nan), tilt_vector(TK), regime)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)           # a sector without volume yet
            adv = np.nanmean(dv[pos - 62:pos + 1], axis=0)
        out.append((pos, AllocationInputs(mu=np.where(np.isnan(mu) & inv, 0.0, mu), cov=cov, current=None,
                                          benchmark=bench / bench.sum(), regime=regime, sigma_daily=sig / np.sqrt(252),
                                          adv_dollars=adv, investable=tuple(t for t, ok in zip(TK, inv) if ok))))
    return out, rets


@pytest.fixture(scope="module")
def monthly(real_market):
    return _monthly_inputs(real_market)


def _solve(alloc, inputs, lim):
    try:
        return alloc.solve(inputs, lim)
    except InfeasibleError as e:
        return e


def test_warm_equals_cold_on_real_monthly_problems(monthly):
    """Warm and cold solves agree to 1e-8 (weights and cash) on every real month and limit change, and the warm
    path certifies a good share of them (the re-solves after a limit change)."""
    months, rets = monthly
    warm, cold = FastAllocator(TK, warm_start=True), FastAllocator(TK)
    w0, prev_pos, paths, compared = None, None, [], 0
    for pos, base in months:
        if w0 is not None:                             # the book drifts with the month's real returns
            grow = np.nanprod(1.0 + np.nan_to_num(rets[prev_pos + 1:pos + 1, :-1]), axis=0)
            held = w0 * grow
            w0 = held / (held.sum() + max(0.0, 1.0 - w0.sum()))
        base.current = w0 if w0 is not None else base.benchmark
        next_w0 = base.current
        for change in CHANGES:
            lim = LIMITS.with_(**change)
            a, b = _solve(warm, base, lim), _solve(cold, base, lim)
            assert type(a) is type(b)
            if isinstance(a, InfeasibleError):
                assert a.conflicts == b.conflicts
                continue
            paths.append(warm.last_path)
            err = max(np.abs(a.weights.to_numpy() - b.weights.to_numpy()).max(), abs(a.cash - b.cash))
            assert err <= 1e-8, (pos, change, warm.last_path, cold.last_path, err)
            compared += 1
            if not change:
                next_w0 = b.weights.to_numpy()
        w0, prev_pos = next_w0, pos
    assert compared > 300
    print(f"\n{compared} solves, {paths.count('warm')} certified from the previous solve's active set")
    assert paths.count("warm") >= 0.3 * compared, (paths.count("warm"), compared)
    assert warm.warm_stats["certified"] == paths.count("warm")


def _real_problem(monthly, k=40, lim=LIMITS):
    months, _ = monthly
    pos, inp = months[k]
    inp.current = 0.7 * inp.benchmark + 0.3 * np.where(inp.benchmark > 0, 1.0, 0.0) / (inp.benchmark > 0).sum()
    return prepare(TK, inp, lim)


def _wrong_guess(alloc, d):
    """An active set that contradicts the optimum everywhere: every sign flipped, every limit held."""
    n = len(TK)
    cold = FastAllocator(TK).solve_numeric(d, LIMITS)
    sign = -np.sign(np.round(cold.trades.to_numpy(), 9)).astype(int)
    sign[sign == 0] = 1
    act = polish_mod._Active(sign, ["hi"] * n, 1, None, True, True, True, True)
    alloc._last = (act, np.append(d.w0, d.cash0))
    return cold


@pytest.mark.parametrize("rounds", [1, 3])
def test_wrong_active_set_falls_back_and_certifies(monthly, monkeypatch, rounds):
    """From a wrong active set the warm start either repairs it into a certified point or gives way to the
    cold path: the answer is the cold answer to 1e-8 either way; with one repair round it must fall back."""
    import engine.optimize.fastsolve as fs

    monkeypatch.setattr(fs, "WARM_ROUNDS", rounds)
    d = _real_problem(monthly)
    alloc = FastAllocator(TK, warm_start=True)
    cold = _wrong_guess(alloc, d)
    got = alloc.solve_numeric(d, LIMITS)
    assert alloc.warm_stats["tried"] == 1
    if rounds == 1:
        assert alloc.last_path in ("polished", "tight") and alloc.warm_stats["certified"] == 0
    np.testing.assert_allclose(got.weights.to_numpy(), cold.weights.to_numpy(), atol=1e-8)
    assert got.cash == pytest.approx(cold.cash, abs=1e-8)


def test_certificate_failure_is_never_accepted(monthly, monkeypatch):
    """With the certificate made to fail, no polished or warm point is returned (the tight re-solve answers).
    With it made to pass, a wrong warm guess is accepted and the answer is wrong: the certificate is the guard."""
    d = _real_problem(monthly, 60)
    ref = FastAllocator(TK).solve_numeric(d, LIMITS)
    alloc = FastAllocator(TK, warm_start=True)
    alloc.solve_numeric(d, LIMITS)                    # a certified memory to warm start from
    assert alloc.last_path == "polished"
    monkeypatch.setattr(polish_mod, "certify", lambda *a, **k: (False, []))
    got = alloc.solve_numeric(d, LIMITS)
    assert alloc.last_path == "tight" and alloc.warm_stats["certified"] == 0
    assert np.abs(got.weights.to_numpy() - ref.weights.to_numpy()).max() < 1e-5     # Clarabel at 1e-10


def test_random_parameter_changes_warm_equals_cold():
    """The bench's kind of problem: random inputs, each re-solved under changed limits; warm == cold to 1e-8."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import bench_optimize as bo

    rng = np.random.default_rng(99)
    warm, cold = FastAllocator(TK, warm_start=True), FastAllocator(TK)
    for _ in range(25):
        inp = bo._inputs(rng)
        for change in CHANGES:
            lim = bo.LIMITS.with_(**change)
            a, b = _solve(warm, inp, lim), _solve(cold, inp, lim)
            assert type(a) is type(b)
            if not isinstance(a, InfeasibleError):
                assert np.abs(a.weights.to_numpy() - b.weights.to_numpy()).max() <= 1e-8
    assert warm.warm_stats["certified"] > 0


def test_a_forged_certificate_would_be_accepted(monthly, monkeypatch):
    """The counterpart of the test above (the check is live): the optimum's active set with its binding limits
    released is a wrong guess; the real certificate rejects (or repairs) it, a forged one accepts it."""
    import copy

    lim = LIMITS.with_(turnover=0.05)
    d = _real_problem(monthly, lim=lim)
    d.mu = 30.0 * d.mu                                # strong views: the turnover limit binds
    first = FastAllocator(TK, warm_start=True)
    cold = first.solve_numeric(d, lim)
    binding = [b for b in cold.binding if b in ("turnover", "tracking_error")]
    assert binding, cold.binding                      # the guess below is wrong only if one of them binds
    act, y = first._last
    wrong = copy.deepcopy(act)
    wrong.turnover = wrong.te = False
    for forged in (False, True):
        alloc = FastAllocator(TK, warm_start=True)
        alloc._last = (copy.deepcopy(wrong), y.copy())
        if forged:
            monkeypatch.setattr(polish_mod, "certify", lambda *a, **k: (True, []))
        got = alloc.solve_numeric(d, lim)
        err = np.abs(got.weights.to_numpy() - cold.weights.to_numpy()).max()
        if forged:
            assert alloc.last_path == "warm" and err > 1e-4
        else:
            assert err <= 1e-8
