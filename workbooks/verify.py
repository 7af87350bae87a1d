"""Verify a signed audit workbook: who signed it, whether they are trusted, whether anything changed.

``verify_workbook(path, ledger=None, trust=None, anchors=None) -> dict`` runs five checks, each by
the layer that should catch its kind of tampering:

- ``embedded_signature``: the Office XML signature inside the file (every signed part, the
  relationship transform, SignedInfo, XAdES properties);
- ``cms_signature``: the detached ``BOOK.xlsx.p7s`` over the exact file bytes (catches what the
  embedded signature leaves out by design: docProps, [Content_Types].xml, re-zips, trailing bytes);
- ``trusted_signer``: the signing certificate is pinned in, or issued by a CA in, the trust store
  (:mod:`workbooks.trust`), was valid at the recorded signing time and has a strong key; a forgery
  re-signed with any other certificate, whatever its name, fails here;
- ``content_digest``: the canonical content of every sheet equals the digest sealed on the Audit sheet;
- ``ledger``: an ``export`` entry records this file's SHA-256 and the certificate's fingerprint, the
  chain verifies, and the ledger still holds the head the workbook's Audit sheet recorded at export
  (and every ``anchors`` given): a truncated or rewritten ledger fails.

Also returned: ``ok`` (all five), ``signer``, ``signed_at``, ``cert_sha256``, ``sha256``, ``file``,
``signatures`` (the decision signature and every approval: who signed what and when), and
``problems`` (sentences saying what does not hold). A missing file raises DataError.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from engine.errors import DataError, RotationError
from workbooks.ledger import Ledger, default_ledger_path
from workbooks.sign import p7s_path_for
from workbooks.sign_cms import verify_cms
from workbooks.sign_ooxml import verify_package
from workbooks.trust import TrustStore, fingerprint, parse_time

log = logging.getLogger(__name__)

CHECKS = ("embedded_signature", "cms_signature", "trusted_signer", "content_digest", "ledger")
AUDIT_LEDGER_NAMES = ("AuditLedgerSeq", "AuditLedgerHead")


def _content_check(data: bytes, problems: list[str]) -> tuple[bool, dict]:
    from workbooks.digest import AUDIT_NAME, _parts, package_digest, named_cell_text
    try:
        parts = _parts(data)
        values = {n: named_cell_text(parts, n) for n in AUDIT_LEDGER_NAMES}
        stored, actual = package_digest(parts)         # the package is unzipped once
    except DataError as exc:
        problems.append(f"content digest: {exc}")
        return False, {}
    if not stored:
        problems.append(f"content digest: the workbook has no {AUDIT_NAME} cell")
        return False, values
    if actual != stored.strip().lower():
        problems.append("content digest: the workbook's content differs from the digest sealed in the Audit sheet")
        return False, values
    return True, values


def _open_ledger(ledger, problems: list[str]) -> Ledger | None:
    if isinstance(ledger, Ledger):
        return ledger
    path = Path(ledger) if ledger else default_ledger_path()
    if not path.is_file():
        problems.append(f"ledger: no ledger at {path}")
        return None
    return Ledger(path)


def _workbook_anchor(audit: dict) -> list[tuple[int, str]]:
    seq, head = audit.get("AuditLedgerSeq"), audit.get("AuditLedgerHead")
    try:
        return [(int(str(seq)), str(head).strip().lower())] if seq is not None and head else []
    except ValueError:
        return []


def _name_recorded(name: str, sha: str, found, led: Ledger) -> bool:
    if any(e.payload.get("file") in (None, name) for e in found):
        return True
    return any((e.payload.get("supersedes") or {}).get("file") == name
               and (e.payload.get("supersedes") or {}).get("sha256") == sha for e in led.find(kind="export"))


def _ledger_check(sha: str, name: str, cert_fp: str | None, led: Ledger | None, audit: dict,
                  anchors, problems: list[str]) -> bool:
    if led is None:
        return False
    try:
        state = led.verify(anchors=_workbook_anchor(audit) + list(anchors or []))
        found = led.find(kind="export", file_sha256=sha)
    except RotationError as exc:
        problems.append(f"ledger: {exc}")
        return False
    ok = True
    if not found:
        problems.append(f"ledger: no export entry records this file (sha256 {sha[:16]}...)")
        ok = False
    elif not _name_recorded(name, sha, found, led):
        problems.append(f"ledger: entry {found[-1].seq} records this file as {found[-1].payload.get('file')!r}, "
                        f"not {name!r} (renamed)")
        ok = False
    elif cert_fp and found[-1].payload.get("cert_sha256") not in (None, cert_fp):
        problems.append(f"ledger: entry {found[-1].seq} records certificate {found[-1].payload['cert_sha256'][:16]}..., "
                        f"the workbook is signed by {cert_fp[:16]}...")
        ok = False
    if not state["ok"]:
        problems.append("ledger: the chain does not verify (" + "; ".join(state["problems"][:3]) + ")")
        ok = False
    return ok


def _trust_check(emb, cms, trust: TrustStore, problems: list[str]) -> bool:
    cert = emb.certificate or (cms.certificate if cms else None)
    if cert is None:
        problems.append("trusted signer: no signing certificate to check")
        return False
    when = parse_time(emb.signed_at or (cms.signed_at if cms else None))
    decision = trust.check(cert, when)
    if not decision.trusted:
        problems.append(f"trusted signer: {decision.reason}")
    return decision.trusted


def _half_finished(p7s_bytes: bytes, led: Ledger | None) -> str | None:
    """When the .p7s belongs to a ledger export whose workbook is not this file: say so."""
    if led is None:
        return None
    try:
        hits = led.find(kind="export", p7s_sha256=hashlib.sha256(p7s_bytes).hexdigest())
    except RotationError:
        return None
    if not hits:
        return None
    e = hits[-1]
    kept = (e.payload.get("supersedes") or {}).get("file")
    return (f"CMS signature: this .p7s belongs to ledger entry {e.seq} (workbook sha256 "
            f"{e.payload.get('file_sha256', '')[:16]}...), whose workbook was never put in place: an interrupted "
            "export; " + (f"the previous record is kept intact as {kept}" if kept else "there was no previous record"))


def verify_workbook(path: str | os.PathLike, ledger: Ledger | str | os.PathLike | None = None,
                    trust: TrustStore | str | os.PathLike | None = None,
                    anchors: list[tuple[int, str]] | None = None) -> dict:
    """Run the five checks on the workbook at ``path`` (see module doc). ``ledger``: a Ledger, a path,
    or None for the default; ``trust``: a TrustStore, a folder, or None for the keys folder's store."""
    path = Path(path)
    if not path.is_file():
        raise DataError("workbook not found", file=str(path))
    store = trust if isinstance(trust, TrustStore) else (TrustStore(trust) if trust else TrustStore.for_keys())
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    problems: list[str] = []
    emb = verify_package(data)
    problems += [f"embedded signature: {p}" for p in emb.problems]
    led = _open_ledger(ledger, problems)
    p7s = p7s_path_for(path)
    cms_ok, cms = False, None
    if p7s.is_file():
        p7s_bytes = p7s.read_bytes()
        cms = verify_cms(p7s_bytes, data)
        cms_ok = cms.valid
        problems += [f"CMS signature: {p}" for p in cms.problems]
        if cms_ok and emb.certificate is not None and cms.certificate != emb.certificate:
            problems.append("CMS signature: signed by a different certificate than the embedded signature")
            cms_ok = False
        if not cms_ok:
            note = _half_finished(p7s_bytes, led)
            problems += [note] if note else []
    else:
        problems.append(f"CMS signature: {p7s.name} not found beside the workbook")
    trusted = _trust_check(emb, cms, store, problems)
    digest_ok, audit = _content_check(data, problems)
    cert = emb.certificate or (cms.certificate if cms else None)
    cert_fp = fingerprint(cert) if cert is not None else None
    ledger_ok = _ledger_check(sha, path.name, cert_fp, led, audit, anchors, problems)
    from workbooks.approve import approvals
    signatures = [{"role": "decision", "signer": emb.signer or (cms.signer if cms else None),
                   "signed_at": emb.signed_at or (cms.signed_at if cms else None), "cert_sha256": cert_fp,
                   "valid": bool(emb.valid and cms_ok), "trusted": trusted}]
    signatures += approvals(path, data, store, led, problems)
    result = {"file": str(path), "sha256": sha, "embedded_signature": bool(emb.valid), "cms_signature": bool(cms_ok),
              "trusted_signer": trusted, "content_digest": digest_ok, "ledger": ledger_ok,
              "signer": signatures[0]["signer"], "signed_at": signatures[0]["signed_at"], "cert_sha256": cert_fp,
              "ledger_anchor": audit.get("AuditLedgerSeq"), "signatures": signatures, "problems": problems}
    result["ok"] = all(result[k] for k in CHECKS) and all(s["valid"] and s["trusted"] for s in signatures[1:])
    log.info("verified %s: %s", path, {k: result[k] for k in CHECKS})
    return result
