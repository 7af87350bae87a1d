"""The user factors' cleaning settings come from the stress TOML's [user_factors] table: the shipped
defaults are the CleaningRule's, a TOML changes what each step does (the counts say so), every face that
scores factors takes it (--stress-config), the panel's summary records it, and a bad value is one sentence
naming the key."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import data_folder_with
from engine.data.model import Market
from engine.data.user_factors import parse_factor_panel
from engine.errors import ArgumentError
from engine.factors.rule import CleaningRule
from engine.stress.config import StressConfig

SECS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
HEADER = "date,sector,factor,value,market_cap,published"


def panel_csv(rows) -> bytes:
    return ("\n".join([HEADER] + [",".join(map(str, r)) for r in rows]) + "\n").encode()


def rows_on(sessions, seed=0):
    """Monthly cross-sections (every 21st session) of a capped factor 'ey' with one outlier each month
    (XLK at 40) and an uncapped 'rev'."""
    rng = np.random.default_rng(seed)
    out = []
    for d in sessions:
        for s in SECS:
            out.append((d.date(), s, "ey", 40.0 if s == "XLK" else round(rng.normal(), 5),
                        round(float(np.exp(rng.normal(25, 1)))), ""))
            out.append((d.date(), s, "rev", round(rng.normal(), 5), "", ""))
    return out


def toml(tmp_path, body: str, name="s.toml"):
    p = tmp_path / name
    p.write_text(body)
    return p


def test_shipped_defaults_are_the_cleaning_rule():
    assert StressConfig.default().user_factors == CleaningRule()
    assert StressConfig.from_toml(None).user_factors.to_dict() == CleaningRule().to_dict()


@pytest.mark.parametrize("body, words", [
    ("max_age = -1", "user_factors.max_age: expected a whole number of sessions >= 0, got -1"),
    ('max_age = "x"', "user_factors.max_age: expected a whole number, got 'x'"),
    ('winsorize = "trim"', "user_factors.winsorize: expected one of mad, quantile, none, got 'trim'"),
    ("limits = 0.6", "user_factors.limits: expected a fraction in [0, 0.5), got 0.6"),
    ("mad_k = 0", "user_factors.mad_k: expected a positive number of MADs, got 0"),
    ("min_sectors = 2", "user_factors.min_sectors: expected a whole number of sectors >= 3, got 2"),
    ("neutralize = 1", "user_factors.neutralize: expected true or false, got 1"),
    ("winsor = 0.01", "user_factors.winsor: unknown setting; expected one of"),
])
def test_bad_values_are_one_sentence_naming_the_key(tmp_path, body, words):
    with pytest.raises(ArgumentError) as e:
        StressConfig.from_toml(toml(tmp_path, f"[user_factors]\n{body}\n"))
    assert str(e.value).startswith(words) and "\n" not in str(e.value)


def test_a_toml_changes_each_step_and_its_counts(demo, tmp_path):
    from usecases.factors import current_scores

    sessions = demo.sessions[300:3000:21]
    m = Market(**{**demo.__dict__, "user_factors": parse_factor_panel(panel_csv(rows_on(sessions)), "f.csv")})
    t = demo.sessions[3000]
    base = current_scores(m, asof=t, with_ic=False)
    cfg = StressConfig.from_toml(toml(tmp_path, '[user_factors]\nwinsorize = "none"\nneutralize = false\nmax_age = 5\n'))
    alt = current_scores(m, asof=t, with_ic=False, stress_config=cfg)
    b, a = base.attrs["user_factors"]["factors"], alt.attrs["user_factors"]["factors"]
    assert base.attrs["user_factors"]["settings"] == CleaningRule().to_dict()
    assert alt.attrs["user_factors"]["settings"] == {**CleaningRule().to_dict(), "winsorize": "none",
                                                     "neutralize": False, "max_age": 5}
    # winsorization: the monthly XLK outlier is clipped by default, untouched with "none"
    assert b["ey"]["winsorized"] >= len(sessions) and a["ey"]["winsorized"] == 0
    # max_age: a monthly value stays 66 sessions by default (every session covered), 5 with the TOML
    n_sec = len([s for s in SECS if s in demo.prices.columns])
    assert b["rev"]["cells"] > a["rev"]["cells"] == pytest.approx(len(sessions) * 6 * n_sec, rel=0.05)
    # cap neutrality: on by default for the capped factor, off with the TOML
    assert b["ey"]["neutralized"] and not a["ey"]["neutralized"] and a["ey"]["no_cap"] == 0
    assert "no market-cap neutralization" in alt.attrs["user_factors"]["rule"]
    assert "no winsorization" in alt.attrs["user_factors"]["rule"]
    # quantile winsorization of 1 in 9 clips exactly one value in each tail of every scored session
    q = StressConfig.from_toml(toml(tmp_path, '[user_factors]\nwinsorize = "quantile"\nlimits = 0.12\n', "q.toml"))
    c = current_scores(m, asof=t, with_ic=False, stress_config=q).attrs["user_factors"]["factors"]["rev"]
    assert c["winsorized"] == 2 * (c["cells"] // n_sec)


def test_optimize_and_backtest_score_with_the_toml(demo, tmp_path):
    from usecases.factors import current_scores
    from usecases.optimize import optimize_as_of

    sessions = demo.sessions[300:3000:21]
    m = Market(**{**demo.__dict__, "user_factors": parse_factor_panel(panel_csv(rows_on(sessions)), "f.csv")})
    t = demo.sessions[3000]
    cfg = StressConfig.from_toml(toml(tmp_path, '[user_factors]\nwinsorize = "none"\nneutralize = false\n'))
    r = optimize_as_of(m, t, steps=1, stress_config=cfg)
    ref = current_scores(m, asof=t, stress_config=cfg)["composite"]
    default = current_scores(m, asof=t)["composite"]
    assert not np.allclose(ref.reindex(default.index), default)
    for k, v in r["scores"].items():
        if v is not None:
            assert v == pytest.approx(ref[k])


@pytest.fixture(scope="module")
def folder(shared_data, tmp_path_factory):
    panel = panel_csv(rows_on(pd.bdate_range("2001-01-31", "2019-11-29", freq="BME")))
    return data_folder_with(shared_data, tmp_path_factory.mktemp("settings") / "data", {"factors.csv": panel})


def test_cli_takes_the_settings_and_refuses_bad_ones(folder, tmp_path):
    from typer.testing import CliRunner

    from addin.cli.main import app

    good = toml(tmp_path, '[user_factors]\nwinsorize = "none"\nmax_age = 10\n')
    args = ["factors", "scores", "--data", str(folder), "--as-of", "2008-10-10", "--json"]
    a = CliRunner().invoke(app, args)
    b = CliRunner().invoke(app, args + ["--stress-config", str(good)])
    assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
    ua, ub = json.loads(a.stdout)["user_factors"], json.loads(b.stdout)["user_factors"]
    assert ub["settings"]["winsorize"] == "none" and ub["settings"]["max_age"] == 10
    assert ua["factors"]["ey"]["winsorized"] > 0 == ub["factors"]["ey"]["winsorized"]
    assert ua["factors"]["ey"]["cells"] > ub["factors"]["ey"]["cells"]
    bad = toml(tmp_path, "[user_factors]\nmax_age = -3\n", "bad.toml")
    for cmd in (["factors", "scores", "--data", str(folder)], ["factors", "ic", "--data", str(folder)],
                ["optimize", "--data", str(folder)], ["data", "status"]):
        res = CliRunner().invoke(app, cmd + ["--stress-config", str(bad)])
        assert res.exit_code == 2, (cmd, res.output)
        assert "user_factors.max_age: expected a whole number of sessions >= 0, got -3" in res.output
        assert "Traceback" not in res.output


def test_data_status_records_the_settings(folder, tmp_path):
    from typer.testing import CliRunner

    from addin.cli.main import app
    from usecases.context import import_folders

    store = tmp_path / "s.sqlite"
    import_folders([folder], store)
    st = CliRunner().invoke(app, ["data", "status", "--store", str(store), "--json"])
    assert st.exit_code == 0, st.output
    assert json.loads(st.stdout)["user_factors"]["cleaning"] == CleaningRule().to_dict()
    cfg = toml(tmp_path, "[user_factors]\nneutralize = false\nmax_age = 21\n")
    st = CliRunner().invoke(app, ["data", "status", "--store", str(store), "--json", "--stress-config", str(cfg)])
    assert json.loads(st.stdout)["user_factors"]["cleaning"] == {**CleaningRule().to_dict(), "neutralize": False,
                                                                  "max_age": 21}
    text = CliRunner().invoke(app, ["data", "status", "--store", str(store), "--stress-config", str(cfg)]).output
    assert "no market-cap neutralization" in text and "for 21 sessions" in text
