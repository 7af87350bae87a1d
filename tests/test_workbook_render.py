"""LibreOffice opens the workbook and renders every sheet, charts included, to a non-blank PDF."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import uuid
import zipfile

import numpy as np
import pandas as pd
import pytest

from workbooks.report import example_report
from workbooks.writer import write_workbook

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]   # LibreOffice renders: minutes on a loaded machine


def _ink(png) -> float:
    """Share of non-white pixels of a PNG (pure-python read through pdftoppm's PPM instead)."""
    data = png.read_bytes()
    # P6 PPM: header "P6\nW H\n255\n" then RGB bytes
    parts = data.split(b"\n", 3)
    w, h = map(int, parts[1].split())
    px = parts[3]
    dark = sum(1 for i in range(0, len(px), 3 * 7) if px[i] < 200 or px[i + 1] < 200 or px[i + 2] < 200)
    return dark / (w * h / 7)


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice (soffice) or pdftoppm not installed")
def test_libreoffice_renders_every_sheet_with_charts(tmp_path):
    r = example_report(sessions=5000)            # full 20 years of daily signals, charted as a weekly sample
    trades = pd.DataFrame({"side": ["sell", "buy"] * 5 + ["buy"], "trade": np.linspace(-0.05, 0.05, 11),
                           "shares": np.arange(100, 1200, 100), "notional": np.linspace(-5e6, 5e6, 11),
                           "cost_bps": np.linspace(1, 3, 11), "participation": np.linspace(0.01, 0.05, 11)},
                          index=pd.Index(r.weights.index, name="ticker"))
    r = dataclasses.replace(r, trades=trades)    # a Trades sheet, as the trades stage adds
    book = tmp_path / "book.xlsx"
    write_workbook(r, book)
    with zipfile.ZipFile(book) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 2
    out = tmp_path / "pdf"
    profile = f"file:///tmp/lo-profile-{uuid.uuid4().hex}"
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile}",
                    "--convert-to", "pdf", "--outdir", str(out), str(book)],
                   check=True, capture_output=True, timeout=180)
    shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    pdf = out / "book.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    # the Dashboard page (with both charts) and the last page (Audit)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(out / "first")], check=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout if shutil.which("pdfinfo") else ""
    pages = int(next((ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")), "1"))
    assert 5 <= pages <= 8  # the decision record, daily history outside the print area
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for title in ("Decision Dashboard", "Early-Warning Validation", "Transition Path", "Trades", "Commentary",
                  "Audit Record", "Approvals", "Disclaimer"):
        assert title in text, title
    assert "Bond Stress Signals" not in text and "Configuration of this run" not in text
    subprocess.run(["pdftoppm", "-r", "50", "-f", str(pages), "-l", str(pages), str(pdf), str(out / "last")],
                   check=True)
    first = next(out.glob("first*.ppm"))
    last = next(out.glob("last*.ppm"))
    # the dashboard carries two charts with coloured regime bands: far more ink than a text page
    assert _ink(first) > 0.08
    assert 0.003 < _ink(last) < _ink(first)
    # also produce PNGs for a person to look at (pdftoppm -png)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(out / "dash")], check=True)
    assert next(out.glob("dash*.png")).stat().st_size > 5_000
