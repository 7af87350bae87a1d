"""The issue's "done when" on the real data: the 2008-10-10 record calls only XLU, XLP and XLV
defensive, quotes the configured thresholds, names the running selloff and the validation verdict,
records the weights file's hash and the operator's name; a second export to the same path is
refused; a calm date's commentary says no defensive tilt applies."""
from __future__ import annotations

import hashlib
import json
import re

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli.main import app

runner = CliRunner()
WEIGHTS = "ticker,weight\nXLK,0.25\nXLF,0.15\nXLV,0.13\nXLY,0.11\nXLI,0.11\nXLP,0.09\nXLE,0.08\nXLB,0.05\nXLU,0.03\n"


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;])\s+", text.replace("\n", " ")) if s]


@pytest.fixture(scope="module")
def crisis(shared_data, tmp_path_factory):
    d = tmp_path_factory.mktemp("crisis")
    w = d / "w.csv"
    w.write_text(WEIGHTS)
    env = {"ROTATION_SIGNING_PASSPHRASE": "pw", "ROTATION_KEYS_DIR": str(d / "keys"),
           "ROTATION_LEDGER": str(d / "ledger.sqlite")}
    assert runner.invoke(app, ["keys", "init", "--name", "Jane Analyst"], env=env).exit_code == 0
    out = d / "book.xlsx"
    args = ["export", "--data", str(shared_data), "--as-of", "2008-10-10", "--current", str(w), "--out", str(out),
            "--json"]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output[-3000:]
    return {"d": d, "w": w, "out": out, "env": env, "args": args, "res": json.loads(r.stdout)}


@pytest.mark.slow
def test_crisis_record_commentary_from_facts(crisis):
    wb = load_workbook(crisis["out"])
    text = "\n".join(str(c.value) for row in wb["Commentary"].iter_rows() for c in row if c.value)
    for s in _sentences(text):
        if "defensive" in s.lower() and "sectors that held up" not in s:
            for t in ("XLY", "XLRE", "XLE", "XLK", "XLF", "XLI", "XLB", "XLC"):
                assert t not in s or "away from XLK" in s, s
    assert "XLU (Utilities), XLP (Consumer Staples) and XLV (Health Care)" in text
    assert "exit threshold of 2.00" in text and "above 2.50" in text and "minimum stay of 10 sessions" in text
    assert "new technology selloff starts 20 to 60 sessions from now" in text
    assert "already running (since 2008-09-17)" in text
    assert "does NOT beat" in text                                     # the validation verdict, in words
    assert "one-shot" in text and "transition path" in text
    verdict = wb["Early Warning"]["A4"].value
    assert verdict.startswith("Verdict:") and "does NOT beat" in verdict
    assert wb["Dashboard"]["E8"].value.startswith("XLU, XLP, XLV:")


@pytest.mark.slow
def test_crisis_record_inputs_operator_and_refusal(crisis):
    wb = load_workbook(crisis["out"])
    audit = wb["Audit"]
    rows = [(r[0], r[1], r[2]) for r in audit.iter_rows(min_row=32, max_col=3, values_only=True) if r[0]]
    sha = hashlib.sha256(crisis["w"].read_bytes()).hexdigest()
    assert ("weights", str(crisis["w"].resolve()), sha) in rows
    assert all(role == "data" and path.startswith("/") for role, path, _ in rows if role == "data")
    assert audit["B9"].value.startswith("Jane Analyst (login ")
    assert audit["B11"].value.startswith("vendor files in /")
    assert crisis["res"]["verify"]["ok"]
    r = runner.invoke(app, crisis["args"], env=crisis["env"])
    assert r.exit_code == 2 and "already holds a signed record" in r.output
    r = runner.invoke(app, ["ledger", "anchor", "--json"], env=crisis["env"])
    anchor = json.loads(r.stdout)["anchor"]
    r = runner.invoke(app, ["verify", str(crisis["out"]), "--anchor", anchor], env=crisis["env"])
    assert r.exit_code == 0 and "all checks hold" in r.output


@pytest.mark.slow
def test_calm_date_commentary(shared_data):
    from engine.data.folder import load_folder
    from usecases.export import build_report
    from workbooks import commentary as com

    report = build_report(load_folder(shared_data), "2017-06-30")
    assert report.reading["regime"] == "calm"
    text = com.text(report)
    assert "applies no defensive tilt" in text and "only in the stress and crisis regimes" in text
    assert "rose above 0.50 and the regime turned elevated" in text
    assert "starts in the stress regime (index above 1.50)" in text
    assert "already running" not in text
