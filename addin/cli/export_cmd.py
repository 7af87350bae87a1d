"""`rotation export`: the signed decision workbook for a date (the audit record of the decision)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import (AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, StressConfigOpt, emit, handle_errors, out,
                              spinner, stress_config as read_stress_config)
from addin.cli.optimize_cmd import ConfigOpt, CurrentOpt, load_limits

OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Workbook path or folder (default: ./rotation-decision-YYYYMMDD.xlsx).")]
KeysOpt = Annotated[Optional[Path], typer.Option("--keys", help="Signing keys folder (default: $ROTATION_KEYS_DIR or the user config directory).", file_okay=False)]
LedgerOpt = Annotated[Optional[Path], typer.Option("--ledger", help="Audit ledger (default: $ROTATION_LEDGER or the user data directory).", dir_okay=False)]
ForceOpt = Annotated[bool, typer.Option("--force", help="Supersede an existing record at --out (kept as NAME.superseded-N.xlsx, recorded in the ledger).")]
PdfOpt = Annotated[bool, typer.Option("--pdf", help="Also write NAME.pdf of the print areas (LibreOffice); its SHA-256 goes in the ledger entry.")]
TemplateOpt = Annotated[Optional[Path], typer.Option("--template", help="A restyled workbook template (.xlsx) to fill.", dir_okay=False)]


def render_export(r: dict) -> None:
    v = r["verify"] or {}
    t = Table(title=f"Signed decision workbook as of {r['as_of']}  [{r['label']}]", title_justify="left", show_header=False)
    t.add_column("k")
    t.add_column("v")
    t.add_row("workbook", r["path"])
    t.add_row("detached signature", r["p7s"])
    t.add_row("SHA-256", r["sha256"])
    t.add_row("ledger entry", f"#{r['ledger_seq']} in {r['ledger']}")
    t.add_row("signer", r["signer"])
    if r.get("superseded"):
        t.add_row("previous record kept as", r["superseded"])
    if r.get("pdf"):
        t.add_row("PDF", f"{r['pdf']} (sha256 {r['pdf_sha256'][:16]}...)")
    for k in ("embedded_signature", "cms_signature", "trusted_signer", "content_digest", "ledger"):
        t.add_row(f"verify: {k.replace('_', ' ')}", "[green]holds[/]" if v.get(k) else "[red]FAILS[/]")
    out.print(t)
    if r.get("note"):
        out.print(f"Note: {r['note']}")


def export(
    as_of: AsOfOpt = None, out_path: OutOpt = None, current: CurrentOpt = None, config: ConfigOpt = None,
    keys: KeysOpt = None, ledger: LedgerOpt = None, template: TemplateOpt = None, force: ForceOpt = False,
    pdf: PdfOpt = False,
    holdings: Annotated[Optional[Path], typer.Option("--holdings", help="Holdings CSV: adds the Trades and Execution sheets (see `rotation trades`).", dir_okay=False)] = None,
    tax: Annotated[Optional[Path], typer.Option("--tax", help="Tax settings TOML for the Trades sheet.", dir_okay=False)] = None,
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
    stress_config: StressConfigOpt = None,
) -> None:
    """Write the signed workbook for the decision at --as-of: signal, scores, weights, transition, commentary, audit."""
    single_thread_blas()
    from usecases import parallel
    from usecases.context import open_market
    from usecases.gcpause import paused_gc
    from usecases.optimize import read_weights_csv

    with handle_errors(as_json), parallel.allowed():     # this command-line process may fork its stages
        limits = load_limits(config)
        cur = read_weights_csv(current) if current else None
        scfg = read_stress_config(stress_config)
        with spinner(as_json, "computing the decision, writing and signing the workbook"), paused_gc():
            # the workbook, signing and ledger modules (openpyxl, lxml, cryptography) are imported while the
            # data folder is read on the second core (usecases.parallel)
            market = open_market(data=data, store=store, demo=demo, meanwhile=_import_export)
            from usecases.export import export_decision
            r = export_decision(market, as_of, out_path, cur, limits, keys, ledger, template,
                                allow_ephemeral_key=market.is_demo, force=force, pdf=pdf,
                                inputs=[("weights", current), ("limits", config), ("stress config", stress_config),
                                        ("tax settings", tax)],
                                stress_config=scfg, holdings=holdings, tax=tax)
        emit(r, as_json, render_export)
        if not (r["verify"] or {}).get("ok"):
            raise typer.Exit(1)


def single_thread_blas() -> None:
    """OpenBLAS on one thread (unless the user set its thread count), before numpy is first imported: the
    export's matrices are small (a few thousand rows by a few columns), where BLAS threads only spin, and
    its independent stages run in two processes instead (usecases.parallel), which a BLAS thread pool
    would oversubscribe. No result changes: tests/test_parallel.py compares the workbooks."""
    import os
    import sys

    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _import_export() -> None:
    import usecases.export  # noqa: F401


def template(path: Annotated[Path, typer.Argument(help="Where to write the default template (.xlsx).", dir_okay=False)],
             as_json: JsonOpt = False) -> None:
    """Write the default workbook template for a PM to restyle in Excel; use it with `rotation export --template`."""
    from workbooks.template import write_template

    with handle_errors(as_json):
        written = write_template(path)
        emit({"template": str(written)}, as_json,
             lambda r: out.print(f"Template written to {r['template']}: restyle it in Excel, keep the tables and "
                                 "named cells, then pass it to `rotation export --template`."))
