"""Export a decision as a signed workbook without ever destroying a record.

Order (``export_signed``), each step named in :data:`STEPS` (tests inject a failure at each):

1. ``render``: the report into sealed .xlsx bytes; the Audit sheet records the ledger head before
   this export (an anchor: a ledger later cut or rewritten below it fails ``verify``);
2. ``sign``: embedded Office signature, then the detached .p7s over the signed bytes (in memory);
3. ``temps``: workbook, .p7s (and PDF) written to fsync'ed temporary files beside the target;
4. ``supersede`` (``force`` only): the existing pair is hard-linked as ``NAME.superseded-N.xlsx``
   (+ .p7s), so the old record exists under its new name before anything touches the target;
5. ``ledger``: the ``export`` entry (file, .p7s and certificate SHA-256, inputs, what it supersedes);
6. ``rename_p7s`` then ``rename_workbook``: the temporary files replace the target.

An existing target is refused unless ``force``. Any failure removes every temporary file, restores
the old pair at the target, and (after step 5) appends an ``export-aborted`` entry, so the
previous record stays intact and verifies. A process killed between the two renames (6) leaves the new
.p7s beside the old workbook (or beside nothing): ``verify`` says the .p7s belongs to an interrupted
export and names the superseded copy that holds the old record intact; the next export to that folder
removes the stale temporary files of a killed run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ArgumentError
from workbooks import atomic
from workbooks.ledger import Ledger, export_payload
from workbooks.report import DecisionReport
from workbooks.sign import p7s_path_for, sign_bytes
from workbooks.writer import render_bytes, write_workbook

log = logging.getLogger(__name__)

__all__ = ["ExportResult", "export_signed", "write_workbook", "STEPS"]
STEPS = ("render", "sign", "temps", "supersede", "ledger", "rename_p7s", "rename_workbook")


def _step(name: str) -> None:
    """Called before each step; tests replace it to inject a failure (a crash) at that step."""


@dataclass(frozen=True)
class ExportResult:
    """A signed export: workbook and .p7s paths, SHA-256 of the signed bytes, the content digest
    stored on its Audit sheet, the ledger entry's sequence number, the verify result (or None), the
    superseded copy (or None) and the PDF (or None) with its SHA-256."""

    path: Path
    p7s: Path
    sha256: str
    content_digest: str
    ledger_seq: int
    verify: dict | None
    superseded: Path | None = None
    pdf: Path | None = None
    pdf_sha256: str | None = None


def check_target(out_path: str | os.PathLike, force: bool) -> Path:
    out = Path(out_path)
    if out.suffix.lower() != ".xlsx":
        raise ArgumentError("out_path", f"the workbook must be an .xlsx file, got {out.name!r}")
    if not out.parent.is_dir():
        raise ArgumentError("out_path", f"folder {str(out.parent)!r} does not exist")
    if not force and (out.exists() or p7s_path_for(out).exists()):
        raise ArgumentError("--out", f"{out} already holds a signed record; pass --force to supersede it (the old "
                                     f"pair is kept as {out.stem}.superseded-N.xlsx and the ledger says so)")
    return out


_check_target = check_target


def _clean_stale(out: Path) -> None:
    """Remove the temporary files a killed export to ``out`` left behind."""
    pattern = re.compile(rf"^\.({re.escape(out.name)}(\.p7s)?|{re.escape(out.stem)}\.pdf)\.[^.]+\.tmp$")
    for p in out.parent.iterdir():
        if pattern.match(p.name):
            p.unlink(missing_ok=True)


def superseded_name(out: Path) -> Path:
    """The first free ``NAME.superseded-N.xlsx`` beside ``out``."""
    n = 1
    while (out.with_name(f"{out.stem}.superseded-{n}{out.suffix}").exists()
           or p7s_path_for(out.with_name(f"{out.stem}.superseded-{n}{out.suffix}")).exists()):
        n += 1
    return out.with_name(f"{out.stem}.superseded-{n}{out.suffix}")


def _link_old(out: Path) -> Path | None:
    if not out.exists():
        return None
    sup = superseded_name(out)
    os.link(out, sup)
    if p7s_path_for(out).exists():
        os.link(p7s_path_for(out), p7s_path_for(sup))
    return sup


def _payload(report: DecisionReport, signed, out: Path, digest: str, sup: Path | None,
             pdf_sha: str | None, old_sha: str | None) -> dict:
    extra: dict[str, Any] = dict(
        file=out.name, folder=str(out.parent.resolve()), run_id=report.run_id, as_of=report.as_of.isoformat(),
        content_digest=digest, inputs=[list(x) for x in report.inputs], data_rows_sha256=report.data_rows_sha256,
        target_weights=report.target_weights(), data_label=report.data_label,
        ledger_anchor=f"{report.ledger_seq}:{report.ledger_head}")
    if sup is not None:
        extra["supersedes"] = {"file": sup.name, "sha256": old_sha}
    if pdf_sha:
        extra["pdf_sha256"] = pdf_sha
    return export_payload(signed.info, **extra)


def _rollback(out: Path, temps: list[Path], sup: Path | None, p7s_moved: bool) -> None:
    for t in temps:
        t.unlink(missing_ok=True)
    final_p7s = p7s_path_for(out)
    if sup is not None:
        if p7s_moved and p7s_path_for(sup).exists():
            os.replace(p7s_path_for(sup), final_p7s)       # the old .p7s back beside the old workbook
        else:
            p7s_path_for(sup).unlink(missing_ok=True)
        sup.unlink(missing_ok=True)                         # the old workbook is still at ``out``
    elif p7s_moved:
        final_p7s.unlink(missing_ok=True)


def _build(report: DecisionReport, template, signer, out: Path, pdf: bool):
    """(signed workbook and .p7s, content digest, PDF bytes or None), all in memory."""
    _step("render")
    # stored parts (the signer re-packs them compressed) and the digest sealed in them
    data, digest = render_bytes(report, template, compress=False, with_digest=True)
    _step("sign")
    signed = sign_bytes(data, signer, path=out)
    pdf_bytes = None
    if pdf:
        from workbooks.pdf import render_pdf
        pdf_bytes = render_pdf(signed.workbook, out.stem)
    return signed, digest, pdf_bytes


def export_signed(report: DecisionReport, out_path: str | os.PathLike, signer: Any,
                  ledger: Ledger | str | os.PathLike | None = None, template: str | os.PathLike | None = None,
                  verify: bool = True, force: bool = False, trust=None, pdf: bool = False) -> ExportResult:
    """Write, sign and record the workbook for ``report`` at ``out_path`` (+ ``out_path.p7s``).

    ``signer`` comes from :func:`workbooks.keys.load_signer`; ``ledger`` is a Ledger, a path, or None
    for the default ledger. ``force`` supersedes an existing record (kept as NAME.superseded-N.xlsx);
    ``pdf`` also writes NAME.pdf of the print areas (LibreOffice). With ``verify`` the result carries
    :func:`workbooks.verify.verify_workbook` of the final file against ``trust``. Raises ArgumentError for
    a bad or occupied target; every failure leaves the previous record as it was (see module doc).
    """
    out = check_target(out_path, force)
    _clean_stale(out)
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    head = led.anchor()
    report = dataclasses.replace(report, ledger_seq=head["seq"], ledger_head=head["hash"])
    temps: list[Path] = []
    sup, p7s_moved, entry = None, False, None
    final_p7s = p7s_path_for(out)
    try:
        signed, digest, pdf_bytes = _build(report, template, signer, out, pdf)
        _step("temps")
        temps.append(atomic.write_temp(out, signed.workbook))
        temps.append(atomic.write_temp(final_p7s, signed.p7s))
        if pdf_bytes is not None:
            temps.append(atomic.write_temp(out.with_suffix(".pdf"), pdf_bytes))
        _step("supersede")
        old_sha = hashlib.sha256(out.read_bytes()).hexdigest() if force and out.exists() else None
        sup = _link_old(out) if force else None
        _step("ledger")
        pdf_sha = hashlib.sha256(pdf_bytes).hexdigest() if pdf_bytes is not None else None
        entry = led.append("export", report.operator, _payload(report, signed, out, digest, sup, pdf_sha, old_sha))
        _step("rename_p7s")
        atomic.commit(temps[1], final_p7s)
        p7s_moved = True
        _step("rename_workbook")
        atomic.commit(temps[0], out)
    except BaseException as exc:
        _rollback(out, temps, sup, p7s_moved)
        if entry is not None:
            try:
                led.append("export-aborted", report.operator, {"seq": entry.seq, "file": out.name,
                                                               "reason": f"{type(exc).__name__}: {exc}"[:300]})
            except Exception:  # pragma: no cover - the ledger itself failed; the export error wins
                log.exception("could not record the aborted export")
        raise
    log.info("exported %s (sha256 %s, ledger #%d)", out, signed.info.sha256, entry.seq)
    if pdf_bytes is not None:              # the record is complete; the PDF is a rendering of it
        atomic.commit(temps[2], out.with_suffix(".pdf"))
    result = None
    if verify:
        from workbooks.verify import verify_workbook
        result = verify_workbook(out, ledger=led, trust=trust)
    return ExportResult(path=out, p7s=final_p7s, sha256=signed.info.sha256, content_digest=digest,
                        ledger_seq=entry.seq, verify=result, superseded=sup,
                        pdf=out.with_suffix(".pdf") if pdf_bytes is not None else None,
                        pdf_sha256=hashlib.sha256(pdf_bytes).hexdigest() if pdf_bytes is not None else None)
