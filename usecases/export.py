"""The rebalance decision as of date D, end to end: data -> signal -> scores -> weights -> transition
-> templated workbook -> signatures -> ledger entry. ``rotation export``, ``rotation demo`` and the
ribbon's export button all call :func:`export_decision`.

Everything in the report is computed on the point-in-time market ``market.asof(D)``: the workbook
holds nothing dated after the decision.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import tempfile
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from engine.data.assemble import data_digest
from engine.data.model import Market
from engine.errors import RotationError
from engine.optimize.limits import Limits
from engine.universe import SECTORS
from usecases import factors, signals
from usecases.alerts import preceding_alerts
from usecases.context import decision_date
from usecases.optimize import optimize_as_of
from workbooks.export import export_signed
from workbooks.keys import KEY_FILE, Signer, SigningKeyError, ensure_signer, init_keys, key_id_of
from workbooks.ledger import Ledger, current_operator
from workbooks.report import DecisionReport

log = logging.getLogger(__name__)


def software_version() -> str:
    try:
        return metadata.version("sector-rotation")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _inputs(market: Market) -> dict[str, str]:
    files = {Path(m.source).name: m.sha256 for m in market.meta.values() if m.sha256}
    if not files:
        files = {f"{market.label} (generated, no input files)": data_digest(market)}
    return dict(sorted(files.items()))


def build_report(market: Market, as_of=None, current: pd.Series | None = None, limits: Limits | None = None,
                 steps: int = 4, holdings=None, tax=None) -> DecisionReport:
    """Fill a DecisionReport for the decision at ``as_of`` (default: the last session). With ``holdings``
    (a CSV path) the current weights are the holdings' and the report carries the Trades and Execution
    sheets (:func:`usecases.trades.rebalance_with_allocation`) and the holdings file's SHA-256."""
    limits = limits or Limits()
    t = decision_date(market, as_of)
    pit = market.asof(t)                       # the decision sees nothing after D
    res = signals.stress_result(pit)
    rd = signals.reading(pit, t)
    hist = res.daily.loc[res.daily["index"].first_valid_index():t]     # from the first reading to D
    daily = hist[["index", "percentile", "change_20d", "regime", "strength", "warning_probability"]].copy()
    daily["percentile"] = daily["percentile"] / 100.0
    pos = len(hist) - 1
    reading = {k: rd[k] for k in ("index", "regime", "strength", "change_20d", "warning_probability")}
    reading["percentile"] = rd["percentile"] / 100.0
    reading["defensive"] = [d["sector"] for d in rd["defensive"]]
    reading["elevated_threshold"] = res.config.regime.enter[0]
    if pos >= 20 and pd.notna(daily["percentile"].iloc[pos - 20]):
        reading["percentile_20d_ago"] = float(daily["percentile"].iloc[pos - 20])

    if holdings is not None:
        from usecases.trades import rebalance_with_allocation
        trades, alloc = rebalance_with_allocation(pit, holdings, t, limits, steps, tax=tax)
    else:
        trades, alloc = None, optimize_as_of(pit, t, current, limits, steps)
    weights = pd.DataFrame({"current": alloc["current"], "target": alloc["weights"], "benchmark": alloc["benchmark"]})
    weights.index.name = "ticker"
    path = pd.DataFrame(alloc["transition"]).set_index("step")
    transition = path[[c for c in SECTORS if c in path.columns]].copy()
    transition["cost"] = path["cost_bps"]

    scores = factors.current_scores(pit, res.daily["index"], t)
    score_cols = [c for c in scores.columns if c not in ("composite_equal", "composite_ic", "rank")]
    early = None
    try:
        rep = signals.validation_report(pit)
        metrics = {"model": rep["model"], **rep["baselines"]}
        events = pd.DataFrame(rep["events"])
        early = {"metrics": metrics, "events": events, "verdict": rep["verdict"]}
    except RotationError as exc:             # too little history before D to validate: leave the sheet out
        log.info("early-warning sheet left out: %s", exc)
    sectors = pd.DataFrame(signals.sectors_report(pit)["regressions"])

    cfg = {"limits": limits.to_dict(), "stress": dataclasses.asdict(res.config),
           "transition_steps": steps, "composite": scores.attrs.get("method", "equal"),
           "covariance": alloc["covariance"], "benchmark": "long-only sector replication of SPY (252 sessions)"}
    now = datetime.now(timezone.utc)
    inputs = _inputs(market)
    if holdings is not None:
        inputs[f"holdings: {Path(holdings).name}"] = hashlib.sha256(Path(holdings).read_bytes()).hexdigest()
        cfg["trades"] = {k: trades[k] for k in ("tax_settings", "schedule_options", "cost_model")}
    return DecisionReport(
        run_id=f"{t:%Y%m%d}-{uuid.uuid4().hex[:8]}", as_of=t.date(), created_utc=now,
        operator=current_operator(), software_version=software_version(), data_label=market.label,
        config=cfg, inputs=inputs, data_rows_sha256=data_digest(pit),
        reading=reading, signals=daily, early_warning=early, sectors=sectors,
        scores=scores[score_cols], weights=weights, transition=transition, **_trade_sheets(trades, holdings),
        risk={"tracking_error": alloc["tracking_error"], "turnover": alloc["turnover"],
              "expected_cost_bps": alloc["expected_cost_bps"], "binding": alloc["binding_text"]},
        alerts=preceding_alerts(pit, t),
    )


def _trade_sheets(trades: dict | None, holdings) -> dict:
    """The report's ``trades``, ``execution`` and ``execution_summary`` from a rebalance_trades result."""
    if trades is None:
        return {}
    cols = ["step", "ticker", "side", "shares", "price", "notional", "expected_cost", "expected_cost_bps",
            "first_date", "last_date", "sessions", "max_day_participation"]
    orders = pd.DataFrame(trades["orders"], columns=cols + ["lots"])
    orders["lots"] = [len(x) for x in orders["lots"]]
    sched = pd.DataFrame(trades["schedule"])
    keep = [c for c in ("step", "parent_id", "child_id", "date", "start", "end", "ticker", "side", "shares", "limit",
                        "strategy", "participation", "day_participation") if c in sched.columns]
    g = trades["realized_gains"]
    summary = {"Holdings file": Path(holdings).name, "NAV at the decision prices": round(trades["nav"], 2),
               "Cash after the trades": round(trades["cash_after"], 2),
               "Residual drift (one-way)": trades["residual_drift"]["total"],
               "Realized gains short / long term": f"{g['short']:,.2f} / {g['long']:,.2f}",
               "Estimated tax": round(trades["estimated_tax"], 2),
               "Wash-sale warnings": len(trades["wash_sales"]),
               "Schedule": f"{trades['schedule_options']['strategy']} over {trades['schedule_options']['days']} "
                           f"sessions a step, at most {trades['schedule_options']['participation']:.0%} of volume",
               "Transition": trades["transition_note"]}
    return {"trades": orders.set_index("ticker"), "execution": sched[keep], "execution_summary": summary}


def _ephemeral_signer(subject: str) -> Signer:
    """A trial certificate kept only in memory (when no key can be stored: no keyring, no passphrase)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    with tempfile.TemporaryDirectory() as tmp:
        pw = secrets.token_urlsafe(24)
        init_keys(tmp, subject=subject, passphrase=pw)
        key, cert, chain = pkcs12.load_key_and_certificates((Path(tmp) / KEY_FILE).read_bytes(), pw.encode())
    return Signer(key=key, certificate=cert, chain=list(chain or []), key_id=key_id_of(cert))


def signer_for(keys_dir=None, allow_ephemeral: bool = False) -> tuple[Signer, str]:
    """The configured signer (a trial key is made on first use). With ``allow_ephemeral`` (the demo), a
    machine that cannot keep a key passphrase (no keyring backend, no ROTATION_SIGNING_PASSPHRASE)
    signs with an in-memory trial certificate instead, and the note says so."""
    try:
        return ensure_signer(keys_dir), ""
    except SigningKeyError as exc:
        if not allow_ephemeral:
            raise
        note = (f"signed with an ephemeral DEMO trial certificate ({exc}); for records set up a key with "
                "`rotation keys init` or `rotation keys import cert.p12`")
        return _ephemeral_signer("Sector Rotation DEMO signer (ephemeral trial certificate)"), note


def export_decision(market: Market, as_of=None, out: Path | None = None, current: pd.Series | None = None,
                    limits: Limits | None = None, keys_dir=None, ledger=None, template=None,
                    allow_ephemeral_key: bool = False, holdings=None, tax=None) -> dict:
    """Build, write, sign and record the decision workbook; returns path, .p7s, digests, ledger seq, verify.
    ``holdings``: a holdings CSV (adds the Trades and Execution sheets and the file's SHA-256)."""
    report = build_report(market, as_of, current, limits, holdings=holdings, tax=tax)
    if out is None:
        out = Path.cwd() / f"rotation-decision-{report.as_of:%Y%m%d}.xlsx"
    out = Path(out)
    if out.is_dir():
        out = out / f"rotation-decision-{report.as_of:%Y%m%d}.xlsx"
    signer, note = signer_for(keys_dir, allow_ephemeral_key)
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    res = export_signed(report, out, signer, led, template)
    return {"path": str(res.path), "p7s": str(res.p7s), "sha256": res.sha256, "content_digest": res.content_digest,
            "ledger_seq": res.ledger_seq, "ledger": str(led.path), "verify": res.verify, "as_of": report.as_of,
            "run_id": report.run_id, "label": report.data_label, "signer": signer.subject, "note": note,
            "target_weights": report.target_weights(), "inputs": dict(report.inputs)}
