"""Export and sign the full demo-sized decision workbook (5,000 sessions, every sheet)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness import Row

_STATE: dict = {}


def _setup():
    if not _STATE:
        from workbooks.keys import init_keys, load_signer
        from workbooks.ledger import Ledger
        from workbooks.report import example_report

        tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
        os.environ.setdefault("ROTATION_SIGNING_PASSPHRASE", "bench-passphrase")
        init_keys(keys_dir=tmp / "keys", passphrase=os.environ["ROTATION_SIGNING_PASSPHRASE"])
        _STATE.update(report=example_report(sessions=5000), signer=load_signer(keys_dir=tmp / "keys"),
                      ledger=Ledger(tmp / "ledger.sqlite"), out=tmp / "decision.xlsx")
    return _STATE


def _export(s):
    from workbooks.export import export_signed

    export_signed(s["report"], s["out"], s["signer"], s["ledger"], verify=False)


def _write(s):
    from workbooks.writer import write_workbook

    write_workbook(s["report"], s["out"].with_name("preview.xlsx"))


def rows() -> list[Row]:
    return [
        Row("export: render + sign + ledger, 5,000 sessions (no verify)", _export, 1.5, setup=_setup, repeat=5),
        Row("export: unsigned preview workbook, 5,000 sessions", _write, None, setup=_setup, repeat=5),
    ]
