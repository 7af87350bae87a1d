"""`rotation backtest` end to end: JSON keys of the issue, the CSV columns, errors exit 2."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app

runner = CliRunner()
KEYS = ("total_return", "cagr", "volatility", "sharpe", "sharpe_tbill", "sortino", "max_drawdown", "calmar",
        "win_rate_daily", "tracking_error", "information_ratio", "alpha", "beta", "turnover", "cost_drag", "avg_leverage")


def test_backtest_json_and_csv(tmp_path):
    csv = tmp_path / "daily.csv"
    r = runner.invoke(app, ["backtest", "--demo", "--strategy", "momentum", "--from", "2015-01-01", "--to", "2019-12-31",
                            "--leverage", "1.2", "--vix-overlay", "--json", "--csv", str(csv)])
    assert r.exit_code == 0, r.stdout
    d = json.loads(r.stdout)
    for k in ("strategy", "params", "from", "to", "metrics", "benchmark_metrics", "spy_metrics", "failed_rebalances",
              "attribution"):
        assert k in d
    for k in KEYS:
        assert k in d["metrics"] and k in d["benchmark_metrics"] and k in d["spy_metrics"]
    assert set(d["attribution"]) >= {"sectors", "total", "active_return"}
    assert abs(d["attribution"]["total"] - d["attribution"]["active_return"]) < 1e-10
    df = pd.read_csv(csv)
    assert list(df.columns) == ["date", "nav", "return", "benchmark_return", "spy_return", "leverage", "turnover", "cost"]
    assert df["date"].iloc[0] == d["from"] and df["date"].iloc[-1] == d["to"]
    assert (1 + df["return"]).prod() - 1 == pytest.approx(d["metrics"]["total_return"], rel=1e-10)
    assert d["params"]["leverage"] == 1.2 and d["metrics"]["avg_leverage"] > 1.0


@pytest.mark.parametrize("args, words", [
    (["--strategy", "magic"], "--strategy"),
    (["--strategy", "momentum", "--lag", "-1"], "--lag"),
    (["--strategy", "momentum", "--schedule", "hourly"], "--schedule"),
    (["--strategy", "momentum", "--from", "2030-01-01"], "window"),
])
def test_bad_arguments_exit_2_with_one_sentence(args, words):
    r = runner.invoke(app, ["backtest", "--demo", "--json", *args])
    assert r.exit_code == 2
    err = json.loads(r.stdout)["error"]
    assert words in err and "Traceback" not in r.stdout


def test_lag_zero_is_labelled_look_ahead():
    r = runner.invoke(app, ["backtest", "--demo", "--strategy", "equal", "--from", "2018-01-01", "--lag", "0", "--json"])
    d = json.loads(r.stdout)
    assert "look-ahead" in d["timing"] and any("look-ahead" in n for n in d["notes"])
