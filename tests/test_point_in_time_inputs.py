"""Point in time includes publication lags; files that end on different days are handled and said so."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app
from usecases import signals
from usecases.context import open_market

runner = CliRunner()


def _copy(shared_data, tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(shared_data, dst, ignore=shutil.ignore_patterns("README.md"))
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    dst.chmod(0o755)
    return dst


def _truncate(path, last: str, date_col: int = 0) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = pd.to_datetime(df.iloc[:, date_col]) <= pd.Timestamp(last)
    df[keep].to_csv(path, index=False)


def _replace_value(path, date: str, value: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert (df.iloc[:, 0] == date).sum() == 1
    df.loc[df.iloc[:, 0] == date, df.columns[1]] = value
    df.to_csv(path, index=False)


@pytest.fixture(scope="module")
def garbage_pair(shared_data, tmp_path_factory):
    """The real market, and the same with HY OAS and the 10y-2y slope dated 2008-10-10 replaced by garbage."""
    tmp = tmp_path_factory.mktemp("pit")
    bad = _copy(shared_data, tmp)
    _replace_value(bad / "fred" / "BAMLH0A0HYM2.csv", "2008-10-10", "55.55")
    _replace_value(bad / "fred" / "T10Y2Y.csv", "2008-10-10", "-7.77")
    return open_market(data=shared_data), open_market(data=bad)


def test_lag_1_values_dated_t_do_not_change_the_reading_at_t(garbage_pair):
    good, bad = garbage_pair
    a, b = signals.reading(good, "2008-10-10"), signals.reading(bad, "2008-10-10")
    for k in ("index", "percentile", "regime", "strength", "change_20d", "warning_probability"):
        assert a[k] == b[k], k
    # ... and they are used from the next session on, when they were published
    assert signals.reading(good, "2008-10-13")["index"] != signals.reading(bad, "2008-10-13")["index"]
    assert good.asof("2008-10-10").stress["hy_oas"].iloc[-1] == bad.asof("2008-10-10").stress["hy_oas"].iloc[-1]


def test_weekly_reference_series_are_cut_at_their_release(garbage_pair):
    good, _ = garbage_pair
    fri = pd.Timestamp("2008-10-10")                      # STLFSI4 week ending Friday, released Thursday
    assert fri in good.reference["stlfsi4"].dropna().index
    assert fri not in good.asof("2008-10-15").reference["stlfsi4"].dropna().index
    assert fri in good.asof("2008-10-16").reference["stlfsi4"].dropna().index


@pytest.fixture(scope="module")
def ragged(shared_data, tmp_path_factory):
    """Sector prices end 2019-09-30, bond ETFs and most FRED series 2019-12-31, T10Y3M stops 2019-06-28."""
    d = _copy(shared_data, tmp_path_factory.mktemp("ragged"))
    for f in (d / "prices" / "yahoo").glob("*.csv"):
        _truncate(f, "2019-09-30")
    _truncate(d / "fred" / "T10Y3M.csv", "2019-06-28")
    return d


def test_calendar_ends_at_the_last_session_with_universe_prices(ragged):
    m = open_market(data=ragged)
    assert m.last == pd.Timestamp("2019-09-30")
    assert m.prices.loc["2019-09-30", ["XLK", "XLV", "SPY"]].notna().all()


def test_signals_json_lists_stale_inputs_and_the_stopped_one_drops_out(ragged):
    r = runner.invoke(app, ["signals", "--data", str(ragged), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["as_of"] == "2019-09-30"
    stale = {s["name"]: s for s in out["stale_inputs"]}
    assert stale["t10y3m"]["dropped"] and stale["t10y3m"]["sessions"] > 60
    assert any("t10y3m" in n and "left out of the index" in n for n in out["notes"])
    m = open_market(data=ragged)
    res = signals.stress_result(m)
    loadings = res.loadings.loc["2019-09-30"]
    assert all(pd.isna(v) or v == 0 for k, v in loadings.items() if k.startswith("t10y3m"))


def test_a_date_after_the_last_session_is_the_last_reading_marked_stale(ragged):
    r = runner.invoke(app, ["signals", "--data", str(ragged), "--as-of", "2019-10-04", "--json"])
    out = json.loads(r.output)
    assert r.exit_code == 0 and out["as_of"] == "2019-09-30" and out["stale_sessions"] == 4
    r = runner.invoke(app, ["signals", "--data", str(ragged), "--as-of", "2019-10-04"])
    assert "4 session(s) after the last session with prices" in " ".join(r.output.split())


@pytest.mark.slow
def test_optimize_compare_works_on_a_ragged_folder(ragged):
    r = runner.invoke(app, ["optimize", "compare", "--data", str(ragged), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["period"]["end"] <= "2019-09-30"


def test_data_status_shows_staleness_against_the_calendar(ragged, tmp_path):
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["data", "import", str(ragged), "--store", str(store)]).exit_code == 0
    r = runner.invoke(app, ["data", "status", "--store", str(store), "--json"])
    out = json.loads(r.output)
    rows = {s["name"]: s for s in out["series"]}
    assert out["calendar_end"] == "2019-09-30"
    assert rows["t10y3m"]["stale_sessions"] == 64 and rows["XLK"]["stale_sessions"] == 0
    assert rows["TLT"]["after_calendar"] and rows["hy_oas"]["lag"] == 1
