"""`rotation signals ...` end to end through the CLI (one JSON object on stdout, exit codes)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app

runner = CliRunner()


def run_json(*args):
    r = runner.invoke(app, list(args))
    return r.exit_code, json.loads(r.stdout), r


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "s.sqlite"
    r = runner.invoke(app, ["data", "import", str(shared_data), "--store", str(store), "--json"])
    assert r.exit_code == 0, r.output
    return str(store)


def test_reading_on_2008_10_10_is_crisis(shared_data):
    code, out, _ = run_json("signals", "--data", str(shared_data), "--as-of", "2008-10-10", "--json")
    assert code == 0
    for k in ("as_of", "index", "percentile", "regime", "strength", "change_20d", "warning_probability", "defensive"):
        assert k in out
    assert out["as_of"] == "2008-10-10" and out["regime"] == "crisis"
    assert out["percentile"] > 95 and 0 <= out["warning_probability"] <= 1
    assert len(out["defensive"]) == 3 and all(d["sector"] != "XLK" for d in out["defensive"])


def test_validate_report_shape(real_store):
    code, out, _ = run_json("signals", "validate", "--store", real_store, "--json")
    assert code == 0
    metrics = {"hit_rate", "false_alarm_rate", "precision", "recall", "accuracy", "brier", "auc"}
    assert metrics <= set(out["model"])
    for b in ("vix", "hy_oas", "always", "never"):
        assert metrics <= set(out["baselines"][b])
    assert out["baselines"]["always"]["recall"] == 1.0 and out["baselines"]["never"]["recall"] == 0.0
    assert out["events"] and {"start", "first_warning", "lead_sessions"} <= set(out["events"][0])
    assert isinstance(out["verdict"], str) and len(out["verdict"]) > 40
    assert out["external_check"]["correlation"] > 0.75


def test_history_csv_has_the_reading_columns(real_store, tmp_path):
    target = tmp_path / "h.csv"
    code, out, _ = run_json("signals", "history", "--store", real_store, "--from", "2008-01-01", "--to", "2008-12-31",
                            "--csv", str(target), "--json")
    assert code == 0 and out["rows"] == 253
    df = pd.read_csv(target, index_col=0, parse_dates=True)
    assert list(df.columns) == ["index", "percentile", "regime", "strength", "change_20d", "warning_probability"]
    assert df.index[0] == pd.Timestamp("2008-01-02") and df.index[-1] == pd.Timestamp("2008-12-31")
    # the CSV is the same series the reading reports
    _, reading, _ = run_json("signals", "--store", real_store, "--as-of", "2008-10-10", "--json")
    assert df.loc["2008-10-10", "index"] == pytest.approx(reading["index"], rel=1e-12)


def test_sectors_table(real_store):
    code, out, _ = run_json("signals", "sectors", "--store", real_store, "--json")
    assert code == 0
    horizons = {r["horizon"] for r in out["regressions"]}
    assert horizons == {20, 60}
    assert "in-sample" in out["note"].lower()


def test_errors_are_json_with_exit_code_2(tmp_path):
    code, out, _ = run_json("signals", "--demo", "--as-of", "notadate", "--json")
    assert code == 2 and out == {"error": "as_of: expected a date like 2008-10-10, got 'notadate'"}
    code, out, _ = run_json("signals", "--store", str(tmp_path / "none.sqlite"), "--json")
    assert code == 2 and "no data imported yet" in out["error"]


def test_human_output_is_labelled_demo():
    r = runner.invoke(app, ["signals", "--demo"])
    assert r.exit_code == 0 and "DEMO DATA (synthetic)" in r.stdout


def test_stress_config_file_changes_the_thresholds(real_store, tmp_path):
    cfg = tmp_path / "stress.toml"
    cfg.write_text("[regime]\nenter = [0.5, 1.5, 20.0]\nexit = [0.25, 1.0, 19.0]\n")
    code, out, _ = run_json("signals", "--store", real_store, "--as-of", "2008-10-10", "--stress-config", str(cfg), "--json")
    assert code == 0 and out["regime"] == "stress"          # crisis now needs 20 sd
    code, default, _ = run_json("signals", "--store", real_store, "--as-of", "2008-10-10", "--json")
    assert default["regime"] == "crisis" and default["index"] == out["index"]   # same index, other thresholds
    bad = tmp_path / "bad.toml"
    bad.write_text("[regime]\nbogus = 1\n")
    code, out, _ = run_json("signals", "--store", real_store, "--stress-config", str(bad), "--json")
    assert code == 2 and "regime.bogus" in out["error"]
