"""Sign a written workbook: embedded Office XML signature, then a detached CMS ``.p7s``.

Signing is the very last step (openpyxl would drop the signature if the file were saved again).
Both outputs are built in memory, written to fsync'ed temporary files beside the workbook, then
renamed into place: the workbook first, its ``.p7s`` right after. A failure before the renames
leaves both files as they were.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DataError
from workbooks.atomic import atomic_write_many
from workbooks.keys import Signer
from workbooks.sign_cms import sign_cms
from workbooks.sign_ooxml import sign_package

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInfo:
    """What was signed: signer (certificate common name), signed_at (UTC, ISO 8601 with Z),
    the .p7s path and the SHA-256 (hex) of the final workbook bytes (record it in the ledger), the
    SHA-256 fingerprint of the signing certificate and the SHA-256 of the .p7s bytes."""
    signer: str
    signed_at: str
    p7s_path: Path
    sha256: str
    path: Path | None = None
    cert_sha256: str = ""
    p7s_sha256: str = ""


@dataclass(frozen=True)
class Signed:
    """A signature made in memory: the signed workbook bytes, the .p7s bytes and their description."""
    workbook: bytes
    p7s: bytes
    info: SignInfo


def sign_bytes(data: bytes, signer: Signer, when: dt.datetime | None = None,
               path: str | os.PathLike = "book.xlsx") -> Signed:
    """Sign the .xlsx bytes ``data`` in memory (embedded signature, then the .p7s over the result)."""
    from workbooks.trust import fingerprint

    when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    signed = sign_package(data, signer, when)
    p7s = sign_cms(signed, signer)
    info = SignInfo(signer=signer.subject, signed_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    p7s_path=p7s_path_for(path), sha256=hashlib.sha256(signed).hexdigest(), path=Path(path),
                    cert_sha256=fingerprint(signer.certificate), p7s_sha256=hashlib.sha256(p7s).hexdigest())
    return Signed(signed, p7s, info)


def p7s_path_for(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".p7s")


def sign_workbook(path: str | os.PathLike, signer: Signer, when: dt.datetime | None = None) -> SignInfo:
    """Embed an Office XML signature into the .xlsx at ``path`` and write ``path + '.p7s'``.

    ``signer`` comes from :func:`workbooks.keys.load_signer`. ``when`` defaults to now (UTC).
    Raises DataError if the file is missing, not an .xlsx package, or already signed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("workbook to sign not found", file=str(path))
    try:
        made = sign_bytes(path.read_bytes(), signer, when, path)
    except DataError as exc:
        raise DataError(exc.problem if hasattr(exc, "problem") else str(exc), file=str(path)) from exc
    atomic_write_many({path: made.workbook, made.info.p7s_path: made.p7s})
    log.info("signed %s (sha256 %s) as %s", path, made.info.sha256, signer.subject)
    return made.info
