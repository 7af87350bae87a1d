"""`rotation template` and `rotation export`: a restyled template is filled, signed and verifies; the
workbook for a past date holds nothing dated after it."""
from __future__ import annotations

import json

from openpyxl import load_workbook
from openpyxl.styles import Font
from typer.testing import CliRunner

from addin.cli.main import app

runner = CliRunner()


def test_export_past_date_with_restyled_template(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "a passphrase for tests only")
    tpl = tmp_path / "house.xlsx"
    r = runner.invoke(app, ["template", str(tpl), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["template"] == str(tpl)
    wb = load_workbook(tpl)
    wb["Dashboard"]["N40"] = "House style note"
    wb["Dashboard"]["N40"].font = Font(name="Georgia", bold=True)
    wb.save(tpl)

    out = tmp_path / "book.xlsx"
    r = runner.invoke(app, ["export", "--demo", "--as-of", "2008-10-10", "--template", str(tpl),
                            "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output[-2000:]
    res = json.loads(r.stdout)
    assert res["as_of"] == "2008-10-10" and res["verify"]["ok"] and res["note"] == ""   # a stored key, not ephemeral
    book = load_workbook(out)
    assert book["Dashboard"]["N40"].value == "House style note" and book["Dashboard"]["N40"].font.name == "Georgia"
    dates = [row[0] for row in book["Signals"].iter_rows(min_row=7, max_col=1, values_only=True) if row[0] is not None]
    assert max(dates).date().isoformat() == "2008-10-10"      # nothing after the decision date
    r = runner.invoke(app, ["verify", str(out), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"]


def test_export_refuses_a_bad_target(tmp_path):
    r = runner.invoke(app, ["export", "--demo", "--out", str(tmp_path / "book.txt"), "--json"])
    assert r.exit_code == 2 and "out_path" in json.loads(r.stdout)["error"]
    assert not (tmp_path / "book.txt").exists()
