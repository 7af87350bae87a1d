"""Alerts through the use case: point in time on the demo market, and the 2007-2009 alerts on real data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app
from engine.data.model import Market
from usecases.alerts import alert_list, compute_alerts

runner = CliRunner()


def test_alerts_up_to_t_are_unchanged_when_data_after_t_changes(demo):
    t = pd.Timestamp("2012-06-29")
    rng = np.random.default_rng(3)
    after = demo.prices.index > t

    def garble(df):
        df = df.copy()
        df.loc[after] = df.loc[after] * rng.uniform(0.5, 2.0, size=df.loc[after].shape)
        return df

    altered = Market(**{**demo.__dict__, "prices": garble(demo.prices), "stress": garble(demo.stress)})
    mine = [a.as_dict() for a in compute_alerts(demo) if a.date <= t]
    theirs = [a.as_dict() for a in compute_alerts(altered) if a.date <= t]
    assert len(mine) > 20 and mine == theirs
    assert [a.as_dict() for a in compute_alerts(demo.asof(t))] == mine


def test_window_and_bad_dates(demo):
    r = alert_list(demo, "2010-01-01", "2010-12-31")
    assert r["count"] == len(r["alerts"]) and all("2010-01-01" <= a["date"] <= "2010-12-31" for a in r["alerts"])
    code = runner.invoke(app, ["alerts", "--demo", "--from", "2011-01-01", "--to", "2010-01-01", "--json"])
    assert code.exit_code == 2 and "after --to" in json.loads(code.stdout)["error"]
    code = runner.invoke(app, ["alerts", "--demo", "--from", "garbage", "--json"])
    assert code.exit_code == 2 and "--from" in json.loads(code.stdout)["error"]


@pytest.mark.realdata
def test_2007_2009_lists_the_entries_into_stress_and_crisis_and_the_2009_reentry(shared_data, tmp_path):
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["data", "import", str(shared_data), "--store", str(store)]).exit_code == 0
    r = runner.invoke(app, ["alerts", "--store", str(store), "--from", "2007-06-01", "--to", "2009-12-31", "--json"])
    assert r.exit_code == 0, r.output
    alerts = json.loads(r.stdout)["alerts"]
    entered = {(a["date"][:4], a["values"]["to"]) for a in alerts if a["kind"] == "regime_entered"}
    assert {("2007", "stress"), ("2007", "crisis"), ("2008", "stress"), ("2008", "crisis")} <= entered
    crisis_2008 = [a for a in alerts if a["kind"] == "regime_entered" and a["date"] == "2008-09-15"]
    assert crisis_2008 and crisis_2008[0]["values"]["index"] > 2.5          # Lehman: index above the crisis entry
    reentry = [a for a in alerts if a["kind"] == "reentry" and a["date"].startswith("2009")]
    assert len(reentry) == 1 and reentry[0]["values"]["sessions"] == 10 and reentry[0]["values"]["change_20d"] < 0
    assert reentry[0]["values"]["exit_date"] == "2009-05-01"    # lag-1 FRED inputs: stress left on the 1st
    assert all(a["values"] is not None and a["message"] and a["recommendation"] for a in alerts)


def test_alerts_with_holdings_add_the_book_rules(demo, tmp_path):
    from test_book_dashboard import holdings_35

    f = tmp_path / "h.csv"
    head, *rows = holdings_35(demo, "2015-06-30").splitlines()
    f.write_text("\n".join(["date," + head] + [f"2015-06-30,{r}" for r in rows]) + "\n")     # one dated file
    r = runner.invoke(app, ["alerts", "--demo", "--holdings", str(f), "--from", "2015-06-30", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    tech = [a for a in out["alerts"] if a["kind"] == "tech_band"]
    assert out["book"] == str(f) and tech and tech[0]["date"] == "2015-06-30"
    assert tech[0]["values"]["book"] == pytest.approx(0.35, abs=2e-4) and tech[0]["values"]["over_cap"]
