"""Known answers for the stress stage's parts: transforms, PCA, regimes, events, warning, HAC, triggers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.errors import ArgumentError, DataError
from engine.stress.config import EventConfig, RegimeConfig, StressConfig, WarningConfig
from engine.stress.events import find_events, start_label
from engine.stress.index import combine, expanding_correlations
from engine.stress.regime import expanding_percentile, regime_codes, regime_labels
from engine.stress.sectors import hac_ols
from engine.stress.transform import expanding_moments, expanding_zscore
from engine.stress.triggers import rebalancing_triggers
from engine.stress.warning import fit_logistic, walk_forward_probability


def sessions(n, start="2000-01-03"):
    return pd.bdate_range(start, periods=n, name="date")


# ---- transforms -------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=60), st.integers(0, 5))
def test_expanding_moments_match_pandas(vals, holes):
    x = pd.Series(vals, dtype=float)
    x.iloc[: min(holes, len(x) - 2)] = np.nan
    c, mean, sd = expanding_moments(x.to_numpy())
    np.testing.assert_allclose(mean[:, 0], x.expanding().mean().to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sd[:, 0], x.expanding(min_periods=2).std().to_numpy(), rtol=1e-7, atol=1e-7)


def test_zscore_uses_past_only_and_min_history():
    x = pd.DataFrame({"a": np.arange(10.0)})
    z = expanding_zscore(x, min_history=3)
    assert z["a"].iloc[:2].isna().all()
    # at t=2: values 0,1,2 -> mean 1, sd 1 -> z = 1
    assert z["a"].iloc[2] == pytest.approx(1.0)
    z_cut = expanding_zscore(x.iloc[:6], min_history=3)
    np.testing.assert_array_equal(z_cut["a"].to_numpy(), z["a"].iloc[:6].to_numpy())


# ---- PCA index --------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.4))
def test_expanding_correlations_match_pandas_pairwise_complete(seed, hole_rate):
    """Each pair's expanding correlation over its joint observations, as pandas computes it, and the
    joint counts; symmetric with a unit diagonal wherever a column varies."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((40, 4)) @ rng.standard_normal((4, 4))
    z[rng.random(z.shape) < hole_rate] = np.nan
    z[:7, 2] = np.nan                                           # a late input
    corr, count = expanding_correlations(z)
    df = pd.DataFrame(z)
    for i in range(4):
        for j in range(4):
            both = df[[i, j]].notna().all(axis=1).cumsum().to_numpy(float)
            np.testing.assert_array_equal(count[:, i, j], both)
            ref = df[i].expanding(min_periods=2).corr(df[j]).to_numpy() if i != j else \
                np.where(df[i].notna().cumsum() >= 2, 1.0, np.nan)
            got = corr[:, i, j]
            if i == j:
                got = np.where(np.isnan(got) & (count[:, i, j] >= 2), 1.0, got)   # pandas: 1 even where constant
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(corr, np.swapaxes(corr, 1, 2))


def test_pca_loadings_match_numpy_eig_and_sign_convention():
    rng = np.random.default_rng(1)
    n = 400
    f = rng.standard_normal(n)
    z = pd.DataFrame({"hy": f + 0.3 * rng.standard_normal(n), "ig": f + 0.5 * rng.standard_normal(n),
                      "curve": -0.5 * f + rng.standard_normal(n)}, index=sessions(n))
    idx, w = combine(z, "hy", "pca", min_history=30)
    r = np.corrcoef(z.to_numpy().T)
    vals, vecs = np.linalg.eigh(r)
    v = vecs[:, -1] * np.sign(vecs[0, -1])
    np.testing.assert_allclose(w.iloc[-1].to_numpy(), v, atol=1e-10)
    assert idx.iloc[-1] == pytest.approx(z.iloc[-1].to_numpy() @ v / np.sqrt(vals[-1]), abs=1e-10)
    assert (w["hy"].dropna() > 0).all() and idx.iloc[:29].isna().all()


def test_late_input_enters_and_scale_stays_comparable():
    rng = np.random.default_rng(2)
    n = 600
    f = rng.standard_normal(n)
    z = pd.DataFrame({"hy": f + 0.2 * rng.standard_normal(n), "ig": f + 0.2 * rng.standard_normal(n),
                      "move": f + 0.2 * rng.standard_normal(n)}, index=sessions(n))
    z.iloc[:300, 2] = np.nan                       # MOVE starts late
    idx, w = combine(z, "hy", "pca", min_history=50)
    assert (w["move"].iloc[50:349] == 0).all() and (w["move"].iloc[349:] > 0).all()
    # unit-variance factor score before and after the new input enters
    assert 0.8 < idx.iloc[100:300].std() < 1.2 and 0.8 < idx.iloc[400:].std() < 1.2
    eq, _ = combine(z, "hy", "equal", min_history=50)
    assert np.corrcoef(eq.iloc[400:], idx.iloc[400:])[0, 1] > 0.99


# ---- regimes ----------------------------------------------------------------------------------
def test_regime_hysteresis_on_crafted_series():
    cfg = RegimeConfig(enter=(0.5, 1.5, 2.5), exit=(0.25, 1.0, 2.0), min_dwell=3)
    v = np.array([0, 0.6, 0.4, 0.3, 0.3, 0.2, 0.2, 1.6, 1.2, 1.1, 0.9, 0.9, 0.9, 0.9, 3.0, 0.0, 0.0, 0.0, 0.0])
    got = list(regime_labels(regime_codes(v, cfg), cfg))
    want = ["calm", "elevated", "elevated", "elevated", "elevated", "calm", "calm",
            "stress", "stress", "stress", "elevated", "elevated", "elevated", "elevated",
            "crisis", "crisis", "crisis", "calm", "calm"]
    assert got == want


def test_regime_does_not_flip_around_a_threshold():
    cfg = RegimeConfig(enter=(0.5, 1.5, 2.5), exit=(0.25, 1.0, 2.0), min_dwell=5)
    v = 0.5 + 0.1 * np.where(np.arange(200) % 2 == 0, 1, -1)   # oscillates 0.4 / 0.6
    codes = regime_codes(v, cfg)
    assert (codes[1:] == 1).all() and codes[0] == 1
    assert (np.diff(regime_codes(np.array([np.nan, 3.0, np.nan, 0.0]), cfg)) != 0).any()


def test_expanding_percentile_known_answer():
    p = expanding_percentile(np.array([3.0, 1.0, 2.0, np.nan, 2.0]))
    np.testing.assert_allclose(p, [100.0, 50.0, 200 / 3, np.nan, 75.0])


# ---- events -----------------------------------------------------------------------------------
def _prices(xlk, spy=None, start="2000-01-03"):
    n = len(xlk)
    return pd.DataFrame({"XLK": xlk, "SPY": np.full(n, 100.0) if spy is None else spy},
                        index=sessions(n, start))


def test_event_drawdown_start_end_and_cooldown():
    cfg = EventConfig(underperformance=0.5)   # only the drawdown rule can fire here
    p = np.full(400, 100.0)
    p[100:110] = 84.0            # -16% from the prior high: event 1 starts at 100, ends at 109
    p[130:135] = 84.0            # within the 60-session cooldown: same event, end moves to 134
    p[250:252] = 80.0            # 115 quiet sessions later: a new event at 250
    ev = find_events(_prices(p), cfg)
    idx = sessions(400)
    assert list(ev["start"]) == [idx[100], idx[250]]
    assert list(ev["end"]) == [idx[134], idx[251]]
    assert list(ev["trigger"]) == ["drawdown", "drawdown"]
    assert ev["drawdown_at_start"].iloc[0] == pytest.approx(-0.16)
    # exactly 59 quiet sessions after the end merges; 60 starts a new event
    for gap, n_events in ((59, 1), (60, 2)):
        q = np.full(300, 100.0)
        q[100] = 84.0
        q[101 + gap] = 84.0
        assert len(find_events(_prices(q), cfg)) == n_events


def test_event_underperformance_and_from_calm():
    n = 200
    spy = np.full(n, 100.0)
    spy[120:] = 110.0            # SPY +10% while XLK is flat: relative -9.1% over 40 sessions
    regime = pd.Series(["calm"] * n, index=sessions(n))
    ev = find_events(_prices(np.full(n, 100.0), spy), EventConfig(), regime)
    assert len(ev) == 1 and ev["start"].iloc[0] == sessions(n)[120]
    assert ev["trigger"].iloc[0] == "underperformance" and bool(ev["from_calm"].iloc[0])
    assert ev["end"].iloc[0] == sessions(n)[159]    # the 40-session window no longer spans the jump


def test_missing_ticker_is_a_data_error():
    with pytest.raises(DataError, match="XLK"):
        find_events(pd.DataFrame({"SPY": [1.0, 2.0]}, index=sessions(2)), EventConfig())


def test_start_label_window_and_unknown_tail():
    idx = sessions(200)
    y = start_label(idx, [idx[100]], 20, 60)
    assert y.iloc[40:81].eq(1).all() and y.iloc[:40].eq(0).all() and y.iloc[81:140].eq(0).all()
    assert y.iloc[140:].isna().all()


# ---- warning model ----------------------------------------------------------------------------
def test_logistic_matches_statsmodels_without_ridge():
    import statsmodels.api as sm
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 2))
    y = (rng.random(500) < 1 / (1 + np.exp(-(0.3 + x @ [1.0, -2.0])))).astype(float)
    beta = fit_logistic(x, y, ridge=0.0)
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0).params
    np.testing.assert_allclose(beta, ref, atol=1e-7)
    # ridge shrinks the slopes, not the intercept's role
    assert np.linalg.norm(fit_logistic(x, y, ridge=200.0)[1:]) < np.linalg.norm(beta[1:])


def test_planted_signal_found_with_right_lead_time():
    """Stress rises 40 sessions before each crafted XLK drop; the walk-forward model warns ~40 ahead."""
    from engine.stress.validate import event_warnings
    n, period = 3000, 250
    idx = sessions(n, "1990-01-01")
    rng = np.random.default_rng(4)
    stress = 0.3 * rng.standard_normal(n)
    xlk = np.full(n, 100.0)
    starts = list(range(300, n - 100, period))
    for s in starts:
        stress[s - 40: s - 10] += 3.0           # stress rises 40 sessions before the drop
        xlk[s: s + 5] = 80.0                    # -20%: an event starts at s
    ev = find_events(_prices(xlk, start="1990-01-01"), EventConfig())
    assert [idx.get_loc(t) for t in ev["start"]] == starts
    label = start_label(idx, ev["start"], 20, 60)
    feats = pd.DataFrame({"stress": stress}, index=idx)
    cfg = WarningConfig(min_train=300, min_positive=20, threshold=0.3)
    prob = walk_forward_probability(feats, label, cfg)
    warn = (prob > cfg.threshold).to_numpy()
    late = ev[ev["start"] > idx[1200]]
    found = event_warnings(idx, warn, late, lookback=60, h_min=20, h_max=60)
    assert found and all(e["lead_sessions"] == 40 and e["within_window"] for e in found)


def test_walk_forward_uses_only_known_labels():
    """Changing labels that are not yet known at a fit date does not change probabilities up to it."""
    idx = sessions(1500)
    rng = np.random.default_rng(5)
    feats = pd.DataFrame({"a": rng.standard_normal(1500)}, index=idx)
    y = pd.Series((rng.random(1500) < 0.2).astype(float), index=idx)
    cfg = WarningConfig(min_train=200, min_positive=20)
    p1 = walk_forward_probability(feats, y, cfg)
    t = 1000
    y2 = y.copy()
    y2.iloc[t - cfg.horizon_max + 1:] = 1 - y2.iloc[t - cfg.horizon_max + 1:]
    p2 = walk_forward_probability(feats, y2, cfg)
    np.testing.assert_array_equal(p1.iloc[: t + 1].to_numpy(), p2.iloc[: t + 1].to_numpy())
    assert not np.allclose(p1.iloc[t + 40:].to_numpy(), p2.iloc[t + 40:].to_numpy())


# ---- HAC regressions --------------------------------------------------------------------------
@pytest.mark.parametrize("lags", [0, 1, 5, 20])
def test_hac_matches_statsmodels(lags):
    import statsmodels.api as sm
    rng = np.random.default_rng(lags)
    n = 300
    x = sm.add_constant(rng.standard_normal((n, 2)))
    e = np.convolve(rng.standard_normal(n + 10), np.ones(10) / 3, "valid")[:n]   # autocorrelated
    y = x @ [0.1, 0.5, -0.2] + e
    for corr in (True, False):
        ref = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": corr})
        beta, se, t = hac_ols(y, x, lags, small_sample=corr)
        np.testing.assert_allclose(beta, ref.params, rtol=1e-10)
        np.testing.assert_allclose(se, ref.bse, rtol=1e-10)
        np.testing.assert_allclose(t, ref.tvalues, rtol=1e-10)


def test_hac_closed_form_tiny_case():
    # y on a constant only: beta = mean, NW variance with L=1: (sum u^2 + 2*(1/2)*sum u_t u_{t-1}) / n^2
    y = np.array([1.0, 3.0, 2.0, 6.0])
    beta, se, _ = hac_ols(y, np.ones((4, 1)), lags=1, small_sample=False)
    u = y - 3.0                          # [-2, 0, -1, 3]
    s = (u @ u) + 2 * 0.5 * (u[1:] @ u[:-1])   # 14 + (0 + 0 - 3) = 11
    assert beta[0] == pytest.approx(3.0) and se[0] == pytest.approx(np.sqrt(s) / 4)
    assert se[0] == pytest.approx(np.sqrt(11) / 4)


# ---- triggers and config ----------------------------------------------------------------------
def test_triggers_regime_change_and_strength_move():
    d = pd.DataFrame({"regime": [None, "calm", "calm", "calm", "elevated", "elevated", "elevated"],
                      "strength": [np.nan, 30.0, 45.0, 51.0, 55.0, 60.0, 20.0]}, index=sessions(7))
    t = rebalancing_triggers(d, strength_move=20)
    assert list(t["kind"]) == ["start", "strength", "regime", "strength"]
    assert list(t["date"]) == list(d.index[[1, 3, 4, 6]])
    assert "calm -> elevated" in t["reason"].iloc[2] and "fell from 55 to 20" in t["reason"].iloc[3]


def test_config_from_toml_overrides_and_errors(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[regime]\nenter = [1.0, 2.0, 3.0]\n[warning]\nthreshold = 0.3\n')
    c = StressConfig.from_toml(f)
    assert c.regime.enter == (1.0, 2.0, 3.0) and c.warning.threshold == 0.3
    assert c.index.inputs == StressConfig.default().index.inputs
    f.write_text('[warning]\nthreshold = 2\n')
    with pytest.raises(ArgumentError, match="warning.threshold"):
        StressConfig.from_toml(f)
    f.write_text('[regime]\nenter = [1.0, 2.0]\n')
    with pytest.raises(ArgumentError, match="regime"):
        StressConfig.from_toml(f)
    f.write_text('[index]\nbogus = 1\n')
    with pytest.raises(ArgumentError, match="index.bogus"):
        StressConfig.from_toml(f)
    f.write_text('not = [valid')
    with pytest.raises(DataError):
        StressConfig.from_toml(f)
