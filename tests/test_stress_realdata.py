"""Stress stage on the real vendor data (skips cleanly when ../shared/data is absent)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")]


@pytest.fixture(scope="module")
def market():
    from engine.data.folder import load_folder
    return load_folder(DATA)


@pytest.fixture(scope="module")
def result(market):
    from engine.stress.pipeline import compute
    return compute(market)


def test_daily_columns_and_domains(result):
    d = result.daily
    assert list(d.columns) == ["index", "percentile", "change_20d", "regime", "strength",
                               "warning_probability", "warning"]
    v = d.dropna(subset=["index"])
    assert v.index[0] < pd.Timestamp("1998-06-30")
    assert set(v["regime"]) == {"calm", "elevated", "stress", "crisis"}
    assert v["percentile"].dropna().between(0, 100).all()
    assert v["strength"].dropna().between(0, 100).all()
    p = d["warning_probability"].dropna()
    assert len(p) > 4000 and p.between(0, 1).all()


def test_2008_10_10_is_crisis(result):
    r = result.reading("2008-10-10")
    assert r["regime"] == "crisis"
    assert r["percentile"] > 99


@pytest.mark.parametrize("t", ["2001-09-28", "2002-10-10", "2008-10-10", "2011-08-08", "2019-06-28"])
def test_no_look_ahead(market, result, t):
    """Values at t are identical when every row after t is removed (to 1e-12)."""
    from engine.stress.pipeline import compute
    cut = compute(market.asof(t))
    full, part = result.daily.loc[t], cut.daily.iloc[-1]
    assert cut.daily.index[-1] == pd.Timestamp(t)
    for col in ("index", "percentile", "change_20d", "strength", "warning_probability"):
        a, b = float(full[col]), float(part[col])
        if col == "warning_probability" and t < "2002-05-01":
            # before the first fit (40 positive at-risk labels needed) there is no probability either way
            assert np.isnan(a) and np.isnan(b)
            continue
        assert np.isfinite(a) and abs(a - b) <= 1e-12, (col, a, b)
    assert full["regime"] == part["regime"]
    # the whole history up to t agrees too, not only the last row
    np.testing.assert_allclose(result.daily["index"].loc[:t].to_numpy(), cut.daily["index"].to_numpy(),
                               atol=1e-12, equal_nan=True)
    assert (result.daily["regime"].loc[:t].fillna("") == cut.daily["regime"].fillna("")).all()


def test_external_check_against_stlfsi4(result, market):
    from engine.stress.external import external_check
    full = external_check(result, market.reference)
    late = external_check(result, market.reference, start="2001-01-01")
    assert full["n_weeks"] > 1100 and full["end"] == "2019-12-27"
    # Floors, not targets. Our index is walk-forward: in 1998-2000 its inputs are standardized on
    # only 1-4 years of history (HY OAS starts 1996-12), while STLFSI4 is re-estimated on the whole
    # sample (revised history), and our index also counts curve inversion (2000, 2006-07, 2019) as
    # stress. Measured: 0.785 over 1998-2019 and 0.858 from 2001, once four years of history exist.
    assert full["correlation"] >= 0.75
    assert late["correlation"] >= 0.83


def test_events_on_real_data(result):
    ev = result.events
    assert len(ev) >= 6
    starts = set(ev["start"].dt.strftime("%Y-%m-%d"))
    assert "2008-09-17" in starts or any(s.startswith("2008-09") for s in starts)
    gaps = (ev["start"].iloc[1:].to_numpy() - ev["end"].iloc[:-1].to_numpy())
    assert (gaps > np.timedelta64(60, "D")).all()


def test_validation_report_shape_and_crosschecks(market, result):
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from engine.stress.validate import METRICS, validate
    rep = validate(market, result)
    assert set(rep["baselines"]) >= {"vix", "hy_oas", "always", "never"}
    for block in [rep["model"], *rep["baselines"].values()]:
        assert set(METRICS) <= set(block)
    assert rep["baselines"]["always"]["recall"] == 1.0 and rep["baselines"]["always"]["false_alarm_rate"] == 1.0
    assert rep["baselines"]["never"]["recall"] == 0.0
    assert isinstance(rep["verdict"], str) and ("beats" in rep["verdict"] or "NOT" in rep["verdict"])
    for e in rep["events"]:
        assert {"start", "first_warning", "lead_sessions", "within_window", "from_calm"} <= set(e)
    # cross-check AUC and Brier with scikit-learn on the same rows
    y = result.label.to_numpy()
    p = result.daily["warning_probability"].to_numpy()
    rows = ~np.isnan(y) & ~np.isnan(p)
    rows &= result.daily.index >= pd.Timestamp(rep["period"]["start"])
    rows &= result.daily.index <= pd.Timestamp(rep["period"]["end"])
    assert rows.sum() == rep["model"]["n_days"]
    assert rep["model"]["auc"] == pytest.approx(roc_auc_score(y[rows], p[rows]), abs=1e-12)
    assert rep["model"]["brier"] == pytest.approx(brier_score_loss(y[rows], p[rows]), abs=1e-12)


def test_sector_table_and_walk_forward_ranking(market, result):
    from engine.stress.sectors import defensive_ranking, sector_table
    tab = sector_table(market, result)
    assert "In-sample" in tab.attrs["note"]
    assert set(tab["horizon"]) == {20, 60} and "XLU" in set(tab["sector"])
    rk = defensive_ranking(market, result, asof="2008-10-10")
    assert "XLK" not in set(rk["sector"]) and rk["score"].is_monotonic_decreasing
    # walk-forward: ranking at t equals the ranking computed on data truncated at t
    from engine.stress.pipeline import compute
    cut = market.asof("2008-10-10")
    rk2 = defensive_ranking(cut, compute(cut), asof="2008-10-10")
    pd.testing.assert_frame_equal(rk.reset_index(drop=True), rk2.reset_index(drop=True), atol=1e-12)
    # only windows that ended by t: n = sessions with index and change whose forward 60 ended
    assert rk["n"].max() <= (result.daily.loc[:"2008-10-10", "change_20d"].notna().sum() - 60)


def test_reading_lookup(result):
    from engine.errors import ArgumentError, NoDataError
    r = result.reading("2008-10-12")  # a Sunday -> Friday's session
    assert r["as_of"] == "2008-10-10"
    assert result.reading()["as_of"] == "2019-12-31"
    with pytest.raises(NoDataError):
        result.reading("1995-01-03")
    with pytest.raises(ArgumentError):
        result.reading("not a date")
