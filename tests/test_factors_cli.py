"""Factor use cases and the `rotation factors` commands (demo market; real data when present)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from addin.cli import factors_cmd
from engine.errors import ArgumentError, DataError, NoDataError
from engine.factors.composite import composite_score
from engine.factors.compute import FACTORS, factor_panel
from usecases import factors as uc
from usecases.context import open_market

root = typer.Typer()
root.add_typer(factors_cmd.app, name="factors")   # as addin/cli/main.py registers it
runner = CliRunner()


@pytest.fixture(scope="module")
def demo():
    return open_market(demo=True)


@pytest.fixture(scope="module")
def demo_stress(demo):
    idx, reg = uc.proxy_stress(demo)
    return idx, reg


def test_ic_json_is_one_object_with_the_table(demo):
    res = runner.invoke(root, ["factors", "ic", "--demo", "--json", "-h", "5", "-h", "21"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)          # the whole stdout is exactly one JSON object
    assert obj["label"] == "DEMO DATA (synthetic)"
    assert obj["horizons"] == [5, 21]
    names = list(FACTORS) + ["composite_equal", "composite_ic"]
    assert {(r["factor"], r["horizon"]) for r in obj["table"]} == {(f, h) for f in names for h in (5, 21)}
    row = obj["table"][0]
    assert set(row) >= {"mean_ic", "ic_ir", "t_stat", "hit_rate", "n"}
    assert -1 <= row["mean_ic"] <= 1 and 0 <= row["hit_rate"] <= 1 and row["n"] > 4000
    assert set(obj["decay"]) == set(names) and set(obj["decay"]["mom_126"]) == {"5", "21"}
    assert obj["by_regime"] and {r["regime"] for r in obj["by_regime"]} <= {"calm", "elevated", "stress", "crisis"}


def test_ic_table_for_people(demo):
    res = runner.invoke(root, ["factors", "ic", "--demo", "-h", "21"])
    assert res.exit_code == 0, res.output
    assert "mom_12_1" in res.stdout and "t (NW)" in res.stdout


def test_scores_json_and_errors(demo):
    res = runner.invoke(root, ["factors", "scores", "--demo", "--as-of", "2008-10-11", "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["as_of"] == "2008-10-10"   # a Saturday snaps to the session before
    ranks = sorted(r["rank"] for r in obj["scores"])
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) == 9
    assert obj["method"] == "equal" and obj["scores"][0]["rank"] == 1
    bad = runner.invoke(root, ["factors", "scores", "--demo", "--as-of", "10/45/2008", "--json"])
    assert bad.exit_code == 2 and "as_of" in json.loads(bad.stdout)["error"]
    early = runner.invoke(root, ["factors", "scores", "--demo", "--as-of", "1990-01-01", "--json"])
    assert early.exit_code == 2 and "before the first session" in json.loads(early.stdout)["error"]


def test_current_scores_match_the_full_history_panel_at_t(demo, demo_stress):
    idx, _ = demo_stress
    t = pd.Timestamp("2012-05-15")
    df = uc.current_scores(demo, idx, t, method="ic")
    panel = factor_panel(demo, idx)
    ic = composite_score(panel, "ic", prices=demo.prices)
    for f in FACTORS:
        np.testing.assert_allclose(df[f].sort_index(), panel[f].loc[t].dropna().sort_index(), atol=1e-10)
    np.testing.assert_allclose(df["composite_ic"].sort_index(), ic.loc[t].dropna().sort_index(), atol=1e-10)
    assert df.attrs["as_of"] == t and df.attrs["stress_source"] == "given"
    assert df.attrs["method"] == "ic"
    assert df["rank"].iloc[0] == 1 and df["composite_ic"].iloc[0] == df["composite_ic"].max()
    eq = uc.current_scores(demo, idx, t)
    assert eq.attrs["method"] == "equal" and eq["composite_equal"].iloc[0] == eq["composite_equal"].max()
    with pytest.raises(ArgumentError, match="method"):
        uc.current_scores(demo, idx, t, method="best")


def test_report_with_given_stress_and_regimes(demo, demo_stress):
    idx, reg = demo_stress
    r = uc.factor_ic_report(demo, idx, reg, horizons=(21,))
    assert r["stress_source"] == "given"
    calm = [x for x in r["by_regime"] if x["factor"] == "mom_126" and x["regime"] == "calm"]
    assert len(calm) == 1 and calm[0]["n"] > 100
    assert uc.factor_ic_report(demo, idx, horizons=(21,))["by_regime"] == []
    with pytest.raises(ArgumentError, match="horizons"):
        uc.factor_ic_report(demo, idx, horizons=(0,))


def test_stress_pipeline_failure_falls_back_to_labelled_proxy(demo, monkeypatch):
    import engine.stress.pipeline as pipeline

    def broken(market, config=None):
        raise DataError("hy_oas too short")

    monkeypatch.setattr(pipeline, "compute", broken)
    idx, reg, source = uc.resolve_stress(demo)
    assert source.startswith("proxy") and "hy_oas too short" in source
    pd.testing.assert_series_equal(idx, uc.proxy_stress(demo)[0])
    no_hy = type(demo)(**{**demo.__dict__, "stress": demo.stress.drop(columns=["hy_oas"])})
    with pytest.raises(DataError, match="hy_oas"):
        uc.resolve_stress(no_hy)


def test_too_little_history_is_a_clear_error(demo, demo_stress):
    idx, _ = demo_stress
    short = demo.asof(demo.sessions[40])
    with pytest.raises(NoDataError, match="too few"):
        uc.factor_ic_report(short, idx.loc[:demo.sessions[40]], horizons=(63,))
    with pytest.raises(NoDataError, match="no sector has factor scores"):
        uc.current_scores(demo, idx, demo.sessions[10])
