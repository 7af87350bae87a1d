"""Verify a signed audit workbook: embedded signature, .p7s, content digest, ledger entry.

``verify_workbook(path, ledger=None) -> dict`` with keys ``embedded_signature``,
``cms_signature``, ``content_digest``, ``ledger`` (bools), ``ok`` (all four hold), ``signer``,
``signed_at``, ``sha256``, ``file`` and ``problems`` (sentences saying what does not hold).
A user error (missing file) raises DataError; a bad signature is a ``False`` with a reason.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

from engine.errors import DataError, RotationError
from workbooks.ledger import Ledger, default_ledger_path
from workbooks.sign import p7s_path_for
from workbooks.sign_cms import verify_cms
from workbooks.sign_ooxml import verify_package

log = logging.getLogger(__name__)

CHECKS = ("embedded_signature", "cms_signature", "content_digest", "ledger")


def _content_check(data: bytes, problems: list[str]) -> bool:
    from openpyxl import load_workbook

    from workbooks.digest import content_digest, read_audit_digest
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True)   # streamed: same digest, less time
    except Exception as exc:  # openpyxl raises many types for a damaged package
        problems.append(f"content digest: the workbook cannot be read ({exc})")
        return False
    stored = read_audit_digest(wb)
    if stored is None:
        problems.append("content digest: the workbook has no AuditContentDigest cell")
        return False
    if content_digest(wb) != stored.lower():
        problems.append("content digest: the sheets' content differs from the digest in the Audit sheet")
        return False
    return True


def _ledger_check(sha: str, ledger: Ledger | str | os.PathLike | None, problems: list[str]) -> bool:
    if not isinstance(ledger, Ledger):
        path = Path(ledger) if ledger else default_ledger_path()
        if not path.exists():
            problems.append(f"ledger: no ledger at {path}")
            return False
        ledger = Ledger(path)
    try:
        state = ledger.verify()
        found = ledger.find(kind="export", file_sha256=sha)
    except RotationError as exc:
        problems.append(f"ledger: {exc}")
        return False
    ok = True
    if not found:
        problems.append(f"ledger: no export entry records this file (sha256 {sha[:16]}...)")
        ok = False
    if not state["ok"]:
        problems.append("ledger: the chain does not verify (" + "; ".join(state["problems"][:3]) + ")")
        ok = False
    return ok


def verify_workbook(path: str | os.PathLike, ledger: Ledger | str | os.PathLike | None = None) -> dict:
    """Run the four checks on the workbook at ``path`` (see module doc). ``ledger`` is a Ledger,
    a path, or None for the default ledger (``$ROTATION_LEDGER`` or the user data dir)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("workbook not found", file=str(path))
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    problems: list[str] = []

    emb = verify_package(data)
    problems += [f"embedded signature: {p}" for p in emb.problems]

    p7s = p7s_path_for(path)
    cms_ok, cms = False, None
    if p7s.is_file():
        cms = verify_cms(p7s.read_bytes(), data)
        cms_ok = cms.valid
        problems += [f"CMS signature: {p}" for p in cms.problems]
        if cms_ok and emb.certificate is not None and cms.certificate != emb.certificate:
            problems.append("CMS signature: signed by a different certificate than the embedded signature")
            cms_ok = False
    else:
        problems.append(f"CMS signature: {p7s.name} not found beside the workbook")

    digest_ok = _content_check(data, problems)
    ledger_ok = _ledger_check(sha, ledger, problems)
    result = {
        "file": str(path),
        "sha256": sha,
        "embedded_signature": bool(emb.valid),
        "cms_signature": bool(cms_ok),
        "content_digest": digest_ok,
        "ledger": ledger_ok,
        "signer": emb.signer or (cms.signer if cms else None),
        "signed_at": emb.signed_at or (cms.signed_at if cms else None),
        "problems": problems,
    }
    result["ok"] = all(result[k] for k in CHECKS)
    log.info("verified %s: %s", path, {k: result[k] for k in CHECKS})
    return result
