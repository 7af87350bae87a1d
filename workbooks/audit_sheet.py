"""The Audit sheet: who, when, with what software, data and configuration, and the content digest.

:func:`fill` writes the run record into the named cells ``Audit*`` and the inputs table;
:func:`seal` computes :func:`workbooks.digest.content_digest` of every other sheet on the in-memory
workbook and writes it into the workbook-level name ``AuditContentDigest``. ``seal`` must be the last
change before saving, so the digest recomputed from the saved file matches.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timezone

from openpyxl import Workbook

from engine.errors import ArgumentError
from workbooks.report import DecisionReport

AUDIT_SHEET = "Audit"
DIGEST_NAME = "AuditContentDigest"
SCOPE = ("SHA-256 over every part of the saved package (all sheets with values, formulas, formats, merged cells; "
         "defined names; tables; charts; this sheet) except docProps, content types and package relationships, "
         "with this digest cell read as a placeholder (workbooks/digest.py). Recompute with `rotation verify`.")
MAX_CELL = 32_000


def config_json(config: dict) -> str:
    """Canonical JSON of the configuration (sorted keys, no spaces); non-JSON values as text."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def config_sha256(config: dict) -> str:
    """SHA-256 hex of :func:`config_json`."""
    return hashlib.sha256(config_json(config).encode("utf-8")).hexdigest()


def _cell(wb: Workbook, name: str):
    from workbooks.writer import named_cell

    cell = named_cell(wb, name)
    if cell is None:
        raise ArgumentError("template", f"the template has no cell named {name!r} on the Audit sheet")
    return cell


def fill(wb: Workbook, report: DecisionReport) -> None:
    """Write the run record of ``report`` into the Audit sheet's named cells."""
    created = report.created_utc
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc).replace(tzinfo=None)
    cfg = config_json(report.config)
    values = {
        "AuditRunId": report.run_id,
        "AuditAsOf": report.as_of.isoformat(),
        "AuditCreatedUtc": created.isoformat(timespec="seconds") + "Z",
        "AuditOperator": report.operator,
        "AuditSoftwareVersion": report.software_version,
        "AuditDataLabel": report.data_label,
        "AuditLedgerSeq": str(report.ledger_seq) if report.ledger_seq is not None else "(not recorded)",
        "AuditLedgerHead": report.ledger_head or "(not recorded)",
        "AuditDataRowsSha256": report.data_rows_sha256 or "(not given)",
        "AuditConfigSha256": config_sha256(report.config),
        "AuditConfig": cfg if len(cfg) <= MAX_CELL else "(too long for one cell: see the Parameters sheet)",
        "AuditDigestScope": SCOPE,
    }
    for name, value in values.items():
        cell = _cell(wb, name)
        cell.value = value
        cell.data_type = "s"


def seal(wb: Workbook) -> None:
    """Put the digest placeholder in ``AuditContentDigest``; :func:`workbooks.digest.seal_package`
    replaces it with the digest of the saved bytes (see :func:`workbooks.writer.render_bytes`)."""
    from workbooks.digest import PLACEHOLDER

    cell = _cell(wb, DIGEST_NAME)
    if cell.parent.title != AUDIT_SHEET:
        raise ArgumentError("template", f"{DIGEST_NAME!r} must be on the {AUDIT_SHEET!r} sheet, "
                            f"found on {cell.parent.title!r}")
    cell.value = PLACEHOLDER
    cell.data_type = "s"
