"""The scorecard: every story metric with a value, a bootstrap interval, a target and a verdict that
follows from them; cross-checked against the stress validation and the backtest metrics."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.stats.verdict import verdict
from usecases.scorecard import TARGETS, VS_NOSIGNAL, scorecard

STORY = ("early_warning", "alpha_12m", "tracking_error_transitions", "accuracy", "information_ratio")


def _check_card(card: dict) -> None:
    names = [m["name"] for m in card["metrics"]]
    assert names[:5] == list(STORY) and set(names[5:]) == set(VS_NOSIGNAL)
    for m in card["metrics"]:
        assert {"name", "definition", "value", "ci_low", "ci_high", "target", "verdict"} <= set(m)
        assert m["definition"].endswith(".") and m["target"] == {**TARGETS, **VS_NOSIGNAL}[m["name"]][0]
        assert m["verdict"] == verdict(m["ci_low"], m["ci_high"], m["target"], m["higher_is_better"])
        if m["ci_low"] is not None:
            assert m["ci_low"] <= m["value"] <= m["ci_high"] or m["name"] == "early_warning"
    for k in ("deflated_sharpe", "pbo", "configs_tried", "from", "to"):
        assert k in card


@pytest.mark.slow
def test_scorecard_on_the_demo_market(demo):
    card = scorecard(demo, reps=200)
    _check_card(card)
    acc = next(m for m in card["metrics"] if m["name"] == "accuracy")
    assert acc["always_no_accuracy"] == pytest.approx(1 - acc["base_rate"])
    from usecases.signals_research import candidates_tried
    assert card["configs_tried"] == 1 + candidates_tried() == card["deflated_sharpe"]["n_trials"]
    assert card["trials"] == {"shown": 1, "rotation_sweeps": 0, "signal_research": candidates_tried()}


@pytest.mark.realdata
@pytest.mark.slow
def test_scorecard_cli_on_real_data_matches_validation_and_backtest(shared_data, real_market):
    from addin.cli.main import app
    from usecases.backtest import run_backtest
    from usecases.signals import validation_report

    res = CliRunner().invoke(app, ["scorecard", "--data", str(shared_data), "--json", "--reps", "200"])
    assert res.exit_code == 0, res.output
    card = json.loads(res.output)
    _check_card(card)
    m = {x["name"]: x for x in card["metrics"]}
    rep = validation_report(real_market)
    # same events and warnings as `rotation signals validate` (2 of 7 on this data)
    assert m["early_warning"]["value"] == pytest.approx(rep["model"]["hit_rate"])
    assert m["early_warning"]["lead_times"]["events"] == rep["model"]["n_events"]
    assert m["accuracy"]["base_rate"] == pytest.approx(0.07, abs=0.01)      # always "no selloff": ~93%
    bt = run_backtest(real_market, "rotation")
    assert m["information_ratio"]["value"] == pytest.approx(bt.metrics["information_ratio"], abs=1e-10)
    assert np.isfinite(card["deflated_sharpe"]["dsr"])


def test_scorecard_sheet_frame_has_no_nan_or_empty_text():
    """Missing values are empty cells: a NaN or "" would not read back as written (the content digest fails)."""
    from workbooks.scorecard_sheet import COLUMNS, scorecard_frame

    card = {"metrics": [{"name": "a", "value": 0.1, "ci_low": None, "ci_high": None, "target": 0.05,
                         "verdict": "INCONCLUSIVE", "definition": "x.", "note": ""}],
            "deflated_sharpe": None, "pbo": None, "pbo_note": "none", "configs_tried": 1, "from": "2005-01-03",
            "to": "2019-12-31", "level": 0.95}
    f = scorecard_frame(card)
    assert list(f.columns) == list(COLUMNS) and list(f.index)[:1] == ["a"]
    cells = f.to_numpy().ravel().tolist()
    assert all(c is None or (c == c and c != "") for c in cells)
    assert f.loc["a", "note"] is None and f.loc["a", "value"] == 0.1 and f.loc["configs_tried", "value"] == 1


def test_signal_research_candidates_deflate_the_sharpe():
    """The research's candidate count reaches the DSR: n_trials = 1 + sweeps + candidates, the trial
    variance falls back to 1 / (T - 1), the DSR equals the closed form and falls as candidates grow."""
    from scipy.stats import kurtosis, skew

    from engine.stats.sharpe import deflated_sharpe, sharpe
    from usecases.scorecard import _multiple_testing
    from usecases.signals_research import candidates_tried, research_pool, target_names
    from engine.stress.config import StressConfig

    assert candidates_tried() == len(research_pool()) * len(target_names(StressConfig.default()))
    assert any(c.model == "hmm2" for c in research_pool())
    rng = np.random.default_rng(0)
    r = pd.Series(rng.normal(4e-4, 0.01, 2000), index=pd.bdate_range("2005-01-03", periods=2000))
    mt = _multiple_testing(r)
    n = 1 + candidates_tried()
    assert mt["configs_tried"] == n == mt["deflated_sharpe"]["n_trials"]
    x = r.to_numpy()
    expect = deflated_sharpe(sharpe(x), len(x), n, 1 / (len(x) - 1), float(skew(x)), float(kurtosis(x, fisher=False)))
    assert mt["deflated_sharpe"]["dsr"] == pytest.approx(expect["dsr"], rel=1e-12)
    dsrs = [_multiple_testing(r, k)["deflated_sharpe"]["dsr"] for k in (0, 10, 200)]
    assert dsrs[0] > dsrs[1] > dsrs[2]
    one = _multiple_testing(r, 0)["deflated_sharpe"]          # nothing else tried: the PSR against zero
    assert one["n_trials"] == 1 and one["sr0"] == 0.0
