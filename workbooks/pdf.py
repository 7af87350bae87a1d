"""Render a workbook's print areas to PDF with LibreOffice (for client reporting).

LibreOffice (``soffice``) runs headless with a throw-away profile in a temporary folder; only the
print areas set by :mod:`workbooks.printing` are rendered. A machine without LibreOffice gets a clear
one-sentence error instead of a PDF.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import DataError, RotationError

TIMEOUT_S = 180


class PdfUnavailable(RotationError):
    """LibreOffice is not installed, so no PDF can be rendered."""


def soffice() -> str | None:
    """The LibreOffice executable (``$ROTATION_SOFFICE``, else soffice/libreoffice on PATH) or None."""
    env = os.environ.get("ROTATION_SOFFICE")
    if env:
        return env if Path(env).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def render_pdf(xlsx: bytes, stem: str = "book") -> bytes:
    """PDF bytes of the print areas of the .xlsx ``xlsx``; PdfUnavailable without LibreOffice."""
    exe = soffice()
    if exe is None:
        raise PdfUnavailable("--pdf needs LibreOffice (soffice), which is not installed on this machine; "
                             "install it or export without --pdf")
    with tempfile.TemporaryDirectory(prefix="rotation-pdf-") as tmp:
        src = Path(tmp) / f"{stem}.xlsx"
        src.write_bytes(xlsx)
        cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
               "--convert-to", "pdf", "--outdir", tmp, str(src)]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DataError(f"LibreOffice could not render the PDF ({exc})") from exc
        pdf = Path(tmp) / f"{stem}.pdf"
        if run.returncode != 0 or not pdf.is_file():
            raise DataError(f"LibreOffice could not render the PDF (exit {run.returncode}: "
                            f"{run.stderr.decode('utf-8', 'replace').strip()[:200]})")
        return pdf.read_bytes()
