"""Each validation error on a crafted bad file: the message names file, line and problem,
and a failed import leaves the store exactly as it was."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.data.folder import ImportFailed, read_files
from engine.data.store import Store
from usecases.context import import_folders

GOOD_YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(
    f"2020-01-{d:02d},10,11,9,10.{d},9.{d},1000" for d in (2, 3, 6, 7, 8)) + "\n"

BAD = {  # file name: (content, expected line, expected words)
    "baddate.csv": ("observation_date,DGS10\n2020-01-02,1.8\n2020-13-45,1.9\n", 3, "unparseable date '2020-13-45'"),
    "dup.csv": ("observation_date,DGS10\n2020-01-02,1.8\n2020-01-03,1.9\n2020-01-03,1.9\n", 4, "duplicate date 2020-01-03"),
    "unsorted.csv": ("observation_date,DGS10\n2020-01-03,1.8\n2020-01-02,1.9\n", 3, "dates not sorted"),
    "text.csv": ("observation_date,DGS10\n2020-01-02,1.8\n2020-01-03,abc\n", 3, "non-numeric value 'abc'"),
    "XLZ.csv": (GOOD_YAHOO.replace("10.6,9.6", "10.6,-9.6"), 4, "non-positive price -9.6"),
    "empty.csv": ("", None, "empty file"),
    "headeronly.csv": ("Date,Close\n", None, "a header but no data rows"),
    "future.csv": ("observation_date,DGS10\n2020-01-02,1.8\n2999-01-04,1.9\n", 3, "in the future"),
    "JMP.csv": ("Date,Close\n2020-01-02,10\n2020-01-03,10.1\n2020-01-06,25.0\n2020-01-07,10.2\n", 4,
                "one-day price jump of 148%"),
    "odd.csv": ("when,what\n2020-01-02,1\n", 1, "unknown format"),
    "ragged.csv": ("observation_date,DGS10\n2020-01-02,1.8,7\n", 2, "expected 2 columns, found 3"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_refused_with_its_message(tmp_path, name):
    content, line, words = BAD[name]
    (tmp_path / name).write_text(content)
    with pytest.raises(ImportFailed) as e:
        read_files([tmp_path])
    err = e.value.errors[0]
    assert err.file.endswith(name)
    assert err.line == line
    assert words in str(err)
    assert "nothing was imported" in str(e.value)


def test_failed_import_leaves_store_unchanged(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "XLE.csv").write_text(GOOD_YAHOO)
    store = tmp_path / "store.sqlite"
    import_folders([good], store)
    before = Store(store).status()
    before_bytes = Store(store).load().prices.copy()
    for name, (content, _, _) in BAD.items():
        bad = tmp_path / f"bad-{name}"
        shutil.copytree(good, bad)
        (bad / "XLE.csv").write_text(GOOD_YAHOO.replace("10.8,9.8", "10.8,9.9"))  # a valid change...
        (bad / name).write_text(content)                                         # ...next to a bad file
        with pytest.raises(ImportFailed):
            import_folders([bad], store)
        assert Store(store).status() == before, name
        assert Store(store).load().prices.equals(before_bytes), name


def test_every_failure_is_listed(tmp_path):
    for name in ("dup.csv", "text.csv"):
        (tmp_path / name).write_text(BAD[name][0])
    with pytest.raises(ImportFailed) as e:
        read_files([tmp_path])
    assert len(e.value.errors) == 2
    assert "dup.csv, line 4" in str(e.value) and "text.csv, line 3" in str(e.value)


def test_cli_refuses_bad_file_with_exit_code_2(tmp_path):
    from typer.testing import CliRunner

    from addin.cli.main import app

    (tmp_path / "dup.csv").write_text(BAD["dup.csv"][0])
    r = CliRunner().invoke(app, ["data", "import", str(tmp_path), "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert r.exit_code == 2
    import json

    payload = json.loads(r.stdout)
    assert "dup.csv, line 4: duplicate date 2020-01-03" in payload["error"]
    assert not Path(tmp_path / "s.sqlite").exists() or Store(tmp_path / "s.sqlite").status() == []
