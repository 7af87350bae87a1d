"""Export a decision as a signed workbook: render, sign, record in the ledger, then put in place.

Order (``export_signed``): render the report into a temporary .xlsx in the target folder (the
Audit sheet sealed with the content digest) -> sign it (embedded Office signature + detached .p7s)
-> append an ``export`` entry to the ledger with the SHA-256 of the final signed bytes -> rename the
.p7s and then the workbook into place. Any failure before the renames leaves nothing at the target
(temporary files are removed); a workbook and its .p7s appear complete or not at all.
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ArgumentError
from workbooks import atomic
from workbooks.digest import read_audit_digest
from workbooks.ledger import Ledger, export_payload
from workbooks.report import DecisionReport
from workbooks.sign import p7s_path_for, sign_workbook
from workbooks.writer import render, write_workbook

log = logging.getLogger(__name__)

__all__ = ["ExportResult", "export_signed", "write_workbook"]


@dataclass(frozen=True)
class ExportResult:
    """A signed export: workbook and .p7s paths, SHA-256 of the signed bytes, the content digest
    stored on its Audit sheet, the ledger entry's sequence number and the verify result (or None)."""

    path: Path
    p7s: Path
    sha256: str
    content_digest: str
    ledger_seq: int
    verify: dict | None


def _check_target(out_path: str | os.PathLike) -> Path:
    out = Path(out_path)
    if out.suffix.lower() != ".xlsx":
        raise ArgumentError("out_path", f"the workbook must be an .xlsx file, got {out.name!r}")
    if not out.parent.is_dir():
        raise ArgumentError("out_path", f"folder {str(out.parent)!r} does not exist")
    return out


def export_signed(report: DecisionReport, out_path: str | os.PathLike, signer: Any,
                  ledger: Ledger | str | os.PathLike | None = None, template: str | os.PathLike | None = None,
                  verify: bool = True) -> ExportResult:
    """Write, sign and record the workbook for ``report`` at ``out_path`` (+ ``out_path.p7s``).

    ``signer`` comes from :func:`workbooks.keys.load_signer`; ``ledger`` is a Ledger, a path, or None
    for the default ledger. ``template`` is an .xlsx template (default: the packaged one).
    With ``verify`` the result carries :func:`workbooks.verify.verify_workbook` of the final file.
    Raises ArgumentError for a bad target or template; signing and ledger errors propagate
    (RotationError subclasses) and leave no file at ``out_path``.
    """
    out = _check_target(out_path)
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    wb = render(report, template)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".xlsx", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    tmp_p7s = p7s_path_for(tmp)
    final_p7s = p7s_path_for(out)
    moved_p7s = False
    try:
        wb.save(tmp)
        digest = read_audit_digest(wb) or ""
        info = sign_workbook(tmp, signer)
        payload = export_payload(
            info, file=out.name, run_id=report.run_id, as_of=report.as_of.isoformat(),
            content_digest=digest, inputs=dict(report.inputs), data_rows_sha256=report.data_rows_sha256,
            target_weights=report.target_weights(), data_label=report.data_label)
        entry = led.append("export", report.operator, payload)
        atomic.commit(tmp_p7s, final_p7s)
        moved_p7s = True
        atomic.commit(tmp, out)
    except BaseException:
        for p in (tmp, tmp_p7s):
            p.unlink(missing_ok=True)
        if moved_p7s:
            final_p7s.unlink(missing_ok=True)
        raise
    log.info("exported %s (sha256 %s, ledger #%d)", out, info.sha256, entry.seq)
    result = None
    if verify:
        from workbooks.verify import verify_workbook
        result = verify_workbook(out, ledger=led)
    return ExportResult(path=out, p7s=final_p7s, sha256=info.sha256, content_digest=digest,
                        ledger_seq=entry.seq, verify=result)
