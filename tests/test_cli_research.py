"""CLI: `rotation sweep` (rows, sensitivity, files, errors) and `rotation research exp002` (claims
beside measurements; the note's window on data reaching 2024, the development window otherwise)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli.main import app
from usecases.research import CLAIMS, HEADLINE, exp002

runner = CliRunner()


def test_sweep_json_csv_and_xlsx(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTATION_SWEEP_LOG", str(tmp_path / "sweeps.jsonl"))
    csv, xlsx = tmp_path / "rows.csv", tmp_path / "grid.xlsx"
    res = runner.invoke(app, ["sweep", "--demo", "--strategy", "momentum", "--grid", "lookback=118:134:4",
                              "--grid", "leverage=1.0,1.25", "--json", "--csv", str(csv), "--xlsx", str(xlsx)])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["configs_tried"] == 10 and len(r["rows"]) == 10
    for k in ("lookback", "leverage", "cagr", "sharpe", "max_drawdown", "information_ratio", "turnover", "error"):
        assert k in r["rows"][0]
    assert r["sensitivity"] and r["deflated_sharpe"]["n_trials"] == 10 and "returns" not in r
    assert pd.read_csv(csv).shape[0] == 10
    wb = load_workbook(xlsx)
    assert {"Summary", "Rows", "Heatmap sharpe", "Heatmap cagr", "Sensitivity"} <= set(wb.sheetnames)
    hm = wb["Heatmap sharpe"]
    assert [c.value for c in hm[2]][1:] == [1.0, 1.25] and hm["A3"].value == 118
    best = max(r["rows"], key=lambda x: x["sharpe"])
    cell = hm.cell(row=3 + [118, 122, 126, 130, 134].index(best["lookback"]), column=2 + [1.0, 1.25].index(best["leverage"]))
    assert cell.value == pytest.approx(best["sharpe"])
    log = [json.loads(x) for x in (tmp_path / "sweeps.jsonl").read_text().splitlines()]
    assert log[-1]["strategy"] == "momentum" and log[-1]["configs_tried"] == 10


def test_sweep_table_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTATION_SWEEP_LOG", str(tmp_path / "sweeps.jsonl"))
    res = runner.invoke(app, ["sweep", "--demo", "--strategy", "momentum", "--grid", "lookback=118:134:2"])
    assert res.exit_code == 0, res.output
    assert "Sensitivity around the best point" in res.output and "deflated Sharpe ratio" in res.output
    bad = runner.invoke(app, ["sweep", "--demo", "--strategy", "momentum", "--grid", "lookback"])
    assert bad.exit_code == 2 and "--grid" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["sweep", "--demo", "--strategy", "nonsense", "--grid", "lookback=1,2", "--json"])
    assert bad.exit_code == 2 and "nonsense" in json.loads(bad.output)["error"]


def test_exp002_embeds_the_claims_and_uses_the_development_window(demo):
    r = exp002(demo)
    assert (r["from"], r["to"]) == ("2005-01-03", "2019-12-31") and "development window" in r["window_note"]
    assert r["configs_tried"] == len(CLAIMS) == 17
    head = next(c for c in r["cells"] if c["name"] == HEADLINE)
    assert head["claimed"] == {"cagr": 0.1301, "sharpe": 1.712, "max_drawdown": -0.0702, "win_rate_daily": 0.6940}
    assert head["difference"]["cagr"] == pytest.approx(head["measured"]["cagr"] - 0.1301)
    assert r["spy"]["claimed"]["cagr"] == 0.1434 and 0 <= r["pbo"]["pbo"] <= 1
    assert "claimed" in r["summary"] and r["headline_deflated_sharpe"]["n_trials"] == 17


def test_exp002_on_data_reaching_2024_runs_the_notes_window_unchanged():
    from engine.data.demo import demo_market

    r = exp002(demo_market(end="2024-12-31"))
    assert (r["from"], r["to"]) == ("2020-01-02", "2024-12-31") and r["window_note"] == "the note's own window"


@pytest.mark.realdata
def test_exp002_cli_on_real_data(shared_data):
    res = runner.invoke(app, ["research", "exp002", "--data", str(shared_data), "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert len(r["cells"]) == 17 and r["from"] == "2005-01-03"
    lb = [c for c in r["cells"] if c["group"] == "momentum"]
    assert [c["params"]["lookback"] for c in lb] == list(range(118, 135, 2))
