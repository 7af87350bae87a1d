"""`rotation optimize` end to end: limits hold on real data, conflicts are diagnosed, compare prints its table."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app
from engine.optimize.covariance import risk_model
from engine.universe import DEFENSIVE, SECTORS

runner = CliRunner()


def run_json(*args):
    r = runner.invoke(app, list(args))
    return r.exit_code, json.loads(r.stdout)


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "s.sqlite"
    assert runner.invoke(app, ["data", "import", str(shared_data), "--store", str(store)]).exit_code == 0
    return str(store)


def test_crisis_allocation_satisfies_every_limit_with_a_defensive_tilt(real_store, real_market):
    code, r = run_json("optimize", "--store", real_store, "--as-of", "2008-10-10", "--json")
    assert code == 0
    for k in ("as_of", "weights", "benchmark", "tracking_error", "turnover", "expected_cost_bps", "binding"):
        assert k in r
    assert r["regime"] == "crisis"
    w = pd.Series(r["weights"])
    b = pd.Series(r["benchmark"])
    cur = pd.Series(r["current"])
    lim = r["limits"]
    tol = 1e-6
    assert abs(w.sum() + r["cash"] - 1) < tol and (w >= -tol).all()
    assert w["XLK"] <= lim["tech_cap"] + tol
    assert (w <= lim["sector_max"] + tol).all()
    assert w[list(DEFENSIVE)].sum() >= lim["defensive_floor"] - tol          # crisis: the floor applies
    # a 4-step path (the default): the target may move 4 rebalances' turnover, each step within the limit
    assert 0.5 * (w - cur).abs().sum() <= r["steps"] * lim["turnover"] + tol
    assert all(row["turnover"] <= lim["turnover"] + tol for row in r["transition"])
    assert r["transition_note"].startswith("target reached")
    # the ex-ante tracking error recomputed independently from the risk model at t
    rets = real_market.prices[list(SECTORS)].pct_change(fill_method=None)
    cov = risk_model(rets, "2008-10-10").cov.loc[w.index, w.index].to_numpy()
    d = (w - b).to_numpy()
    te = float(np.sqrt(d @ cov @ d))
    assert te == pytest.approx(r["tracking_error"], abs=1e-6) and te <= lim["tracking_error"] + tol
    # a defensive tilt against the benchmark
    assert w[list(DEFENSIVE)].sum() > b[list(DEFENSIVE)].sum() + 0.01
    # sectors that did not exist yet hold nothing
    assert w["XLC"] == 0 and w["XLRE"] == 0


def test_crafted_conflict_is_diagnosed(tmp_path):
    cfg = tmp_path / "limits.toml"
    cfg.write_text("[limits]\ntech_cap = 0.05\ntracking_error = 0.01\n")
    code, r = run_json("optimize", "--demo", "--config", str(cfg), "--json")
    assert code == 2
    assert "cannot all hold" in r["error"]
    assert any("tech cap" in c and "tracking error" in c for c in r["conflicts"])


def test_bad_config_key_is_named(tmp_path):
    cfg = tmp_path / "limits.toml"
    cfg.write_text("[limits]\ntech_kap = 0.2\n")
    code, r = run_json("optimize", "--demo", "--config", str(cfg), "--json")
    assert code == 2 and "tech_kap" in r["error"]


def test_current_weights_csv(tmp_path):
    f = tmp_path / "w.csv"
    f.write_text("ticker,weight\n" + "\n".join(f"{t},{35 if t == 'XLK' else 6.5}" for t in SECTORS) + "\n")
    code, r = run_json("optimize", "--demo", "--current", str(f), "--json")
    assert code == 0
    assert r["current"]["XLK"] == pytest.approx(0.35)
    steps = r["transition"]
    assert steps[0]["XLK"] == pytest.approx(0.35)
    assert all(s["turnover"] <= r["limits"]["turnover"] + 1e-6 for s in steps)
    bad = tmp_path / "bad.csv"
    bad.write_text("ticker,weight\nXLK,abc\n")
    code, r = run_json("optimize", "--demo", "--current", str(bad), "--json")
    assert code == 2 and "bad.csv, line 2" in r["error"] and "not a number" in r["error"]


def test_compare_prints_both_portfolios(real_store):
    code, r = run_json("optimize", "compare", "--store", real_store, "--json")
    assert code == 0
    assert set(r["table"]) == {"mean-variance", "allocator"}
    for col in r["table"].values():
        for k in ("turnover_per_year", "sharpe", "tracking_error_ex_post"):
            assert col[k] is not None
    # turnover control works: the allocator trades less than unconstrained mean-variance
    assert r["table"]["allocator"]["turnover_per_year"] < r["table"]["mean-variance"]["turnover_per_year"]
    assert r["period"]["start"] <= "1999-01-31" and r["period"]["end"] == "2019-12-31"
