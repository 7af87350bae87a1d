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
from engine.errors import ArgumentError, RotationError
from engine.optimize.limits import Limits
from engine.universe import SECTORS
from usecases import factors, parallel, signals
from usecases.alerts import preceding_alerts
from usecases.context import decision_date
from usecases.gcpause import paused_gc
from usecases.optimize import optimize_as_of
from workbooks.export import export_signed
from workbooks.keys import (KEY_FILE, Signer, SigningKeyError, ensure_signer, init_keys, key_id_of,
                            resolve_keys_dir)
from workbooks.ledger import Ledger, current_operator
from workbooks.report import DecisionReport

log = logging.getLogger(__name__)


def software_version() -> str:
    try:
        return metadata.version("sector-rotation")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _inputs(market: Market, extra=()) -> list[tuple[str, str, str]]:
    """(role, absolute path, SHA-256) of every data file, then of each ``extra`` (role, path) file."""
    files = sorted({(str(Path(m.source).resolve()), m.sha256) for m in market.meta.values() if m.sha256})
    rows = [("data", p, h) for p, h in files]
    if not rows:
        rows = [("data", f"{market.label} (generated, no input files)", data_digest(market))]
    if market.user_factors is not None:                                   # factors.csv (issue 16.7)
        rows.append(("user factors", str(Path(market.user_factors.source).resolve()), market.user_factors.sha256))
    for role, path in extra:
        if path is not None:
            p = Path(path)
            rows.append((role, str(p.resolve()), hashlib.sha256(p.read_bytes()).hexdigest()))
    return rows


def _data_label(market: Market) -> str:
    """The market label with any data folder written as an absolute path."""
    prefix = "vendor files in "
    if market.label.startswith(prefix):
        return prefix + str(Path(market.label[len(prefix):]).resolve())
    return market.label


def build_report(market: Market, as_of=None, current: pd.Series | None = None, limits: Limits | None = None,
                 steps: int = 4, stress_config=None, backtest=None, holdings=None, tax=None, inputs=(),
                 operator: str | None = None) -> DecisionReport:
    """Fill a DecisionReport for the decision at ``as_of`` (default: the last session); ``stress_config``
    (a StressConfig, default: the shipped one) sets the regime every decision in it uses. ``backtest``: a
    :class:`usecases.backtest.BacktestResult` ending at or before ``as_of`` for the Backtest and
    Attribution sheets (None leaves them out). With ``holdings`` (a CSV path) the current weights are the
    holdings' and the report carries the Trades and Execution sheets
    (:func:`usecases.trades.rebalance_with_allocation`) and the holdings file's SHA-256. ``inputs``:
    extra (role, path) files to hash on the Audit sheet (weights, limits TOML, template)."""
    limits = limits or Limits()
    t = decision_date(market, as_of)
    pit = market.asof(t)                       # the decision sees nothing after D
    res = signals.stress_result(pit, stress_config)
    # the parts that need only the stress result (the walk-forward validation with its VIX and HY OAS
    # baseline fits, the sector regressions, the alerts) run on the second core while this process
    # computes the defensive ranking, the scores and the allocation (usecases.parallel)
    with parallel.start(_side_parts, pit, res, t, stress_config) as side:
        return _report(market, pit, t, res, side, current, limits, steps, stress_config, backtest, holdings, tax,
                       inputs, operator)


def _side_parts(pit, res, t, stress_config) -> dict:
    """{"validation": signals.validation_outcome or None when none is needed, "sectors": the Sectors sheet's
    regressions frame, "alerts": the Alerts sheet's frame}; a RotationError in place of a part that raised
    it (raised where the decision needs that part)."""
    out = {"validation": signals.validation_outcome(pit, res) if signals.needs_validation(res) else None}
    for name, part in (("sectors", lambda: pd.DataFrame(signals.sector_table(pit, res).reset_index()
                                                        .to_dict(orient="records"))),
                       ("alerts", lambda: preceding_alerts(pit, t, stress_config=stress_config))):
        try:
            out[name] = part()
        except RotationError as exc:
            out[name] = exc
    return out


def _part(value):
    if isinstance(value, RotationError):
        raise value
    return value


def _report(market, pit, t, res, side, current, limits, steps, stress_config, backtest, holdings, tax,
            inputs, operator) -> DecisionReport:
    """build_report after the stress stage; ``side``: the parallel.Branch computing :func:`_side_parts`,
    read when the rest of the decision is computed."""
    res.reading(t)                             # a date before the first reading: the error signals.reading raises
    signals.defensive_tilt(pit, res, t)        # the reading's defensive ranking (memoized), before the join
    scores = factors.current_scores(pit, res.daily["index"], t, with_ic=False, stress_config=res.config)   # once; the sheet omits composite_ic
    if holdings is not None:
        from usecases.trades import rebalance_with_allocation
        trades, alloc = rebalance_with_allocation(pit, holdings, t, limits, steps, tax=tax,
                                                  stress_config=stress_config)
    else:
        trades, alloc = None, optimize_as_of(pit, t, current, limits, steps, stress_config=stress_config,
                                             scores=scores)
    parts = side.result()
    sectors = _part(parts["sectors"])          # the regressions table of signals.sectors_report (the sheet's part)
    alerts = _part(parts["alerts"])
    if parts["validation"] is not None:
        signals.seed_validation(pit, res, parts["validation"])
    rd = signals.reading(pit, t, stress_config)
    hist = res.daily.loc[res.daily["index"].first_valid_index():t]     # from the first reading to D
    daily = hist[["index", "percentile", "change_20d", "regime", "strength", "warning_probability"]].copy()
    daily["percentile"] = daily["percentile"] / 100.0
    pos = len(hist) - 1
    reading = {k: rd[k] for k in ("index", "regime", "strength", "change_20d", "warning_probability")}
    reading["percentile"] = rd["percentile"] / 100.0
    reading["defensive"] = [d["sector"] for d in rd["defensive"]]
    reading["defensive_tilt"] = rd.get("defensive_tilt")                            # prior or estimate (issue 16.8)
    reading["defensive_strength"] = {d["sector"]: d["strength"] for d in rd["defensive"]}
    reading["elevated_threshold"] = res.config.regime.enter[0]
    if (rd.get("tech_selloff") or {}).get("in_progress"):
        reading["selloff_since"] = rd["tech_selloff"]["since"]
    if pos >= 20 and pd.notna(daily["percentile"].iloc[pos - 20]):
        reading["percentile_20d_ago"] = float(daily["percentile"].iloc[pos - 20])

    weights = pd.DataFrame({"current": alloc["current"], "target": alloc["weights"], "benchmark": alloc["benchmark"]})
    weights.index.name = "ticker"
    path = pd.DataFrame(alloc["transition"]).set_index("step")
    transition = path[[c for c in SECTORS if c in path.columns]].copy()
    transition["cost"] = path["cost_bps"]

    score_cols = [c for c in scores.columns if c not in ("composite_equal", "composite_ic", "rank")]
    early = None
    try:
        rep = signals.validation_report(pit, stress_config)
        metrics = {"model": rep["model"], **rep["baselines"]}
        events = pd.DataFrame(rep["events"])
        early = {"metrics": metrics, "events": events, "verdict": f"{rd['warning_procedure']['used']} {rep['verdict']}"}
    except RotationError as exc:             # too little history before D to validate: leave the sheet out
        log.info("early-warning sheet left out: %s", exc)

    cfg = {"limits": limits.to_dict(), "stress": dataclasses.asdict(res.config),
           "transition_steps": steps, "composite": scores.attrs.get("method", "equal"),
           "covariance": alloc["covariance"], "benchmark": "long-only sector replication of SPY (252 sessions)"}
    bt_frame = att_frame = None
    if backtest is not None:
        from usecases.backtest import workbook_frames
        if backtest.returns.index[-1] > t:
            raise ArgumentError("backtest", f"the backtest ends {backtest.returns.index[-1].date()}, after the "
                                f"decision date {t.date()}")
        bt_frame, att_frame = workbook_frames(backtest)
        cfg["backtest"] = {"strategy": backtest.strategy, **{k: str(v) for k, v in backtest.params.items()}}
    now = datetime.now(timezone.utc)
    if holdings is not None:
        inputs = [*inputs, ("holdings", holdings)]
        cfg["trades"] = {k: trades[k] for k in ("tax_settings", "schedule_options", "cost_model")}
    return DecisionReport(
        run_id=f"{t:%Y%m%d}-{uuid.uuid4().hex[:8]}", as_of=t.date(), created_utc=now,
        operator=operator or current_operator(), software_version=software_version(),
        data_label=_data_label(market), config=cfg, inputs=_inputs(market, inputs) + signals.selection_inputs(res), data_rows_sha256=data_digest(pit),
        reading=reading, signals=daily, early_warning=early, sectors=sectors,
        scores=scores[score_cols], weights=weights, transition=transition, backtest=bt_frame, attribution=att_frame,
        **_trade_sheets(trades, holdings),
        risk={"tracking_error": alloc["tracking_error"], "turnover": alloc["turnover"],
              "expected_cost_bps": alloc["expected_cost_bps"], "binding": alloc["binding_text"]},
        alerts=alerts,
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
    had_key = (resolve_keys_dir(keys_dir) / KEY_FILE).exists()
    try:
        return ensure_signer(keys_dir), ""
    except SigningKeyError as exc:
        if not allow_ephemeral or had_key:   # a configured key that cannot be used is an error, even for the demo
            raise
        note = (f"signed with an ephemeral DEMO trial certificate ({exc}); for records set up a key with "
                "`rotation keys init` or `rotation keys import cert.p12`")
        return _ephemeral_signer("Sector Rotation DEMO signer (ephemeral trial certificate)"), note


def export_decision(market: Market, as_of=None, out: Path | None = None, current: pd.Series | None = None,
                    limits: Limits | None = None, keys_dir=None, ledger=None, template=None,
                    allow_ephemeral_key: bool = False, force: bool = False, pdf: bool = False,
                    inputs=(), stress_config=None, backtest=None, holdings=None, tax=None,
                    sheets: dict | None = None) -> dict:
    """Build, write, sign and record the decision workbook; returns path, .p7s, digests, ledger seq, verify.

    ``inputs``: (role, path) files the decision read besides the data (``weights``, ``limits``...), hashed
    on the Audit sheet; the template is added. ``force`` supersedes an existing record; ``pdf`` also
    writes the print areas as a PDF (its SHA-256 in the ledger entry). ``backtest``: an optional
    BacktestResult for the Backtest and Attribution sheets; ``holdings``: a holdings CSV (adds the Trades
    and Execution sheets; its SHA-256 is among the inputs); ``sheets``: extra DecisionReport parts
    computed by other stages (e.g. ``{"scorecard": frame}``)."""
    from workbooks.export import check_target
    if out is not None and not Path(out).is_dir():
        check_target(out, force)          # refuse an occupied target before computing anything
    with paused_gc():               # no result changes; see usecases.gcpause
        return _export(market, as_of, out, current, limits, keys_dir, ledger, template, allow_ephemeral_key,
                       force, pdf, inputs, stress_config, backtest, holdings, tax, sheets)


def _export(market, as_of, out, current, limits, keys_dir, ledger, template, allow_ephemeral_key, force, pdf,
            inputs, stress_config, backtest, holdings, tax, sheets) -> dict:
    from workbooks.keys import operator_identity
    from workbooks.trust import TrustStore

    extra = list(inputs) + ([("template", template)] if template is not None else [])
    report = build_report(market, as_of, current, limits, stress_config=stress_config, backtest=backtest,
                          holdings=holdings, tax=tax, inputs=extra, operator=operator_identity(keys_dir))
    if sheets:
        report = dataclasses.replace(report, **sheets)
    if out is None:
        out = Path.cwd() / f"rotation-decision-{report.as_of:%Y%m%d}.xlsx"
    out = Path(out)
    if out.is_dir():
        out = out / f"rotation-decision-{report.as_of:%Y%m%d}.xlsx"
    signer, note = signer_for(keys_dir, allow_ephemeral_key)
    trust = TrustStore.for_keys(keys_dir)
    if note:          # the ephemeral demo certificate is trusted for this run's own check only
        trust = TrustStore(trust.folder, extra=[signer.certificate])
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    res = export_signed(report, out, signer, led, template, force=force, trust=trust, pdf=pdf)
    return {"path": str(res.path), "p7s": str(res.p7s), "sha256": res.sha256, "content_digest": res.content_digest,
            "superseded": str(res.superseded) if res.superseded else None,
            "pdf": str(res.pdf) if res.pdf else None, "pdf_sha256": res.pdf_sha256,
            "ledger_seq": res.ledger_seq, "ledger": str(led.path), "verify": res.verify, "as_of": report.as_of,
            "run_id": report.run_id, "label": report.data_label, "signer": signer.subject, "note": note,
            "target_weights": report.target_weights(), "inputs": [{"role": r, "path": f, "sha256": h} for r, f, h in report.inputs]}
