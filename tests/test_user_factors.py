"""Bring-your-own factors: the strict reader, the cleaning (cross-checked against scipy and statsmodels),
point in time, and the seam (the panel joins every composite, IC table and allocation)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import data_folder_with
from engine.data.model import Market
from engine.data.user_factors import parse_factor_panel, read_factor_panel
from engine.errors import DataError
from engine.factors.compute import factor_panel
from engine.factors.ic import forward_returns, rank_ic
from engine.factors.standardize import winsorize_cross_section
from engine.factors.user import (CleaningRule, clean_factor, neutralize_rows, user_factor_panel,
                                 winsorize_quantile, zscore_rows)

SECS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]


def panel_csv(rows, header="date,sector,factor,value,market_cap,published"):
    return ("\n".join([header] + [",".join(map(str, r)) for r in rows]) + "\n").encode()


def parse(rows, header="date,sector,factor,value,market_cap,published"):
    return parse_factor_panel(panel_csv(rows, header), "f.csv")


# ---------------------------------------------------------------- the reader

@pytest.mark.parametrize("row, where, words", [
    (("03/04/2008", "XLK", "ey", "1", "", ""), "line 2", "date"),
    (("2008-03-04", "XLK", "ey", "inf", "", ""), "line 2", "column 'value': expected a finite number, got 'inf'"),
    (("2008-03-04", "XLK", "ey", "1e400", "", ""), "line 2", "finite number"),
    (("2008-03-04", "XLK", "ey", "", "", ""), "line 2", "column 'value' is empty"),
    (("2008-03-04", "QQQ", "ey", "1", "", ""), "line 2", "'QQQ' is not a sector ticker"),
    (("2008-03-04", "XLK", "mom_126", "1", "", ""), "line 2", "built-in factor"),
    (("2008-03-04", "XLK", "composite", "1", "", ""), "line 2", "built-in factor or composite"),
    (("2008-03-04", "XLK", "1bad", "1", "", ""), "line 2", "is not a factor name"),
    (("2008-03-04", "XLK", "ey", "1", "-5", ""), "line 2", "'market_cap': expected a positive number"),
    (("2008-03-04", "XLK", "ey", "1", "nan", ""), "line 2", "'market_cap': expected a finite number"),
    (("2008-03-04", "XLK", "ey", "1", "", "2008-03-03"), "line 2", "'published': 2008-03-03 is before"),
    (("2008-03-04", "XLK", "ey", "1", ""), "line 2", "expected 6 fields"),
    (("2999-03-04", "XLK", "ey", "1", "", ""), "line 2", "date"),
])
def test_bad_rows_are_one_sentence_naming_file_line_and_column(row, where, words):
    with pytest.raises(DataError) as e:
        parse([row])
    msg = str(e.value)
    assert msg.startswith(f"f.csv, {where}: ") and words in msg and "\n" not in msg


def test_duplicates_name_both_lines_and_headers_are_checked():
    with pytest.raises(DataError, match=r"f.csv, line 4: duplicate row: ey for XLK on 2008-03-04 is also on line 2"):
        parse([("2008-03-04", "XLK", "ey", 1, "", ""), ("2008-03-04", "XLU", "ey", 1, "", ""),
               ("2008-03-04", "XLK", "ey", 2, "", "")])
    with pytest.raises(DataError, match=r"line 1: the header lacks column\(s\) value"):
        parse([("2008-03-04", "XLK", "ey")], header="date,sector,factor")
    with pytest.raises(DataError, match=r"line 1: column 3 'price' is not a factor-panel column"):
        parse([("2008-03-04", "XLK", "1", "ey")], header="date,sector,price,factor")
    with pytest.raises(DataError, match="header but no rows"):
        parse([])


def test_reader_accepts_the_documented_layout(tmp_path):
    f = tmp_path / "factors.csv"
    f.write_bytes(panel_csv([("2008-03-04", "XLK", "ey", "0.05", "4e11", "2008-03-06"),
                             ("2008-03-04", "XLU", "ey", "-0.01", "", "")],
                            header="Date,Sector,Factor,Value,Market_Cap,Published"))
    p = read_factor_panel(f)
    assert p.factors == ["ey"] and p.has_caps and len(p.sha256) == 64
    r = p.rows.set_index("sector")
    assert r.loc["XLK", "available"] == pd.Timestamp("2008-03-06") and r.loc["XLU", "available"] == pd.Timestamp("2008-03-04")
    assert np.isnan(r.loc["XLU", "market_cap"]) and r.loc["XLK", "line"] == 2
    assert p.asof("2008-03-05").rows["sector"].tolist() == ["XLU"]


# ---------------------------------------------------------------- cleaning vs trusted libraries

rows_st = st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False)), min_size=3, max_size=11)


@settings(max_examples=200, deadline=None)
@given(st.lists(rows_st, min_size=1, max_size=6), st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3]))
def test_quantile_winsorize_equals_scipy_mstats(rows, lim):
    from scipy.stats.mstats import winsorize

    width = max(len(r) for r in rows)
    x = pd.DataFrame([[np.nan if v is None else v for v in r] + [np.nan] * (width - len(r)) for r in rows])
    got = winsorize_quantile(x, lim).to_numpy()
    for i in range(len(x)):
        v = x.iloc[i].to_numpy()
        ok = np.isfinite(v)
        if ok.any():
            ref = np.asarray(winsorize(v[ok], limits=(lim, lim)))
            np.testing.assert_array_equal(got[i, ok], ref)
        assert np.isnan(got[i, ~ok]).all()


def test_mad_winsorize_zscore_and_neutralize_match_scipy_and_statsmodels():
    import statsmodels.api as sm
    from scipy.stats import median_abs_deviation, zscore

    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.standard_t(2, size=(40, 9)), columns=SECS)
    x.iloc[5, 2] = np.nan
    cap = pd.DataFrame(np.exp(rng.normal(25, 1, size=(40, 9))), columns=SECS)
    cap.iloc[7, 4] = np.nan
    w = winsorize_cross_section(x, 3.0)
    z = zscore_rows(w)
    res = neutralize_rows(z, np.log(cap), 4)
    for i in range(len(x)):
        v = x.iloc[i].dropna().to_numpy()
        med, mad = np.median(v), median_abs_deviation(v, scale="normal")
        np.testing.assert_allclose(w.iloc[i].dropna(), np.clip(v, med - 3 * mad, med + 3 * mad), rtol=1e-4)
        np.testing.assert_allclose(z.iloc[i].dropna(), zscore(w.iloc[i].dropna().to_numpy(), ddof=0), atol=1e-12)
        both = z.iloc[i].notna() & cap.iloc[i].notna()
        ols = sm.OLS(z.iloc[i][both].to_numpy(), sm.add_constant(np.log(cap.iloc[i][both].to_numpy()))).fit()
        np.testing.assert_allclose(res.iloc[i][both].to_numpy(), ols.resid, atol=1e-12)
        assert res.iloc[i][~both].isna().all()


def test_hand_computed_session_with_counts():
    """One session of 6 sectors: one outlier clipped, one sector without a cap dropped, cap-neutral result."""
    vals = pd.DataFrame([[1.0, 2.0, 3.0, 4.0, 5.0, 100.0], [1.0, 2.0, np.nan, np.nan, np.nan, np.nan]],
                        columns=SECS[:6])
    caps = pd.DataFrame([[1e9, 3e9, 2e9, 8e9, 5e9, np.nan], [1e9, 1e9, np.nan, np.nan, np.nan, np.nan]],
                        columns=SECS[:6])
    out, c = clean_factor(vals, caps, CleaningRule())
    # median 3.5, MAD 1.5 * 1.4826 = 2.2239: the 100 is clipped to 3.5 + 3 * 2.2239 = 10.1717
    assert c["winsorized"] == 1 and c["thin_sessions"] == 1 and c["thin_cells"] == 2
    assert c["no_cap"] == 1 and c["neutralized"] and c["scored"] == 5
    w = np.array([1, 2, 3, 4, 5, 3.5 + 3 * 1.5 * 1.4826])
    z = (w - w.mean()) / w.std()
    lc = np.log([1e9, 3e9, 2e9, 8e9, 5e9])
    b = np.polyfit(lc, z[:5], 1)
    r = z[:5] - np.polyval(b, lc)
    np.testing.assert_allclose(out.iloc[0, :5], (r - r.mean()) / r.std(), atol=1e-10)
    assert out.iloc[1].isna().all() and np.isnan(out.iloc[0, 5])


# ---------------------------------------------------------------- on a market: point in time and the seam

def crafted(market, publish_lag=0, bump_after=None, seed=0):
    """A monthly panel on the demo sessions: 'ey' with caps, 'rev' without; optionally every row dated
    after ``bump_after`` changed and a new factor row added after it."""
    rng = np.random.default_rng(seed)
    out = []
    for d in market.sessions[300::21]:
        pub = market.sessions[min(market.sessions.get_loc(d) + publish_lag, len(market.sessions) - 1)]
        for s in SECS:
            out.append((d.date(), s, "ey", round(rng.normal(), 5), round(float(np.exp(rng.normal(25, 1)))), pub.date()))
            out.append((d.date(), s, "rev", round(rng.normal(), 5), "", pub.date()))
    if bump_after is not None:
        t = pd.Timestamp(bump_after)
        out = [(d, s, f, v * 7 + 1 if pd.Timestamp(p) > t else v, c, p) for d, s, f, v, c, p in out]
        out.append((t.date(), "XLK", "late", 1.0, "", (t + pd.offsets.BDay(3)).date()))
    return parse(out)


def with_panel(market, panel):
    return Market(**{**market.__dict__, "user_factors": panel})


def test_rows_published_after_t_change_nothing_at_t(demo):
    t = demo.sessions[3000]
    base = factor_panel(with_panel(demo, crafted(demo, publish_lag=2)), demo.stress["hy_oas"])
    alt = factor_panel(with_panel(demo, crafted(demo, publish_lag=2, bump_after=t)), demo.stress["hy_oas"])
    for k in ("ey", "rev"):
        pd.testing.assert_frame_equal(base[k].loc[:t], alt[k].loc[:t])
        assert not base[k].loc[t:].equals(alt[k].loc[t:])
    assert "late" in alt and alt["late"].loc[:t].isna().all().all()


def test_publication_lag_and_max_age(demo):
    p = crafted(demo, publish_lag=2)
    panel = factor_panel(with_panel(demo, p), demo.stress["hy_oas"])["ey"]
    d = demo.sessions[300]                            # the first dated cross-section
    assert panel.loc[:demo.sessions[301]].isna().all().all()      # published two sessions later
    assert panel.loc[demo.sessions[302]].notna().sum() == len(SECS)
    # one cross-section only: usable for max_age sessions from publication, then gone
    one = parse([(d.date(), s, "x", i, "", "") for i, s in enumerate(SECS)])
    f = user_factor_panel(one, demo.sessions, SECS, rule=CleaningRule(max_age=5))["x"]
    assert f.iloc[300:306].notna().all().all() and f.iloc[306].isna().all()


def test_scores_at_t_unchanged_and_user_factor_in_the_composite(demo):
    from usecases.factors import current_scores

    t = demo.sessions[3000]
    a = current_scores(with_panel(demo, crafted(demo)), asof=t, with_ic=False)
    b = current_scores(with_panel(demo, crafted(demo, bump_after=t)), asof=t, with_ic=False)
    pd.testing.assert_frame_equal(a, b.drop(columns=[c for c in b.columns if c not in a.columns]))
    plain = current_scores(demo, asof=t, with_ic=False)
    assert {"ey", "rev"} <= set(a.columns) and not {"ey", "rev"} & set(plain.columns)
    assert not np.allclose(a["composite_equal"].reindex(plain.index), plain["composite_equal"])
    counts = a.attrs["user_factors"]["factors"]
    assert counts["ey"]["neutralized"] and not counts["rev"]["neutralized"]


def test_ic_report_tests_user_factors_with_the_built_in_machinery(demo):
    """A planted factor (the realized forward 21-session return) has IC 1; the report's row equals
    rank_ic on the cleaned frame, with the same Newey-West statistics."""
    from engine.factors.ic import ic_stats
    from usecases.factors import factor_ic_report

    fwd = forward_returns(demo.prices[SECS], 21)
    rows = [(d.date(), s, "oracle", float(fwd.at[d, s]), "", "") for d in demo.sessions[300:2000] for s in SECS]
    m = with_panel(demo, parse(rows))
    rep = factor_ic_report(m, demo.stress["hy_oas"], horizons=(21,))
    row = next(r for r in rep["table"] if r["factor"] == "oracle")
    assert row["mean_ic"] > 0.95
    cleaned = factor_panel(m, demo.stress["hy_oas"])["oracle"]
    ref = ic_stats(rank_ic(cleaned, forward_returns(demo.prices, 21)), 21)
    assert row["mean_ic"] == pytest.approx(ref["mean_ic"]) and row["t_stat"] == pytest.approx(ref["t_stat"])
    assert rep["user_factors"]["factors"]["oracle"]["rows"] == len(rows)


def test_optimize_uses_the_same_composite(demo):
    from usecases.factors import current_scores
    from usecases.optimize import optimize_as_of

    m = with_panel(demo, crafted(demo))
    t = demo.sessions[3000]
    r = optimize_as_of(m, t)
    ref = current_scores(m, asof=t)["composite"]
    for k, v in r["scores"].items():
        if v is not None:
            assert v == pytest.approx(ref[k])


# ---------------------------------------------------------------- the data-folder convention and the store

@pytest.fixture(scope="module")
def real_folder(shared_data, tmp_path_factory):
    """../shared/data plus a factors.csv: a monthly, published-two-days-later panel on the real sessions."""
    rng = np.random.default_rng(5)
    rows = [(d.date(), s, "ey", round(rng.normal(), 4), round(float(np.exp(rng.normal(25, 1)))),
             (d + pd.offsets.BDay(2)).date()) for d in pd.bdate_range("2001-01-31", "2019-11-29", freq="BME")
            for s in SECS]
    return data_folder_with(shared_data, tmp_path_factory.mktemp("byof") / "data", {"factors.csv": panel_csv(rows)})


def test_folder_convention_store_round_trip_and_cli(real_folder, tmp_path):
    import json

    from typer.testing import CliRunner

    from addin.cli.main import app
    from usecases.context import import_folders, open_market

    m = open_market(data=real_folder)
    assert m.user_factors is not None and m.user_factors.factors == ["ey"]
    rep = import_folders([real_folder], tmp_path / "s.sqlite")
    assert rep.user_factors == str(real_folder / "factors.csv")
    stored = open_market(store=tmp_path / "s.sqlite")
    pd.testing.assert_frame_equal(stored.user_factors.rows, m.user_factors.rows)
    res = CliRunner().invoke(app, ["factors", "scores", "--data", str(real_folder), "--as-of", "2008-10-10", "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert "ey" in obj["columns"] and obj["user_factors"]["factors"]["ey"]["neutralized"]
    assert obj["user_factors"]["factors"]["ey"]["rows"] == len(m.user_factors.asof("2008-10-10").rows) < len(m.user_factors.rows)
    st = CliRunner().invoke(app, ["data", "status", "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert st.exit_code == 0, st.output
    uf = json.loads(st.stdout)["user_factors"]
    r = m.user_factors.rows
    assert uf["rows"] == len(r) and uf["factors"] == ["ey"] and uf["sectors"] == r["sector"].nunique()
    assert (uf["first"], uf["last"]) == ("2001-01-31", r["date"].max().date().isoformat()) and uf["has_caps"]
    assert uf["sha256"] == m.user_factors.sha256
    text = CliRunner().invoke(app, ["data", "status", "--store", str(tmp_path / "s.sqlite")]).output
    assert f"User factor panel factors.csv: {len(r):,} rows, 2001-01-31 to" in text


def test_a_bad_or_second_panel_is_a_one_line_error(real_folder, tmp_path):
    from typer.testing import CliRunner

    from addin.cli.main import app

    bad = data_folder_with(real_folder, tmp_path / "data",
                           {"factors.csv": panel_csv([("2008-03-04", "XLK", "ey", "NaN", "", "")])})
    res = CliRunner().invoke(app, ["factors", "scores", "--data", str(bad)])
    assert res.exit_code == 2 and "factors.csv, line 2: column 'value': expected a finite number" in res.output
    (bad / "extra").mkdir()
    (bad / "extra" / "factors.csv").write_bytes(panel_csv([("2008-03-04", "XLK", "ey", "1", "", "")]))
    res = CliRunner().invoke(app, ["factors", "scores", "--data", str(bad)])
    assert res.exit_code == 2 and "two factor panels" in res.output


def test_vectorized_reader_equals_the_row_by_row_reference():
    from engine.data import user_factors as uf
    from engine.factors.compute import FACTORS

    rng = np.random.default_rng(2)
    rows = [(f"2008-03-{d:02d}", s, f, repr(float(rng.normal())), "" if i % 3 else f"{rng.uniform(1e9, 9e11):.6g}",
             "" if i % 2 else f"2008-04-{d:02d}") for d in range(3, 29) for i, s in enumerate(SECS) for f in ("a", "b.c")]
    data = panel_csv(rows)
    cols, cells, lines = uf._cells(data, "f.csv")
    fast = uf._fast(data, "f.csv", FACTORS)
    slow = pd.DataFrame(uf._slow(cols, cells, lines, "f.csv", FACTORS), columns=fast.columns)
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    assert len(fast) == len(rows) and fast["market_cap"].isna().sum() == sum(1 for r in rows if not r[4])
    padded = data.replace(b",a,", b", a,", 1)                 # not plain: the csv-module path reads it
    assert uf._fast(padded, "f.csv", FACTORS) is None
    assert parse_factor_panel(padded, "f.csv").rows.equals(parse_factor_panel(data, "f.csv").rows)


def test_the_rotation_backtest_uses_the_user_factors(demo):
    from usecases.backtest import run_backtest

    a = run_backtest(demo, "rotation", start="2010-01-01", end="2011-06-30")
    b = run_backtest(with_panel(demo, crafted(demo)), "rotation", start="2010-01-01", end="2011-06-30")
    assert (a.weights - b.weights).abs().max().max() > 1e-3       # the composite it allocates on changed


def test_the_decision_record_audits_the_panel(demo):
    """The export lists factors.csv (path, SHA-256) among its inputs, the data-rows digest covers the rows
    seen at t (and not those published after t), and the scores sheet carries the user factor."""
    from engine.data.assemble import data_digest
    from usecases.export import build_report

    t = demo.sessions[3000]
    panel = crafted(demo)
    m = with_panel(demo, panel)
    rep = build_report(m, t)
    assert ("user factors", str(__import__("pathlib").Path("f.csv").resolve()), panel.sha256) in rep.inputs
    assert "ey" in rep.scores.columns
    assert data_digest(m.asof(t)) != data_digest(demo.asof(t))
    assert data_digest(m.asof(t)) == data_digest(with_panel(demo, crafted(demo, bump_after=t)).asof(t))
