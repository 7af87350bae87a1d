"""`rotation signals research`: JSON table on the demo market, clear error for a bad target."""
import json

import pytest
from typer.testing import CliRunner

from addin.cli.main import app

runner = CliRunner()


def test_unknown_target_is_a_one_line_error():
    r = runner.invoke(app, ["signals", "research", "--demo", "--target", "nope"])
    assert r.exit_code == 2
    assert "--target" in r.output and "rel_spy_60" in r.output and "Traceback" not in r.output


@pytest.mark.slow
def test_research_json_on_demo(tmp_path):
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[research]\nhgb = false\nstep = 252\nreps = 60\n")
    r = runner.invoke(app, ["signals", "research", "--demo", "--target", "major_under", "--target", "event", "--json",
                            "--stress-config", str(cfg)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    t = d["targets"]["major_under"]
    assert set(t["metrics"]) == {"procedure", "only:vix", "only:hy_oas", "always", "never", "base_rate",
                                 "hmm2:credit", "hmm3:credit"}
    auc = t["metrics"]["procedure"]["auc"]
    assert auc["ci_low"] <= auc["value"] <= auc["ci_high"]
    assert t["metrics"]["never"]["brier"]["value"] == pytest.approx(t["metrics"]["never"]["base_rate"])
    assert t["candidates_tried"] > 10
    assert d["candidates_tried"] == sum(v["candidates_tried"] for v in d["targets"].values())
    assert sum(t["chosen_counts"].values()) == t["refits"]
    assert set(t["beats"].values()) <= {"PASS", "FAIL", "INCONCLUSIVE"}
    assert "major_under: out-of-sample AUC" in d["verdict"]
    lt = d["targets"]["event"]["lead_times"]
    assert lt["scored"] == len(lt["events"]) and 0 <= lt["within"] <= lt["scored"]
    assert set(d["targets"]["event"]["by_regime"]) <= {"calm", "elevated", "stress", "crisis"}
    ev = d["targets"]["event"]
    assert set(ev["by_regime_ci"]) == set(ev["by_regime"]) and set(ev["by_decade_ci"]) == set(ev["by_decade"])
    for k, v in ev["by_decade_ci"].items():
        assert v["value"] == pytest.approx(ev["by_decade"][k])
    ld = ev["lead_distribution"]
    assert set(ld) == {"procedure", "only:vix", "only:hy_oas"}
    assert ld["procedure"]["within"] == lt["within"] and ld["procedure"]["events"] == lt["scored"]
    assert {"hmm2:credit", "hmm3:credit"} <= set(t["pool"]) and len(t["pool"]) == t["candidates_tried"]
