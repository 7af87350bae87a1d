"""Approvals: a reviewer's or approver's own signature beside the decision's, never inside it.

``approve(book, signer, ledger, role)`` writes ``BOOK.xlsx.<role>-N.p7s``, a detached CMS signature
by the approver over the exact bytes of the signed workbook (which stays unchanged, so the decision's
embedded signature and .p7s keep verifying), and appends an ``approval`` ledger entry (workbook
SHA-256, role, approver, certificate fingerprint, time). ``verify`` lists every approval with who
signed, when, and whether the signature is valid and its certificate trusted.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from engine.errors import ArgumentError, DataError, RotationError
from workbooks import atomic
from workbooks.ledger import Ledger
from workbooks.sign_cms import sign_cms, verify_cms
from workbooks.trust import TrustStore, fingerprint, parse_time

ROLES = ("reviewed", "approved")


def _approval_files(book: Path) -> list[Path]:
    pat = re.compile(rf"^{re.escape(book.name)}\.({'|'.join(ROLES)})-(\d+)\.p7s$")
    return sorted((p for p in book.parent.iterdir() if pat.match(p.name)), key=lambda p: p.name)


def approve(book: str | os.PathLike, signer, ledger: Ledger | str | os.PathLike | None = None,
            role: str = "approved", operator: str | None = None) -> dict:
    """Sign ``book`` as ``role`` (reviewed or approved) by ``signer``; returns the approval record."""
    book = Path(book)
    if role not in ROLES:
        raise ArgumentError("--role", f"expected one of {list(ROLES)}, got {role!r}")
    if not book.is_file():
        raise DataError("workbook to approve not found", file=str(book))
    data = book.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    if not led.find(kind="export", file_sha256=sha):
        raise ArgumentError("book", f"{book.name} is not a recorded export in {led.path} (its SHA-256 "
                                    f"{sha[:16]}... has no export entry); approve the signed record itself")
    n = len(_approval_files(book)) + 1
    target = book.with_name(f"{book.name}.{role}-{n}.p7s")
    p7s = sign_cms(data, signer)
    check = verify_cms(p7s, data)
    payload = {"file_sha256": sha, "file": book.name, "role": role, "approver": signer.subject,
               "cert_sha256": fingerprint(signer.certificate), "signature_file": target.name,
               "p7s_sha256": hashlib.sha256(p7s).hexdigest(), "signed_at": check.signed_at}
    tmp = atomic.write_temp(target, p7s)
    try:
        entry = led.append("approval", operator, payload)
        atomic.commit(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {**payload, "ledger_seq": entry.seq, "path": str(target)}


def approvals(book: Path, data: bytes, trust: TrustStore, led: Ledger | None, problems: list[str]) -> list[dict]:
    """Every approval signature beside ``book``: role, signer, time, validity, trust, ledger entry."""
    out = []
    sha = hashlib.sha256(data).hexdigest()
    for f in _approval_files(book):
        role = f.name[len(book.name) + 1:].split("-")[0]
        chk = verify_cms(f.read_bytes(), data)
        trusted = chk.certificate is not None and trust.check(chk.certificate, parse_time(chk.signed_at)).trusted
        recorded = False
        if led is not None and chk.certificate is not None:
            try:
                recorded = bool(led.find(kind="approval", file_sha256=sha, cert_sha256=fingerprint(chk.certificate)))
            except RotationError:
                recorded = False
        if not chk.valid:
            problems.append(f"approval {f.name}: " + "; ".join(chk.problems))
        elif not trusted:
            problems.append(f"approval {f.name}: the approver's certificate is not trusted")
        elif not recorded:
            problems.append(f"approval {f.name}: no approval entry in the ledger records it")
        out.append({"role": role, "signer": chk.signer, "signed_at": chk.signed_at, "file": f.name,
                    "cert_sha256": fingerprint(chk.certificate) if chk.certificate is not None else None,
                    "valid": chk.valid and recorded, "trusted": trusted})
    return out
