"""Allocator benchmarks: fast re-solve vs plain cvxpy vs rebuilding, and PyPortfolioOpt's min-volatility.

Run: python bench/run.py optimize
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np
import pandas as pd

from harness import Row

from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs, Allocator, prepare
from engine.universe import SECTORS

TK = list(SECTORS)
INTERLEAVE = True      # bench/run.py measures these rows round-robin: their ratios survive the machine's speed swings
LIMITS = Limits(tracking_error=0.06, turnover=0.30, tech_cap=0.25, sector_max=0.35, defensive_floor=0.30)
MINVAR = Limits(tech_cap=1.0, tracking_error=math.inf, turnover=1.0, sector_max=1.0, defensive_floor=0.0,
                risk_aversion=1.0, cost_bps=0.0, active_risk=False, impact_coef=0.0)
_rng = np.random.default_rng(2024)


def _inputs(rng=_rng, regime="stress") -> AllocationInputs:
    a = rng.normal(size=(11, 11)) * 0.06
    cov = a @ a.T + np.diag(rng.uniform(0.01, 0.05, 11))
    b = rng.dirichlet(np.ones(11) * 10)
    w0 = 0.8 * b + 0.2 * rng.dirichlet(np.ones(11))
    s = lambda x: pd.Series(x, index=TK)  # noqa: E731
    return AllocationInputs(mu=s(rng.normal(0, 0.04, 11)), cov=pd.DataFrame(cov, index=TK, columns=TK),
                            current=s(w0), benchmark=s(b), regime=regime, adv_dollars=s(rng.uniform(5e8, 3e9, 11)))


def _minvar_inputs():
    inp = _inputs()
    inp.mu = inp.mu * 0.0
    return inp


def _pypfopt(inp):
    from pypfopt import EfficientFrontier

    return EfficientFrontier(None, inp.cov, weight_bounds=(0, 1)).min_volatility()


class _Ratio(str):
    """A note whose text is computed when printed: PyPortfolioOpt's median / ours, from the timed calls."""

    def __new__(cls, ours: list, peer: list):
        obj = super().__new__(cls, "PyPortfolioOpt / ours")
        obj.ours, obj.peer = ours, peer
        return obj

    def __format__(self, spec):
        if not self.ours or not self.peer:
            return "ratio n/a"
        r = statistics.median(self.peer) / statistics.median(self.ours)
        return format(f"PyPortfolioOpt / ours = {r:.1f}x (same min-variance problem)", spec)


BT_REFERENCE_S = 0.55     # issue 9: bt's momentum backtest "measured earlier on this kind of machine"


class _Timed(str):
    """A note computed when printed from this row's timed calls (``ours``) and another row's (``other``), both
    measured in the same interleaved run: ``text`` plus ``say(median ours, median other)`` (just ``text`` when
    either row has not run)."""

    def __new__(cls, text, ours: list, other: list, say):
        obj = super().__new__(cls, str(text))
        obj.text, obj.ours, obj.other, obj.say = text, ours, other, say
        return obj

    def __format__(self, spec):
        if not self.ours or not self.other:
            return format(self.text, spec)
        return format(f"{self.text}; {self.say(statistics.median(self.ours), statistics.median(self.other))}", spec)


def _vs_reference(text, ours: list, ref: list) -> _Timed:
    """This row's median as a fraction of the plain cvxpy row's (holds however fast the machine is)."""
    return _Timed(text, ours, ref, lambda o, r: f"{o / r:.2f}x the plain cvxpy re-solve's median in this run")


def _scaled(text, ours: list, yard: list) -> _Timed:
    """This row's median scaled to the machine issue 9's targets were set on, by the yardstick row (bt's
    momentum backtest, BT_REFERENCE_S there)."""
    return _Timed(text, ours, yard, lambda o, y: f"{o * BT_REFERENCE_S / y * 1e6:.0f} us at the reference "
                                                 f"machine's speed (bt yardstick {y:.2f} s here vs {BT_REFERENCE_S} s there)")


def yardstick():
    """bt's momentum top-3 backtest of bench_backtest (the machine yardstick issue 9 quotes: 0.55 s)."""
    from bench_backtest import peer_weights, run_bt, setup

    pw = peer_weights(setup("momentum", 0.0))
    return lambda _: run_bt(pw, 0.0)


class _WarmNote(str):
    """A note computed when printed: how many of the row's solves the warm start certified."""

    def __new__(cls, text: str, alloc: FastAllocator):
        obj = super().__new__(cls, text)
        obj.text, obj.alloc = text, alloc
        return obj

    def __format__(self, spec):
        st = self.alloc.warm_stats
        return format(f"{self.text}; warm-certified {st['certified']} of {st['tried']} tried", spec)


def _after_limit_change(alloc: FastAllocator):
    """Setup of the limit-change row: new inputs, solved (untimed) at LIMITS; the timed call re-solves them at
    LIMITS_B, warm-starting from that solve (a different problem: other limits), never from its own answer."""
    def setup():
        inp = _inputs()
        alloc.forget()                   # the untimed solve is cold (and not counted in the row's note)
        alloc.solve(inp, LIMITS)
        return inp
    return setup


LIMITS_B = LIMITS.with_(turnover=0.25)


def _timed(fn, store):
    def run(x):
        t0 = time.perf_counter()
        out = fn(x)
        store.append(time.perf_counter() - t0)
        return out
    return run


def rows() -> list[Row]:
    fast = FastAllocator(TK)
    warm = FastAllocator(TK, warm_start=True)
    change = FastAllocator(TK, warm_start=True)
    plain = Allocator(TK)
    fast_mv = FastAllocator(TK)
    fast.solve(_inputs(), LIMITS)
    warm.solve(_inputs(), LIMITS)
    plain.solve(_inputs(), LIMITS)
    fast_mv.solve(_minvar_inputs(), MINVAR)
    t_ours, t_peer = [], []
    ratio = _Ratio(t_ours, t_peer)
    t_warm, t_cold, t_ref, t_yard = [], [], [], []
    return [
        Row("optimize: fast re-solve, 11 sectors, all limits, new params", lambda i: warm.solve(i, LIMITS),
            target_s=0.8e-3, setup=_inputs, repeat=51, record=t_warm,
            note=_scaled(_vs_reference(_WarmNote(
                "new random inputs each call; warm start from the previous call's problem only when its inputs are "
                "near (WARM_NEAR), else Clarabel at 1e-5 + certified polish; before (150b52d, idle machine, "
                "2026-12-02): 2.09 ms with plain cvxpy at 6.13 ms", warm), t_warm, t_ref), t_warm, t_yard)),
        Row("optimize: cold re-solve (Clarabel + polish), new params", lambda i: fast.solve(i, LIMITS),
            target_s=0.8e-3, setup=_inputs, repeat=51, record=t_cold,
            note=_scaled(_vs_reference("no warm start: every solve through Clarabel", t_cold, t_ref), t_cold, t_yard)),
        Row("optimize: cold re-solve from arrays (solve_numeric)", lambda d: fast.solve_numeric(d, LIMITS),
            setup=lambda: prepare(TK, _inputs(), LIMITS), repeat=51,
            note="the row above without prepare() (validation), as the backtest's callers could"),
        Row("optimize: re-solve after a limit change, warm", lambda i: change.solve(i, LIMITS_B),
            setup=_after_limit_change(change), repeat=51,
            note=_WarmNote("same inputs, turnover 0.30 -> 0.25; warm start from the solve at the old limits", change)),
        Row("optimize: plain cvxpy re-solve (DPP), same problem", lambda i: plain.solve(i, LIMITS),
            setup=_inputs, repeat=51, record=t_ref, note="reference"),
        Row("machine yardstick: bt momentum top-3 backtest, 9 sectors", yardstick(), repeat=6,
            record=t_yard, peer=True, note=f"issue 9 measured {BT_REFERENCE_S} s for it on the machine its targets were set on"),
        Row("optimize: build cvxpy problem anew + solve", lambda i: Allocator(TK).solve(i, LIMITS),
            setup=_inputs, repeat=7, note="reference"),
        Row("optimize: min variance, fast path", _timed(lambda i: fast_mv.solve(i, MINVAR), t_ours), setup=_minvar_inputs,
            repeat=21, note=ratio),
        Row("optimize: PyPortfolioOpt min_volatility, same problem", _timed(_pypfopt, t_peer), setup=_minvar_inputs,
            repeat=9, peer=True, note=ratio),
    ]
