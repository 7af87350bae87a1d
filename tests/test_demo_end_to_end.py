"""The main job end to end: `rotation demo` ends with a signed workbook that `rotation verify` accepts,
LibreOffice reports valid and renders with its charts; any single-cell edit is detected; the ledger
verifies and fails after a row is edited."""
from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli.main import app
from lo_helpers import LibreOffice, cell_edits, rewrite_part, soffice_available
from workbooks.sign_cms import verify_cms
from workbooks.sign_ooxml import verify_package

pytestmark = pytest.mark.slow          # the whole demo, LibreOffice and every single-cell edit: minutes

runner = CliRunner()
SMALL_SHEETS = ("Dashboard", "Weights", "Early Warning", "Commentary", "Audit")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`rotation demo` as on a fresh headless machine: no keyring backend, no passphrase variable."""
    import keyring
    from keyring.backends import fail

    base = tmp_path_factory.mktemp("demo")
    env = {"ROTATION_LEDGER": str(base / "ledger.sqlite"), "ROTATION_KEYS_DIR": str(base / "keys"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "ROTATION_SIGNING_PASSPHRASE": None}
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())       # keyring keeps the first backend it loaded: set it explicitly
    try:
        r = runner.invoke(app, ["demo", "--out", str(base / "out"), "--json"], env=env)
    finally:
        keyring.set_keyring(before)
    assert r.exit_code == 0, r.output[-3000:]
    return json.loads(r.stdout), {k: v for k, v in env.items() if v is not None}, base


def test_demo_runs_every_stage_on_labelled_synthetic_data(demo_run):
    out, _, _ = demo_run
    assert out["label"] == "DEMO DATA (synthetic)"
    for stage in ("data", "signals", "early_warning", "sectors", "factors", "optimize", "backtest", "scorecard", "export"):
        assert stage in out, stage
    assert out["signals"]["regime"] in ("calm", "elevated", "stress", "crisis")
    assert abs(sum(out["optimize"]["weights"].values()) - 1) < 1e-6
    exp = out["export"]
    assert exp["verify"]["ok"] and Path(exp["path"]).is_file() and Path(exp["p7s"]).is_file()
    assert "ephemeral DEMO trial certificate" in exp["note"]          # no keyring here, and it says so
    card = out["scorecard"]
    assert [m["name"] for m in card["metrics"]][:5] == ["early_warning", "alpha_12m", "tracking_error_transitions",
                                                        "accuracy", "information_ratio"]
    from openpyxl import load_workbook
    sheet = load_workbook(exp["path"])["Scorecard"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "accuracy" in cells and next(m for m in card["metrics"] if m["name"] == "accuracy")["verdict"] in cells


def test_rotation_verify_accepts_the_demo_workbook(demo_run):
    out, env, _ = demo_run
    r = runner.invoke(app, ["verify", out["export"]["path"], "--json"], env=env)
    v = json.loads(r.stdout)
    assert all(v[k] is True for k in ("embedded_signature", "cms_signature", "content_digest", "ledger"))
    assert v["signer"] and v["signed_at"]
    # the ephemeral demo certificate is in no trust store: a later verify says so and fails (exit 1)
    assert r.exit_code == 1 and v["trusted_signer"] is False
    assert any("neither in the trust store" in p or "trust store" in p for p in v["problems"])
    from cryptography.hazmat.primitives import serialization
    from workbooks.sign_ooxml import verify_package as vp
    cert = vp(Path(out["export"]["path"]).read_bytes()).certificate
    pem = Path(env["ROTATION_KEYS_DIR"]).parent / "demo-cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert runner.invoke(app, ["keys", "trust", "add", str(pem)], env=env).exit_code == 0
    r2 = runner.invoke(app, ["verify", out["export"]["path"], "--json"], env=env)
    assert r2.exit_code == 0, r2.output        # once someone decides to trust it, it verifies


def _sheet_names(book: Path) -> dict[str, str]:
    """worksheet part -> sheet title."""
    from lxml import etree

    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(book) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target").lstrip("/") for r in rels}
    target = {k: (v if v.startswith("xl/") else "xl/" + v) for k, v in target.items()}
    return {target[sh.get(f"{{{rel_ns}}}id")]: sh.get("name") for sh in wb.iter("{*}sheet")}


def test_every_single_cell_edit_is_detected(demo_run, tmp_path):
    out, env, _ = demo_run
    book = Path(out["export"]["path"])
    p7s = Path(out["export"]["p7s"]).read_bytes()
    names = _sheet_names(book)
    rng = random.Random(7)
    first_seen: set[str] = set()

    def select(part, coord):      # every cell of the small sheets; ~2% of the large ones (and each one's first)
        first = part not in first_seen
        first_seen.add(part)
        return names.get(part) in SMALL_SHEETS or first or rng.random() < 0.02

    chosen = list(cell_edits(book, select))
    small = [e for e in chosen if names.get(e[0]) in SMALL_SHEETS]
    assert len(small) > 300 and {names[p] for p, _, _ in chosen} == set(names.values())
    tampered = tmp_path / "t.xlsx"
    for part, coord, edited in chosen:
        rewrite_part(book, tampered, part, edited)
        data = tampered.read_bytes()
        assert not verify_package(data).valid, (names[part], coord)
        assert not verify_cms(p7s, data).valid, (names[part], coord)
    # and through the command itself, one edit on every sheet
    per_sheet = {}
    for part, coord, edited in chosen:
        per_sheet.setdefault(part, (coord, edited))
    for part, (coord, edited) in per_sheet.items():
        target = tmp_path / "one.xlsx"
        rewrite_part(book, target, part, edited)
        (tmp_path / "one.xlsx.p7s").write_bytes(p7s)
        r = runner.invoke(app, ["verify", str(target), "--json"], env=env)
        assert r.exit_code == 1, (names[part], coord)
        v = json.loads(r.stdout)
        assert not v["embedded_signature"] and not v["cms_signature"] and not v["ledger"]


def test_ledger_verify_passes_then_fails_after_a_row_is_edited(demo_run, tmp_path):
    _, env, base = demo_run
    r = runner.invoke(app, ["ledger", "verify", "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"]
    copy = tmp_path / "ledger.sqlite"
    with sqlite3.connect(env["ROTATION_LEDGER"]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as con:
        cols = [c[1] for c in con.execute("PRAGMA table_info(entries)")]
        assert "payload" in cols
        con.execute("UPDATE entries SET payload = replace(payload, 'DEMO', 'REAL') WHERE seq = 1")
    r = runner.invoke(app, ["ledger", "verify", "--ledger", str(copy), "--json"], env=env)
    assert r.exit_code == 1 and not json.loads(r.stdout)["ok"]


@pytest.mark.libreoffice
def test_libreoffice_reports_the_signature_valid_and_renders_the_charts(demo_run, tmp_path):
    if not soffice_available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    out, _, _ = demo_run
    book = Path(out["export"]["path"])
    part, coord, edited = next(e for e in cell_edits(book) if "sheet1.xml" in e[0])
    tampered = tmp_path / "tampered.xlsx"
    rewrite_part(book, tampered, part, edited)
    lo = LibreOffice()
    try:
        ok, bad = lo.verify([book, tampered])
    finally:
        lo.close()
    assert len(ok) == 1 and ok[0]["valid"], ok
    assert len(bad) == 1 and not bad[0]["valid"], bad
    with zipfile.ZipFile(book) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) >= 2
    pdf_dir = tmp_path / "pdf"
    r = subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                        "--convert-to", "pdf", "--outdir", str(pdf_dir), str(book)],
                       capture_output=True, text=True, timeout=180)
    pdf = pdf_dir / (book.stem + ".pdf")
    assert r.returncode == 0 and pdf.is_file() and pdf.stat().st_size > 20_000
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 5_000           # a rendered dashboard, not a blank page
