"""engine.stats.bootstrap is numpy only (arch's import costs seconds); these tests hold it to arch itself:
the same indices for the same seed, the same Politis-White block lengths, the same intervals."""
import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap, optimal_block_length
from hypothesis import given, settings, strategies as st

from engine.stats.bootstrap import block_length, optimal_block, stationary_ci, stationary_indices


@pytest.mark.parametrize("n,block,seed", [(1, 1, 0), (7, 3, 1), (250, 1, 2), (250, 20, 3), (1000, 60, 4), (30, 500, 5)])
def test_indices_equal_arch_draw_for_draw(n, block, seed):
    bs = StationaryBootstrap(block, np.arange(n), seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        ours = stationary_indices(rng, n, block)
        bs._index = bs.update_indices()
        np.testing.assert_array_equal(ours, bs.index)


def _ar1(n, phi, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


@settings(max_examples=60, deadline=None)
@given(n=st.integers(12, 1500), phi=st.floats(-0.9, 0.99), seed=st.integers(0, 10_000))
def test_block_length_equals_arch(n, phi, seed):
    x = _ar1(n, phi, seed)
    theirs = float(optimal_block_length(x)["stationary"].iloc[0])
    assert optimal_block(x) == pytest.approx(theirs, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("level", [0.5, 0.07])   # 0.5: deviations exactly 0 (NaN); 0.07: rounding noise only
def test_constant_series_block_as_in_arch(level):
    x = np.full(300, level)
    panel = np.column_stack([x, _ar1(300, 0.5, 3)])
    with np.errstate(all="ignore"):
        theirs = optimal_block_length(panel)["stationary"].to_numpy(float)
    assert optimal_block(x) == pytest.approx(theirs[0], rel=1e-10, nan_ok=True)
    finite = theirs[np.isfinite(theirs)]
    assert block_length(panel) == min(int(np.ceil(finite.max())), 150)


def test_block_length_of_a_panel_is_the_longest_column():
    x = np.column_stack([_ar1(600, 0.1, 1), _ar1(600, 0.95, 2)])
    expect = int(np.ceil(optimal_block_length(x)["stationary"].max()))
    assert block_length(x) == min(expect, 300)


def test_interval_equals_arch_for_the_same_seed():
    x = np.column_stack([_ar1(400, 0.5, 7), _ar1(400, 0.2, 8)])
    stat = lambda d: float(np.mean(d[:, 0] - d[:, 1]))  # noqa: E731
    bs = StationaryBootstrap(9, x, seed=11)
    draws = np.array([stat(pos[0]) for pos, _ in bs.bootstrap(300)])
    lo, hi = np.quantile(draws, [0.025, 0.975])
    ours = stationary_ci(x, stat, block=9, reps=300, seed=11)
    assert (ours["ci_low"], ours["ci_high"]) == (float(lo), float(hi))


def test_importing_the_bootstrap_does_not_import_arch():
    import subprocess
    import sys
    code = "import sys, engine.stats.bootstrap as b; b.block_length(__import__('numpy').arange(50.0)); print('arch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


@pytest.mark.parametrize("n,block,reps,seed", [(1, 1, 4, 0), (7, 3, 9, 1), (411, 60, 50, 2), (250, 500, 7, 3)])
def test_index_rows_equal_one_call_per_replication(n, block, reps, seed):
    from engine.stats.bootstrap import stationary_index_rows
    rng = np.random.default_rng(seed)
    loop = np.array([stationary_indices(rng, n, block) for _ in range(reps)])
    np.testing.assert_array_equal(stationary_index_rows(np.random.default_rng(seed), n, block, reps), loop)


@pytest.mark.parametrize("chunk", [1 << 21, 1000])      # 1000: several batches of replications
def test_batched_mean_interval_equals_the_one_by_one_reference(monkeypatch, chunk):
    """The export's defensive evidence takes np.mean of a 1-D sample: averaged for a whole batch of
    replications at once, it must give exactly the interval of one np.mean call per replication."""
    import engine.stats.bootstrap as b
    x = _ar1(433, 0.8, 5) * 0.01
    rng = np.random.default_rng(3)
    ref = np.array([np.mean(x[stationary_indices(rng, len(x), 60)]) for _ in range(500)])
    lo, hi = np.quantile(ref, [0.025, 0.975])
    monkeypatch.setattr(b, "_CHUNK", chunk)
    ours = stationary_ci(x, np.mean, block=60, reps=500, seed=3)
    assert (ours["ci_low"], ours["ci_high"]) == (float(lo), float(hi))
    other = stationary_ci(x, lambda a: float(np.mean(a)), block=60, reps=500, seed=3)   # the generic path
    assert (other["ci_low"], other["ci_high"]) == (float(lo), float(hi))
