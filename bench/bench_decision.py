"""The decision workbook `rotation demo` writes: full use case (compute + render + sign + ledger),
render + sign alone, and verify of that file (the demo market's 5,000+ sessions)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness import Row


def rows() -> list[Row]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-decision-"))
    os.environ.setdefault("ROTATION_LEDGER", str(tmp / "ledger.sqlite"))
    os.environ.setdefault("ROTATION_KEYS_DIR", str(tmp / "keys"))
    from usecases.context import open_market
    from usecases.export import build_report, export_decision, signer_for
    from workbooks.export import export_signed
    from workbooks.ledger import Ledger
    from workbooks.verify import verify_workbook

    market = open_market(demo=True)
    report = build_report(market)
    signer, _ = signer_for(None, allow_ephemeral=True)
    ledger = Ledger(tmp / "ledger.sqlite")
    book = tmp / "decision.xlsx"
    export_signed(report, book, signer, ledger, verify=False)
    counter = iter(range(10**6))
    return [
        Row("decision: build report (signal, scores, weights, validation)", lambda _: build_report(market),
            target_s=None, repeat=3),
        Row("decision: export + sign the demo decision workbook", lambda _: export_signed(
            report, tmp / f"d{next(counter)}.xlsx", signer, ledger, verify=False), target_s=1.5, repeat=5),
        Row("decision: verify the demo decision workbook", lambda _: verify_workbook(book, ledger),
            target_s=0.5, repeat=5),
        Row("decision: rotation export use case end to end (demo)", lambda _: export_decision(
            market, None, tmp / f"e{next(counter)}.xlsx", allow_ephemeral_key=True), target_s=None, repeat=3),
    ]
