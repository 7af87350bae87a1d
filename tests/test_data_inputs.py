"""Inputs that cannot lie (issue 8): every crafted bad file is refused with file and line, folders are
read strictly, new vendor formats are read in their real layouts, and nothing half-imports."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.folder import ImportFailed, read_files
from engine.data.formats import parse_csv
from engine.data.store import Store
from engine.errors import DataError
from usecases.context import import_folders, open_market

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vendor-samples"
YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(
    f"2020-01-{d:02d},10,11,9,10.{d},9.{d},1000" for d in (2, 3, 6, 7, 8)) + "\n"
FRED = "observation_date,DGS10\n2020-01-02,1.8\n2020-01-03,{v}\n2020-01-06,1.9\n"


def _errors(folder) -> list[DataError]:
    with pytest.raises(ImportFailed) as e:
        read_files([folder])
    return e.value.errors


@pytest.mark.parametrize("value", ["inf", "1e400", "-inf", "Infinity"])
def test_non_finite_values_are_refused_with_file_line_and_value(tmp_path, value):
    (tmp_path / "DGS10.csv").write_text(FRED.format(v=value))
    [err] = _errors(tmp_path)
    assert err.file.endswith("DGS10.csv") and err.line == 3 and "non-finite" in str(err) and value in str(err)


def test_fred_missing_markers_stay_missing(tmp_path):
    (tmp_path / "DGS10.csv").write_text(FRED.format(v="."))
    [s] = read_files([tmp_path])
    assert np.isnan(s.fields["value"][1]) and s.fields["value"][2] == 1.9


def test_one_series_in_two_subfolders_is_refused_naming_both(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "XLK.csv").write_text(YAHOO)
    [err] = _errors(tmp_path)
    assert "provided by two files" in str(err) and "a/XLK.csv" in str(err) and "b/XLK.csv" in str(err)


def test_copy_named_file_is_an_unknown_series_unless_skipped(tmp_path):
    (tmp_path / "XLK.csv").write_text(YAHOO)
    (tmp_path / "XLK (1).csv").write_text(YAHOO)
    [err] = _errors(tmp_path)
    assert err.file.endswith("XLK (1).csv") and "not a known series" in str(err) and "--skip-unknown" in str(err)
    skipped: list[str] = []
    series = read_files([tmp_path], skip_unknown=True, skipped=skipped)
    assert [s.name for s in series] == ["XLK"] and len(skipped) == 1 and "XLK (1).csv" in skipped[0]


def test_broken_symlink_is_an_error_naming_it(tmp_path):
    (tmp_path / "XLK.csv").write_text(YAHOO)
    os.symlink(tmp_path / "gone.csv", tmp_path / "XLV.csv")
    [err] = _errors(tmp_path)
    assert err.file.endswith("XLV.csv") and "broken symbolic link" in str(err)


def test_unreadable_subfolder_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "XLK.csv").write_text(YAHOO)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_walk = os.walk

    def walk(top, onerror=None, followlinks=False):      # root can read a chmod-000 folder: simulate it
        for root, dirs, files in real_walk(top, followlinks=followlinks):
            if Path(root) == locked:
                onerror(PermissionError(13, "Permission denied", str(locked)))
                dirs[:] = []
                continue
            yield root, dirs, files
    monkeypatch.setattr("engine.data.folder.os.walk", walk)
    [err] = _errors(tmp_path)
    assert err.file == str(locked) and "cannot read folder" in str(err)


def test_date_error_is_reported_at_its_own_line(tmp_path):
    rows = [f"{d:%Y-%m-%d},{100 + i * 0.01:.2f}" for i, d in enumerate(pd.bdate_range("2005-01-03", periods=2600))]
    rows[2499] = "03/04/2015,101.0"                      # file line 2501 (header is line 1)
    (tmp_path / "MOVE.csv").write_text("Date,Value\n" + "\n".join(rows) + "\n")
    [err] = _errors(tmp_path)
    assert err.line == 2501 and "'03/04/2015'" in str(err) and "2015-04-03 or 2015-03-04" in str(err)


def test_mapping_date_format_reads_a_vendor_layout(tmp_path):
    (tmp_path / "MOVE.csv").write_text("Date,Value\n10.06.2008,120.5\n11.06.2008,121.0\n")
    (tmp_path / "rotation-mapping.toml").write_text('date_format = "%d.%m.%Y"\n[lags]\nmove = 1\n')
    [s] = read_files([tmp_path])
    assert list(s.dates) == [pd.Timestamp("2008-06-10"), pd.Timestamp("2008-06-11")]


def test_field_over_the_csv_limit_is_a_clean_error(tmp_path):
    (tmp_path / "DGS10.csv").write_text('observation_date,DGS10\n2020-01-02,"' + "9" * 200_000 + '"\n')
    [err] = _errors(tmp_path)
    assert err.file.endswith("DGS10.csv") and err.line is not None and len(str(err)) < 400


def test_binary_file_is_a_clean_error(tmp_path):
    (tmp_path / "XLK.csv").write_bytes(bytes(range(256)) * 4)
    [err] = _errors(tmp_path)
    assert err.file.endswith("XLK.csv") and "UTF-8" in str(err)


def test_mixed_folder_with_one_bad_file_changes_nothing_in_the_store(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "XLK.csv").write_text(YAHOO)
    store = tmp_path / "s.sqlite"
    import_folders([good], store)
    before = (Store(store).status(), Store(store).load().prices.copy())
    (good / "XLV.csv").write_text(YAHOO.replace("10.3,9.3", "10.3,9.4"))
    (good / "DGS10.csv").write_text(FRED.format(v="1e400"))
    with pytest.raises(ImportFailed):
        import_folders([good], store)
    after = (Store(store).status(), Store(store).load().prices)
    assert before[0] == after[0]
    pd.testing.assert_frame_equal(before[1], after[1])


# --- new vendor formats, in their real layouts -------------------------------------------------------

def test_alpha_vantage_real_sample_newest_first_uses_adjusted_close(shared_data):
    data = (SAMPLES / "alphavantage" / "XLK.csv").read_bytes()
    [s] = parse_csv(data, "alphavantage/XLK.csv")
    assert s.format == "alphavantage" and s.name == "XLK"
    assert s.dates.is_monotonic_increasing and s.dates[-1] == pd.Timestamp("2019-12-31")
    assert s.fields["adj_close"][-1] == pytest.approx(90.744280422) and s.fields["close"][-1] == 91.67
    assert s.lines[-1] == 2                              # the newest row is the file's line 2


def test_stooq_csv_and_bulk_txt(tmp_path):
    (tmp_path / "xlk.us.csv").write_text("Date,Open,High,Low,Close,Volume\n2019-12-30,91.9,91.9,90.7,91.38,8245519\n"
                                         "2019-12-31,91.07,91.77,90.95,91.67,5800856\n")
    (tmp_path / "xlv.us.txt").write_text("<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
                                         "XLV.US,D,20191230,000000,101.1,101.5,100.7,101.2,5000000,0\n"
                                         "XLV.US,D,20191231,000000,101.3,101.9,101.0,101.87,6000000,0\n")
    (tmp_path / "notes.txt").write_text("my notes, not data\n")
    got = {s.name: s for s in read_files([tmp_path])}
    assert set(got) == {"XLK", "XLV"} and got["XLK"].format == got["XLV"].format == "stooq"
    assert got["XLV"].fields["close"][-1] == 101.87 and got["XLV"].dates[0] == pd.Timestamp("2019-12-30")
    m = open_market(data=tmp_path)
    assert m.prices.loc["2019-12-31", "XLK"] == 91.67       # price-only: the close is the price
    from engine.data.formats import adjustment
    assert adjustment("stooq") == "price only (not dividend-adjusted)"


def test_investing_com_export(tmp_path):
    (tmp_path / "XLK Historical Data.csv").write_text(
        '"Date","Price","Open","High","Low","Vol.","Change %"\n'
        '"12/31/2019","1,091.67","91.07","91.77","90.95","5.80M","0.32%"\n'
        '"12/30/2019","1,091.38","91.89","91.90","90.68","8.25M","-0.58%"\n'
        '"12/27/2019","1,091.91","92.29","92.29","91.68","-","0.00%"\n')
    [s] = read_files([tmp_path], today=pd.Timestamp("2020-01-01"))
    assert s.name == "XLK" and s.format == "investing" and s.dates.is_monotonic_increasing
    assert s.fields["close"].tolist() == [1091.91, 1091.38, 1091.67]
    assert s.fields["volume"][1:].tolist() == [8.25e6, 5.80e6] and np.isnan(s.fields["volume"][0])


FRENCH_PUBLISHED = """This file was created by CMPT_IND_RETS using the 201912 CRSP database.
It contains value- and equal-weighted returns for 10 industry portfolios.

  Average Value Weighted Returns -- Daily
,NoDur,Durbl,Manuf,Enrgy,HiTec,Telcm,Shops,Hlth ,Utils,Other
20191230,  -0.31,  -1.10,  -0.42,  -0.14,  -0.77,  -0.29,  -0.61,  -0.38,   0.12,  -0.49
20191231,   0.40,   0.28,   0.31,   0.78,   0.21, -99.99,   0.15,   0.52,   0.44,   0.35

  Average Equal Weighted Returns -- Daily
,NoDur,Durbl,Manuf,Enrgy,HiTec,Telcm,Shops,Hlth ,Utils,Other
20191230,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00
20191231,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00,   9.00
"""


def test_ken_french_published_layout_reads_the_value_weighted_section(tmp_path):
    (tmp_path / "10_Industry_Portfolios_Daily.csv").write_text(FRENCH_PUBLISHED)
    got = {s.name: s for s in read_files([tmp_path])}
    assert len(got) == 10 and got["ff10_hitec"].format == "french"
    assert got["ff10_hitec"].fields["return"].tolist() == pytest.approx([-0.0077, 0.0021])
    assert np.isnan(got["ff10_telcm"].fields["return"][1])          # -99.99 is missing
    assert got["ff10_hlth"].lines.tolist() == [6, 7]


def test_ken_french_real_sample_and_folder_import(tmp_path, shared_data):
    shutil.copy(SAMPLES / "french" / "10_Industry_Portfolios_Daily.csv", tmp_path)
    shutil.copy(shared_data / "prices" / "yahoo" / "SPY.csv", tmp_path)
    m = open_market(data=tmp_path)
    assert m.returns.shape[1] == 10 and m.returns.index[0] == pd.Timestamp("1926-07-01")
    assert m.returns.loc["1926-07-01", "ff10_hlth"] == pytest.approx(0.0097)
    assert m.sessions[0] == pd.Timestamp("1993-01-29")              # returns never define sessions


def test_data_import_accepts_folders_of_each_new_vendor(tmp_path, shared_data):
    av = tmp_path / "av"
    av.mkdir()
    shutil.copy(SAMPLES / "alphavantage" / "XLK.csv", av)
    fr = tmp_path / "fr"
    fr.mkdir()
    (fr / "10_Industry_Portfolios_Daily.csv").write_text(FRENCH_PUBLISHED)
    rep = import_folders([av, fr], tmp_path / "s.sqlite")
    assert rep.series["XLK"] == "new" and rep.series["ff10_hitec"] == "new"
    rows = {r["name"]: r for r in Store(tmp_path / "s.sqlite").status()}
    assert rows["XLK"]["format"] == "alphavantage" and rows["ff10_hitec"]["last"] == "2019-12-31"


def test_data_option_leaves_no_temporary_store_behind(tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "XLK.csv").write_text(YAHOO)
    m = open_market(data=folder)
    assert m.prices["XLK"].iloc[-1] == 9.8 and list(scratch.iterdir()) == []
    kept = tmp_path / "kept.sqlite"
    open_market(data=folder, store=kept)                 # --store keeps one
    assert kept.exists()


def test_demo_with_data_is_refused(tmp_path):
    from engine.errors import ArgumentError

    with pytest.raises(ArgumentError, match="--demo.*cannot be combined"):
        open_market(data=tmp_path, demo=True)


def test_price_only_vendor_bad_print_is_caught_by_the_jump_check(tmp_path):
    (tmp_path / "xlk.us.csv").write_text("Date,Open,High,Low,Close,Volume\n2019-12-27,91,92,91,91.9,1\n"
                                         "2019-12-30,91,92,91,19.1,1\n2019-12-31,91,92,91,91.7,1\n")
    [err] = _errors(tmp_path)
    assert err.line == 3 and "probable bad print" in str(err)


@pytest.mark.parametrize("bad", ["2020-01", "1600-01-03", "0000-01-01", "2020-01-32", "2020-13-03", "20200103"])
def test_fast_date_path_is_as_strict_as_the_careful_one(tmp_path, bad):
    (tmp_path / "DGS10.csv").write_text(f"observation_date,DGS10\n2020-01-02,1.8\n{bad},1.9\n2020-01-06,1.7\n")
    [err] = _errors(tmp_path)
    assert err.line == 3 and any(w in str(err) for w in ("unparseable date", "sorted", "outside the dates"))


def test_mapping_lags_override_the_table_and_shift_availability(tmp_path):
    from engine.data.folder import load_folder

    (tmp_path / "XLK.csv").write_text(YAHOO)
    (tmp_path / "MOVE.csv").write_text("Date,Value\n2020-01-02,60\n2020-01-03,61\n2020-01-06,62\n"
                                       "2020-01-07,63\n2020-01-08,64\n")
    assert load_folder(tmp_path).stress.loc["2020-01-03", "move"] == 61          # MOVE: lag 0 by default
    (tmp_path / "rotation-mapping.toml").write_text("[lags]\nmove = 2\n")
    m = load_folder(tmp_path)
    assert m.lags["move"] == 2 and m.stress.loc["2020-01-06", "move"] == 60 and pd.isna(m.stress["move"].iloc[1])
    assert m.stale_inputs("2020-01-03") == {}                 # not started yet at 2020-01-03: not "stale"
    rep = import_folders([tmp_path], tmp_path / "s.sqlite")   # the override is kept with the store
    assert rep.series["move"] == "new" and Store(tmp_path / "s.sqlite").load().lags["move"] == 2
