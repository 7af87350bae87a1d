"""Readings and `rotation signals validate` use the research procedure through its selection record:
exactly the research's values while the data match, the last choice refitted walk-forward past the record's
end, point in time (truncation and alteration after t), altered history detected, no record said in words.
A reduced candidate pool ([research] in a TOML) keeps the two demo research runs to seconds."""
import hashlib
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.errors import DataError
from engine.signals_research.models import Candidate
from engine.signals_research.walkforward import candidate_predictions
from engine.stress.config import StressConfig
from tests.pit_helpers import altered_after
from usecases.selection_store import write_record

FAST_TOML = """[research]
candidates = ["hy_chg20_z", "bbb_aaa", "hyg_ief_chg20"]
credit = ["hy_chg20_z", "bbb_aaa"]
curve = []
stress = []
broad = []
hgb = false
hmm = []
step = 252
reps = 60
"""
CUT = 4500          # the short record ends at this session of the demo market


@pytest.fixture(scope="module")
def setup(demo, tmp_path_factory):
    from usecases.signals_research import research

    base = tmp_path_factory.mktemp("selection")
    (base / "fast.toml").write_text(FAST_TOML)
    cfg = StressConfig.from_toml(base / "fast.toml")
    full = research(demo, cfg, only=["event"], keep_record=True)
    t0 = demo.sessions[CUT]
    short = research(demo.asof(t0), cfg, only=["event"], keep_record=True)
    dirs = {}
    for name, rep in (("full", full), ("short", short)):
        dirs[name] = base / name
        write_record(rep["selection_record"], dirs[name] / "x.json")
    return {"cfg": cfg, "full": full, "short": short, "dirs": dirs, "t0": t0, "toml": base / "fast.toml"}


def _filed(monkeypatch, setup, name, market):
    from usecases.selection_store import record_path

    monkeypatch.setenv("ROTATION_SELECTIONS", str(setup["dirs"][name]))
    path = record_path(market, setup["cfg"])
    if not path.exists():
        path.write_bytes((setup["dirs"][name] / "x.json").read_bytes())
    return path


def _prob(rec):
    return np.array([np.nan if v is None else v for v in rec["procedure"]], float)


def test_reading_equals_the_research_procedure(demo, setup, monkeypatch):
    from usecases.signals import reading, stress_result

    _filed(monkeypatch, setup, "full", demo)
    rec = setup["full"]["selection_record"]
    res = stress_result(demo, setup["cfg"])
    assert res.procedure_info["status"] == "record"
    p = res.daily["warning_probability"].to_numpy(float)
    np.testing.assert_array_equal(p, _prob(rec))
    assert np.isfinite(p).sum() > 2000
    sched = rec["schedule"]
    for t in ("2008-10-10", "2018-12-24", "2012-06-01"):
        r = reading(demo, t, setup["cfg"], with_defensive=False)
        pos = demo.sessions.get_loc(pd.Timestamp(r["as_of"]))
        assert r["warning_probability"] == p[pos]
        pick = [s for s in sched if s["position"] <= pos][-1]
        wp = r["warning_procedure"]
        assert wp["status"] == "record" and wp["candidate"] == pick["candidate"] and wp["refit"] == pick["date"]
        assert f"chosen at the {pick['date']} refit" in wp["verdict"] and "Evidence: event: out-of-sample AUC" in wp["verdict"]


def test_the_whole_procedure_is_point_in_time(setup):
    """Research on the data up to t0 gives, up to t0, exactly the full research's procedure (selection
    included), so a record made later holds for every earlier session."""
    short, full = setup["short"]["selection_record"], setup["full"]["selection_record"]
    n = len(short["procedure"])
    assert n == CUT + 1 and full["chain"][:n] == short["chain"]
    np.testing.assert_array_equal(_prob(short), _prob(full)[:n])
    assert full["schedule"][: len(short["schedule"])] == short["schedule"]


def test_selection_uses_only_scores_known_at_each_refit(demo, setup):
    """Each refit's recorded score is the chosen candidate's AUC on rows whose label was known then."""
    from engine.signals_research.walkforward import score
    from usecases.signals_research import research_inputs, research_pool

    rec = setup["full"]["selection_record"]
    x, y, hor, _ = research_inputs(demo, setup["cfg"])
    rc = setup["cfg"].research
    pool = research_pool(setup["cfg"])
    pred, _, _ = candidate_predictions(x, y["event"], 60, True, pool, step=rc.step, min_train=rc.min_train,
                                       min_positive=rc.min_positive, ridge=rc.ridge)
    for s in rec["schedule"]:
        if s["score"] is None:
            continue
        last = s["position"] - 60 + 1
        assert s["score"] == pytest.approx(score(pred[s["candidate"]].to_numpy()[:last],
                                                 y["event"].to_numpy()[:last], True), abs=1e-12)


def test_after_the_record_the_last_choice_is_refitted_walk_forward(demo, setup, monkeypatch):
    from usecases.signals import reading, stress_result

    _filed(monkeypatch, setup, "short", demo)
    rec = setup["short"]["selection_record"]
    res = stress_result(demo, setup["cfg"])
    assert res.procedure_info["status"] == "extended"
    p = res.daily["warning_probability"].to_numpy(float)
    n = len(rec["procedure"])
    np.testing.assert_array_equal(p[:n], _prob(rec))
    last = rec["schedule"][-1]
    rc = setup["cfg"].research
    from usecases.signals_research import research_inputs

    x, y, _, _ = research_inputs(demo, setup["cfg"])
    c = {"rule:bbb_aaa": Candidate("c", "rule", ("bbb_aaa",)), "rule:hy_chg20_z": Candidate("c", "rule", ("hy_chg20_z",)),
         "rule:hyg_ief_chg20": Candidate("c", "rule", ("hyg_ief_chg20",))}.get(last["candidate"])
    assert c is not None, last
    pred, _, _ = candidate_predictions(x, y["event"], 60, True, [c], step=rc.step, min_train=rc.min_train,
                                       min_positive=rc.min_positive, ridge=rc.ridge)
    np.testing.assert_array_equal(p[n:], pred["c"].to_numpy(float)[n:])
    nxt = last["position"] + rc.step
    full = _prob(setup["full"]["selection_record"])
    np.testing.assert_array_equal(p[n:nxt], full[n:nxt])      # until the next refit the true procedure agrees
    fresh = reading(demo, demo.sessions[n + 5], setup["cfg"], with_defensive=False)["warning_procedure"]
    assert fresh["sessions_past_research"] == n + 5 - last["position"] and not fresh["stale"]
    assert "sessions past the last research refit" in fresh["verdict"] and "STALE" not in fresh["verdict"]
    old = reading(demo, demo.sessions[nxt + 3], setup["cfg"], with_defensive=False)["warning_procedure"]
    assert old["stale"] and "STALE" in old["verdict"] and "rotation signals research" in old["verdict"]


@pytest.mark.parametrize("pos", [3000, CUT + 40])
def test_truncation_and_alteration_after_t_leave_the_reading(demo, setup, monkeypatch, pos):
    from usecases.signals import reading

    _filed(monkeypatch, setup, "short", demo)
    t = demo.sessions[pos]
    want = reading(demo, t, setup["cfg"], with_defensive=False)
    assert want["warning_probability"] is not None
    for m in (demo.asof(t), altered_after(demo, t)):
        got = reading(m, t, setup["cfg"], with_defensive=False)
        assert got["warning_probability"] == want["warning_probability"]
        assert got["warning_procedure"]["candidate"] == want["warning_procedure"]["candidate"]


def test_altered_history_before_the_records_end_is_detected(demo, setup, monkeypatch):
    from usecases.signals import reading, stress_result, validation_report

    _filed(monkeypatch, setup, "full", demo)
    s = demo.sessions[3000]
    stress = demo.stress.copy()
    stress.loc[s, "hy_oas"] = stress.loc[s, "hy_oas"] + 0.01          # one revised value
    m = replace(demo, stress=stress)
    res = stress_result(m, setup["cfg"])
    assert res.procedure_info["status"] == "mismatch" and res.procedure_info["mismatch_at"] == s.date().isoformat()
    before = reading(m, demo.sessions[2990], setup["cfg"], with_defensive=False)
    assert before["warning_procedure"]["status"] == "mismatch" and before["warning_procedure"]["candidate"]
    assert before["warning_probability"] == _prob(setup["full"]["selection_record"])[2990]
    after = reading(m, demo.sessions[3100], setup["cfg"], with_defensive=False)
    model = replace(setup["cfg"], warning=replace(setup["cfg"].warning, procedure="model"))
    assert after["warning_probability"] == stress_result(m, model).daily["warning_probability"].iloc[3100]
    assert f"differ from the research selection record's from {s.date()}" in after["warning_procedure"]["verdict"]
    with pytest.raises(DataError, match="differ from the research selection record"):
        validation_report(m, setup["cfg"])


def test_no_record_uses_the_logistic_model_and_says_so(demo, setup, monkeypatch, tmp_path):
    from usecases.signals import reading, stress_result

    monkeypatch.setenv("ROTATION_SELECTIONS", str(tmp_path / "empty"))
    r = reading(demo, "2018-12-24", setup["cfg"], with_defensive=False)
    model = replace(setup["cfg"], warning=replace(setup["cfg"].warning, procedure="model"))
    want = stress_result(demo, model).reading("2018-12-24")["warning_probability"]
    assert r["warning_probability"] == want
    v = r["warning_procedure"]
    assert v["status"] == "no_record" and v["candidate"] is None
    assert "no research selection on record for this data; run `rotation signals research`" in v["verdict"]


def test_validate_equals_the_research_procedure_row(demo, setup, monkeypatch):
    from usecases.signals import validation_report

    _filed(monkeypatch, setup, "full", demo)
    rep = validation_report(demo, setup["cfg"])
    ev = setup["full"]["targets"]["event"]
    for row in ("procedure", "only:vix", "only:hy_oas", "always", "never", "base_rate"):
        assert rep["procedure"]["metrics"][row] == ev["metrics"][row], row
    assert rep["procedure"]["difference_vs"] == ev["difference_vs"] and rep["procedure"]["beats"] == ev["beats"]
    assert rep["verdict"].startswith(setup["full"]["verdict"].split(" event:")[0][:40])
    assert rep["procedure"]["words"] in rep["verdict"] and rep["warning_procedure"]["status"] == "record"


def test_cli_research_files_the_record_and_readings_show_it(demo, setup, tmp_path, monkeypatch):
    from addin.cli.main import app

    runner = CliRunner()
    monkeypatch.setenv("ROTATION_SELECTIONS", str(tmp_path / "sel"))
    copy = tmp_path / "copy.json"
    r = runner.invoke(app, ["signals", "research", "--demo", "--target", "event", "--json", "--stress-config",
                            str(setup["toml"]), "--save", str(copy)])
    assert r.exit_code == 0, r.output
    saved = json.loads(r.output)["selection_saved"]
    assert saved["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert open(saved["path"], "rb").read() == copy.read_bytes()
    r = runner.invoke(app, ["signals", "--demo", "--json", "--stress-config", str(setup["toml"]), "--as-of", "2018-12-24"])
    assert r.exit_code == 0, r.output
    wp = json.loads(r.output)["warning_procedure"]
    assert wp["status"] == "record" and wp["record_sha256"] == saved["sha256"]
    bad = runner.invoke(app, ["signals", "research", "--demo", "--target", "event", "--save", str(tmp_path)])
    assert bad.exit_code == 2 and "--save" in bad.output and "Traceback" not in bad.output


def test_words_before_the_first_choice(demo, setup, monkeypatch):
    from usecases.signals import procedure_note, stress_result

    _filed(monkeypatch, setup, "full", demo)
    res = stress_result(demo, setup["cfg"])
    sched = setup["full"]["selection_record"]["schedule"]
    early = procedure_note(res, demo.sessions[sched[0]["position"] - 1])
    assert "before its first refit" in early["verdict"] and early["candidate"] is None
    dflt = [s for s in sched if s["score"] is None]
    assert dflt, "the reduced pool should need its default at the first refits"
    note = procedure_note(res, demo.sessions[dflt[0]["position"]])
    assert "the procedure's own rule applies: its default" in note["verdict"] and note["candidate"] == dflt[0]["candidate"]


def test_signed_workbook_lists_the_selection_record_and_the_sheet_says_the_procedure(demo, setup, monkeypatch):
    from usecases.export import build_report

    path = _filed(monkeypatch, setup, "full", demo)
    rep = build_report(demo, "2018-12-24", stress_config=setup["cfg"])
    rows = [r for r in rep.inputs if r[0] == "selection record"]
    assert rows == [("selection record", str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())]
    assert rep.early_warning["verdict"].startswith("warning probability from the research procedure")
    assert "event: out-of-sample AUC" in rep.early_warning["verdict"]


def test_a_damaged_record_is_a_one_sentence_error(demo, setup, monkeypatch):
    from addin.cli.main import app

    path = _filed(monkeypatch, setup, "full", demo)
    monkeypatch.setenv("ROTATION_SELECTIONS", str(path.parent.parent / "damaged"))
    from usecases.selection_store import record_path

    bad = record_path(demo, setup["cfg"])
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(path.read_bytes()[:1000])          # a half-written file (the writer never leaves one)
    r = CliRunner().invoke(app, ["signals", "--demo", "--stress-config", str(setup["toml"])])
    assert r.exit_code == 2 and "selection record is not valid JSON" in r.output and bad.name in r.output
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_real_data_record_round_trip(real_market, tmp_path, monkeypatch):
    """On ../shared/data (vendor files, publication lags, stale inputs) with the reduced pool: the filed record
    is found, readings equal it, a point-in-time view agrees, and validate equals the research's event rows."""
    from usecases.selection_store import save_selection
    from usecases.signals import reading, stress_result, validation_report
    from usecases.signals_research import research

    monkeypatch.setenv("ROTATION_SELECTIONS", str(tmp_path / "sel"))
    (tmp_path / "fast.toml").write_text(FAST_TOML)
    cfg = StressConfig.from_toml(tmp_path / "fast.toml")
    rep = research(real_market, cfg, only=["event"], keep_record=True)
    rec = rep["selection_record"]
    saved = save_selection(rep, real_market, cfg)
    res = stress_result(real_market, cfg)
    assert res.procedure_info["status"] == "record" and res.procedure_info["sha256"] == saved["sha256"]
    np.testing.assert_array_equal(res.daily["warning_probability"].to_numpy(float), _prob(rec))
    t = "2018-12-24"
    r = reading(real_market, t, cfg, with_defensive=False)
    assert r["warning_probability"] == reading(real_market.asof(t), t, cfg, with_defensive=False)["warning_probability"]
    v = validation_report(real_market, cfg)
    assert v["procedure"]["metrics"]["procedure"] == rep["targets"]["event"]["metrics"]["procedure"]
