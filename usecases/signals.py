"""Signal use cases: the stress reading, its history, validation and the sector table.

One function per question a face can ask; the CLI, the ribbon and the UDFs all call these.
``stress_result`` memoizes the (deterministic) stress computation per market object so a UDF
server computes it once per data version and answers as-of lookups in microseconds.
"""
from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import pandas as pd

from engine.data.model import Market
from engine.dates import parse_as_of, sessions_after
from engine.errors import DataError, RotationError
from engine.stress.config import StressConfig
from engine.stress.events import selloff_status
from engine.stress.external import external_check
from engine.stress.pipeline import StressResult, compute, triggers
from engine.stress.sectors import defensive_ranking, regime_returns, sector_table
from engine.stress.validate import validate
from engine.universe import SECTORS

_results: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()
_rankings: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()
_selections: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()
_record_cache: dict = {}
_validations: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()


def stress_result(market: Market, config: StressConfig | None = None) -> StressResult:
    """The stress stage for ``market`` (memoized per market object, config and selection record: a new
    ``rotation signals research`` record is picked up by the next call)."""
    cfg = config if config is not None else StressConfig.default()      # frozen, hashable, compared by value
    sel = selection_for(market, cfg) if cfg.warning.procedure == "selected" else None
    key = (cfg, sel[1] if sel else None)
    per = _results.setdefault(market, {})
    if key not in per:
        per[key] = compute(market, cfg, selection=sel)
    return per[key]


def selection_for(market: Market, cfg: StressConfig):
    """(record, sha256, file) of the research selection record for ``market`` under ``cfg``, or None when
    there is none (usecases.selection_store); the file is re-read only when it changed on disk."""
    from usecases.selection_store import ENV_SELECTIONS, read_record, record_path

    per = _selections.setdefault(market, {})
    where = ("path", cfg, os.environ.get(ENV_SELECTIONS))
    path = per.get(where)
    if path is None:
        path = per[where] = record_path(market, cfg) or False
    if path is False:
        return None
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        return None
    hit = _record_cache.get(path)        # parsed once per file version for every (point-in-time) market
    if hit is None or hit[0] != stamp:
        got = read_record(path)
        hit = _record_cache[path] = (stamp, None if got is None else (got[0], got[1], str(path)))
    return hit[1]


def defensive_alternatives(market: Market, result: StressResult, as_of=None, top: int = 3) -> list[dict]:
    """The ``top`` sectors ranked only on evidence of beating tech in past stress, known at ``as_of``
    (:mod:`engine.stress.defensive`): sector, name, score (mean forward 60-session return vs XLK from
    sessions in stress), t_stat (Newey-West), ci_low, ci_high (95% block bootstrap), strength
    (strong / weak / none), direction, n, text (one sentence)."""
    from engine.stress.defensive import describe

    try:
        ranking = _ranking(market, result, as_of)
    except RotationError:     # too little history early in the sample: no ranking, the reading still stands
        return []
    out = []
    for r in ranking.head(top).to_dict(orient="records"):
        row = {"sector": r["sector"], "name": SECTORS.get(r["sector"], r["sector"]), "score": float(r["score"]),
               "t_stat": float(r["t_stat"]), "ci_low": r["ci_low"], "ci_high": r["ci_high"],
               "strength": r["strength"], "direction": r["direction"], "n": int(r["n"])}
        out.append({**row, "text": describe(row)})
    return out


def defensive_tilt(market: Market, result: StressResult, as_of=None) -> dict:
    """The allocator's defensive tilt at ``as_of`` (:func:`engine.stress.defensive.tilt_basis`): basis
    ("estimate" when the evidence known at ``as_of`` supports one, else "prior"), size, prior, cap, rule,
    text, evidence, threshold."""
    from engine.stress.defensive import tilt_basis

    try:
        ev = _ranking(market, result, as_of).attrs["evidence"]
    except RotationError:
        ev = None
    return tilt_basis(ev)


def _ranking(market: Market, result: StressResult, as_of=None):
    """``defensive_ranking`` memoized per market object, stress result and session (the export asks for it
    twice on the same point-in-time view: for the reading and for the sector report)."""
    pos = result.position(as_of) if as_of is not None else len(result.daily) - 1
    per = _rankings.setdefault(market, {})
    hit = per.get((id(result), pos))
    if hit is None or hit[0] is not result:
        hit = per[(id(result), pos)] = (result, defensive_ranking(market, result, as_of))
    return hit[1]


def stale_report(market: Market, res: StressResult, as_of: str, requested=None) -> dict:
    """Staleness of a reading: ``stale_sessions`` (sessions between the last session with prices and a
    later requested date), ``stale_inputs`` (index inputs whose last available value is older than the
    reading's session: name, sessions, dropped) and ``notes`` (sentences saying so)."""
    t = parse_as_of(requested)
    behind = sessions_after(market.last, t) if t is not None else 0
    cols = []
    for spec in res.config.index.inputs:
        cols += [spec.name] + ([spec.fallback] if spec.fallback else [])
    limit = res.config.index.max_stale
    stale = market.stale_inputs(as_of, [c for c in dict.fromkeys(cols) if c in market.stress.columns])
    rows = [{"name": k, "sessions": v, "dropped": v > limit} for k, v in sorted(stale.items())]
    notes = []
    if behind:
        notes.append(f"{t.date()} is {behind} session(s) after the last session with prices ({as_of}); "
                     f"this is the reading of {as_of}.")
    dropped = [r["name"] for r in rows if r["dropped"]]
    if dropped:
        notes.append(f"inputs {', '.join(dropped)} have no value for more than {limit} sessions and are left "
                     "out of the index.")
    late = [f"{r['name']} ({r['sessions']})" for r in rows if not r["dropped"]]
    if late:
        notes.append(f"inputs carried forward from an earlier session: {', '.join(late)} session(s) old.")
    return {"stale_sessions": behind, "stale_inputs": rows, "notes": notes}


def reading(market: Market, as_of=None, config: StressConfig | None = None, with_defensive: bool = True) -> dict:
    """The stress reading at ``as_of`` (None: the last session): keys ``as_of, index, percentile,
    regime, strength, change_20d, warning_probability, warning, defensive, defensive_tilt, tech_selloff,
    stale_sessions, stale_inputs, notes, label``. ``defensive`` ranks sectors on evidence only (with its
    strength); ``defensive_tilt`` gives the allocator's tilt: an estimate from the evidence or the documented prior.

    ``warning_probability`` is the chance that a NEW tech selloff starts 20-60 sessions ahead; when
    ``tech_selloff["in_progress"]`` one is already running (since ``tech_selloff["since"]``). A date
    after the last session (not after today) gives the last session's reading with
    ``stale_sessions`` > 0; ``stale_inputs`` lists index inputs not updated on the reading's session."""
    res = stress_result(market, config)
    out: dict[str, Any] = res.reading(as_of)
    out["warning"] = (out["warning_probability"] is not None
                      and out["warning_probability"] > res.config.warning.threshold)
    out["defensive"] = defensive_alternatives(market, res, out["as_of"]) if with_defensive else []
    out["defensive_tilt"] = defensive_tilt(market, res, out["as_of"]) if with_defensive else None
    status = selloff_status(market.prices, res.config.events, out["as_of"])
    out["tech_selloff"] = {**status, "since": status["since"].date().isoformat() if status["since"] is not None else None}
    out.update(stale_report(market, res, out["as_of"], as_of))
    out["label"] = market.label
    note = procedure_note(res, out["as_of"])
    if note["status"] in ("model", "no_record", "config"):      # the logistic model throughout: its own verdict
        note = procedure_note(res, out["as_of"], _validation_verdict(market, res))
    out["warning_procedure"] = note
    return out


RERUN = "run `rotation signals research`"


def procedure_note(res: StressResult, as_of=None, validation: dict | None = None) -> dict:
    """Which procedure produced ``warning_probability`` at ``as_of`` and the evidence, in words: keys
    ``procedure`` (selected / model / a frozen candidate), ``status``, ``candidate`` (the research candidate in
    use, or None), ``refit`` (its refit date), ``sessions_past_research`` / ``stale`` (after the record's end),
    ``record_sha256``, ``used`` (what produced it), ``verdict`` (that and the evidence, sentences; ``validation``
    from :func:`_validation_verdict` adds the original model's) and ``short`` (both in at most 255 characters,
    for a worksheet cell)."""
    wc, info = res.config.warning, res.procedure_info or {}
    st = info.get("status", "model")
    out = {"procedure": wc.procedure, "status": st, "candidate": None, "refit": None, "selected_on": None,
           "sessions_past_research": None, "stale": False, "record_sha256": info.get("sha256")}
    if st == "frozen":
        out.update(candidate=wc.procedure, selected_on=wc.selected_on or None)
        words = (f"warning probability from research candidate {wc.procedure}, frozen by name" +
                 (f" at the nested selection's {wc.selected_on} refit" if wc.selected_on else "") +
                 (f": {wc.evidence}" if wc.evidence else "."))
        return {**out, "used": words, "verdict": words, "short": _cell(f"frozen research candidate {wc.procedure}")}
    if st in ("model", "no_record", "config", "mismatch") and not (st == "mismatch" and
                                                                    res.position(as_of) < info["matched"]):
        why = {"model": "([warning] procedure = \"model\")",
               "no_record": f"because there is no research selection on record for this data; {RERUN}",
               "config": f"because the research selection on record ({info.get('file')}) was made under other "
                         f"settings; {RERUN}",
               "mismatch": f"because the data differ from the research selection record's from "
                           f"{info.get('mismatch_at')} on (revised or other data); {RERUN}"}[st]
        words = f"warning probability from the original stress-index logistic model {why}."
        brief = {"model": "original logistic model", "no_record": "original logistic model (no research selection "
                 "on record for this data: run `rotation signals research`)",
                 "config": "original logistic model (the research record has other settings: rerun research)",
                 "mismatch": f"original logistic model (data differ from the research record from "
                             f"{info.get('mismatch_at')})"}[st]
        return {**out, "used": words, "verdict": words + (f" {validation['words']}" if validation else ""),
                "short": _cell(brief + (f"; {validation['short']}" if validation else ""))}
    return {**out, **_selected_words(res, info, as_of)}


def _selected_words(res: StressResult, info: dict, as_of) -> dict:
    """The words of a reading resting on the selection record (see :func:`procedure_note`)."""
    pos = res.position(as_of)
    idx = res.daily.index
    sched = info["schedule"]
    first = sched[0]["position"] if sched else len(idx)     # record positions = this market's (the chain matched)
    head = f"warning probability from the research procedure (nested walk-forward selection among " \
           f"{info['pool_size']} candidates, record {info['sha256'][:12]}, through {info['last']})"
    tail = f" Evidence: {info['verdict']}" if info.get("verdict") else ""
    if pos < first:
        when = f"before its first refit ({sched[0]['date']})" if sched else "before any refit"
        used = f"{head}: {when} the procedure makes no prediction yet."
        return {"used": used, "verdict": used + tail, "short": _cell(f"research procedure: no prediction {when}"
                                                                      f"; {_evidence_short(info)}")}
    rows = [r for r in sched if r["position"] <= pos]
    r = rows[-1]
    out = {"candidate": r["candidate"], "refit": r["date"], "selected_on": r["date"]}
    if r["score"] is None:
        pick = (f"at its {r['date']} refit no candidate had {info.get('min_oos')} scored out-of-sample rows yet, "
                f"so the procedure's own rule applies: its default {r['candidate']}")
    else:
        pick = f"{r['candidate']}, chosen at the {r['date']} refit on its past out-of-sample AUC {r['score']:.3f}"
    words = f"{head}: {pick}."
    if pos >= info["record_sessions"]:
        past = pos - sched[-1]["position"]
        stale = past >= info["step"]
        out.update(sessions_past_research=int(past), stale=bool(stale))
        words += (f" This session is {past} sessions past the last research refit ({sched[-1]['date']}); "
                  f"{sched[-1]['candidate']} is refitted walk-forward on data to this session")
        words += (f"; STALE: the next scheduled refit (every {info['step']} sessions) has passed without "
                  f"re-selection; {RERUN}." if stale else ".")
    brief = f"research procedure: {r['candidate']} (refit {r['date']}" + \
            (")" if r["score"] is None else f", past AUC {r['score']:.3f})")
    if out.get("sessions_past_research") is not None:
        brief += f", {out['sessions_past_research']} sessions past research" + (", STALE" if out["stale"] else "")
    return {**out, "used": words, "verdict": words + tail, "short": _cell(f"{brief}; {_evidence_short(info)}")}


def _evidence_short(info: dict) -> str:
    """'out of sample AUC 0.454 vs VIX alone 0.596: worse than VIX alone' from the record."""
    m = (info.get("metrics") or {}).get("auc", {}).get("value")
    v = (info.get("beats") or {}).get("only:vix")
    word = {"PASS": "beats", "FAIL": "worse than", "INCONCLUSIVE": "not distinguishable from"}.get(v, "vs")
    return f"out of sample AUC {_num(m)}, {word} VIX alone"


def _cell(text: str) -> str:
    """At most 255 characters (an Excel cell's string limit for a UDF result)."""
    return text if len(text) <= 255 else text[:252] + "..."


def selection_inputs(res: StressResult) -> list[tuple[str, str, str]]:
    """[("selection record", file, SHA-256)] of the research record ``res``'s warning rests on (the bytes
    read, not re-read), or [] when it rests on none: the signed workbook lists it among its inputs."""
    info = res.procedure_info or {}
    if info.get("status") not in ("record", "extended", "mismatch"):
        return []
    return [("selection record", str(Path(info["file"]).resolve()), info["sha256"])]


def bond_stress_value(market: Market, as_of=None, config: StressConfig | None = None) -> float:
    """The composite bond stress index at ``as_of`` (what ``=BOND_STRESS()`` returns)."""
    return stress_result(market, config).reading(as_of)["index"]


def history(market: Market, start=None, end=None, config: StressConfig | None = None) -> pd.DataFrame:
    """Daily signal series between ``start`` and ``end`` with the reading's columns (ArgumentError for
    a bad date or ``start`` after ``end``)."""
    from engine.dates import parse_range

    start, end = parse_range(start, end)
    daily = stress_result(market, config).history(start, end)
    return daily[["index", "percentile", "regime", "strength", "change_20d", "warning_probability"]]


def _validated(market: Market, res: StressResult) -> dict:
    """``validate(market, res)``, computed once per stress result (a reading's verdict and the validation
    report of the same export both need it); a shallow copy, so callers may add keys. A validation
    computed elsewhere (:func:`seed_validation`) is used as if computed here, its error raised again."""
    per = _validations.setdefault(market, {})
    hit = per.get(id(res))
    if hit is None or hit[0] is not res:
        hit = per[id(res)] = (res, validate(market, res))
    if isinstance(hit[1], RotationError):
        raise hit[1]
    return dict(hit[1])


def validation_outcome(market: Market, res: StressResult):
    """``validate(market, res)``, or the RotationError it raises (returned, not raised): what
    :func:`seed_validation` takes, e.g. from another process (usecases.parallel)."""
    try:
        return validate(market, res)
    except RotationError as exc:
        return exc


def needs_validation(res: StressResult) -> bool:
    """Whether a reading or validation report of ``res`` validates it (not when the data differ from the
    selection record's: that report is refused first and the reading names the mismatch)."""
    return (res.procedure_info or {}).get("status") != "mismatch"


def seed_validation(market: Market, res: StressResult, outcome) -> None:
    """Store :func:`validation_outcome` of (``market``, ``res``) computed elsewhere, for :func:`_validated`."""
    _validations.setdefault(market, {})[id(res)] = (res, outcome)


def _validation_verdict(market: Market, res: StressResult) -> dict | None:
    """``{"words": "Out of sample through <date>: <validate's verdict>", "short": one clause}`` for ``res``,
    None without a validation."""
    try:
        rep = _validated(market, res)
    except RotationError:
        return None
    m, v = rep["model"]["auc"], rep["baselines"]["vix"]["auc"]
    beat = m is not None and v is not None and m > v
    return {"words": f"Out of sample through {rep['period']['end']}: {rep['verdict']}",
            "short": f"out of sample AUC {_num(m)} vs VIX alone {_num(v)}: "
                     f"{'beats' if beat else 'does not beat'} VIX alone"}


def _num(v) -> str:
    return "n/a" if v is None or v != v else f"{v:.3f}"


def validation_report(market: Market, config: StressConfig | None = None) -> dict:
    """Early-warning validation against baselines, plus the external check against STLFSI4."""
    res = stress_result(market, config)
    info = res.procedure_info or {}
    if info.get("status") == "mismatch":
        raise DataError(f"the data differ from the research selection record's ({info['file']}) from "
                        f"{info['mismatch_at']} on, so the procedure the readings use cannot be validated on them; "
                        f"{RERUN} (or set [warning] procedure = \"model\")")
    rep = _validated(market, res)
    rep["warning_procedure"] = procedure_note(res)
    if "stlfsi4" in market.reference.columns and market.reference["stlfsi4"].notna().any():
        rep["external_check"] = external_check(res, market.reference)
    rep["label"] = market.label
    return rep


def sectors_report(market: Market, config: StressConfig | None = None) -> dict:
    """Stress-to-sector regressions (HAC t-stats), average excess returns by regime, and the ranking."""
    res = stress_result(market, config)
    table = sector_table(market, res)
    by_regime = regime_returns(market, res)
    return {"label": market.label, "note": table.attrs.get("note", ""),
            "regressions": table.reset_index().to_dict(orient="records"),
            "by_regime": by_regime.reset_index().rename(columns={"index": "sector"}).to_dict(orient="records"),
            "defensive": defensive_alternatives(market, res, None, top=len(SECTORS)),
            "defensive_tilt": defensive_tilt(market, res, None)}


def trigger_list(market: Market, config: StressConfig | None = None) -> pd.DataFrame:
    """Dated rebalancing triggers (regime changes, strength moves) with reasons."""
    return triggers(stress_result(market, config))
