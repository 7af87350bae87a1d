"""Honest validation of the early warning against simple baselines, on the same events and days.

Daily metrics use the label "an event starts within horizon_min..horizon_max sessions" on every
session where the label is known and every compared model has a probability (the same rows for all):

- precision = TP/(TP+FP), recall = TP/(TP+FN), accuracy, false_alarm_rate = FP/(FP+TN) (daily),
  brier = mean((p - y)^2), auc = ROC AUC (Mann-Whitney, ties counted one half).
- hit_rate (event level): the share of evaluated events whose first warning in the ``lookback``
  sessions before the start came horizon_min..horizon_max sessions early (``within_window``).

Baselines: walk-forward logistic on VIX alone and on HY OAS alone (same refits, ridge and threshold),
always-warn (p = 1), never-warn (p = 0) and the walk-forward base rate (p = training label frequency).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import DataError, NoDataError
from engine.stress.config import StressConfig
from engine.stress.warning import refit_positions, walk_forward_probability

METRICS = ("hit_rate", "false_alarm_rate", "precision", "recall", "accuracy", "brier", "auc")


def average_ranks(p: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``p`` with ties given their average rank (``scipy.stats.rankdata``'s default, which
    tests/test_validate_ranks.py checks it against; NaN anywhere gives all NaN, as rankdata propagates).
    Written here so the export path does not import scipy.stats (1+ s of CPU at startup)."""
    p = np.asarray(p, dtype=float).ravel()
    if np.isnan(p).any():
        return np.full(p.shape, np.nan)
    order = np.argsort(p, kind="mergesort")
    s = p[order]
    new = np.concatenate([[True], s[1:] != s[:-1]])
    dense = np.cumsum(new)
    count = np.concatenate([np.flatnonzero(new), [len(p)]])
    ranks = np.empty(len(p))
    ranks[order] = 0.5 * (count[dense] + count[dense - 1] + 1)
    return ranks


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC of scores ``p`` for 0/1 labels ``y`` (None when one class is absent)."""
    y = np.asarray(y, dtype=float)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    r = average_ranks(p)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between probability and 0/1 outcome."""
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


def _ratio(a: int, b: int) -> float | None:
    return None if b == 0 else a / b


def daily_metrics(y: np.ndarray, p: np.ndarray, warn: np.ndarray) -> dict:
    """Daily confusion-matrix metrics, Brier and AUC (see module doc); ``warn`` is boolean."""
    y = np.asarray(y, bool)
    warn = np.asarray(warn, bool)
    tp = int((warn & y).sum()); fp = int((warn & ~y).sum())
    fn = int((~warn & y).sum()); tn = int((~warn & ~y).sum())
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
            "accuracy": _ratio(tp + tn, len(y)), "false_alarm_rate": _ratio(fp, fp + tn),
            "brier": brier_score(y, p), "auc": roc_auc(y, p),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n_days": int(len(y))}


def event_warnings(sessions: pd.DatetimeIndex, warn: np.ndarray, events: pd.DataFrame,
                   lookback: int, h_min: int, h_max: int) -> list[dict]:
    """Per event: the first warning in the ``lookback`` sessions before its start, the lead time in
    sessions and whether it fell within h_min..h_max."""
    out = []
    for _, ev in events.iterrows():
        s = sessions.get_loc(ev["start"])
        lo = max(s - lookback, 0)
        hits = np.flatnonzero(warn[lo:s])
        first = lo + hits[0] if len(hits) else None
        lead = None if first is None else int(s - first)
        out.append({"start": ev["start"].date().isoformat(), "end": ev["end"].date().isoformat(),
                    "trigger": ev["trigger"], "from_calm": bool(ev["from_calm"]),
                    "regime_at_start": ev["regime_at_start"],
                    "first_warning": None if first is None else sessions[first].date().isoformat(),
                    "lead_sessions": lead,
                    "within_window": bool(lead is not None and h_min <= lead <= h_max)})
    return out


def _base_rate(label: pd.Series, cfg) -> np.ndarray:
    """Walk-forward training base rate, refit on the same schedule (rows known by the fit date)."""
    y = label.to_numpy(float)
    n = len(y)
    out = np.full(n, np.nan)
    fits = refit_positions(label.index, cfg.refit)
    bounds = np.append(fits, n)
    for i, p in enumerate(fits):
        last = p - cfg.horizon_max
        if last < 0:
            continue
        known = y[: last + 1]
        known = known[~np.isnan(known)]
        if len(known) >= cfg.min_train and known.sum() >= cfg.min_positive:
            out[p:bounds[i + 1]] = known.mean()
    return out


def validate(market, result, config: StressConfig | None = None) -> dict:
    """Validation report of ``result`` (from ``pipeline.compute(market)``) against baselines.

    Returns ``{"model": {...}, "baselines": {"vix", "hy_oas", "always", "never", "base_rate"},
    "events": [...], "verdict": str, "period": {...}, "definition": {...}}``; metric keys ``METRICS``.
    Raises ``NoDataError`` when no session has both a probability and a known label.
    """
    cfg = (config or result.config).warning
    sessions = result.daily.index
    label = result.label
    probs = {"model": result.daily["warning_probability"].to_numpy(float)}
    for name in ("vix", "hy_oas"):
        if name not in market.stress.columns or market.stress[name].notna().sum() == 0:
            raise DataError(f"baseline {name!r} needs the stress series {name!r}, which has no data")
        feat = market.stress[[name]].reindex(sessions).astype(float)
        probs[name] = walk_forward_probability(feat, label, cfg).to_numpy(float)
    probs["base_rate"] = _base_rate(label, cfg)
    y = label.to_numpy(float)
    rows = ~np.isnan(y)
    for p in probs.values():
        rows &= ~np.isnan(p)
    if rows.sum() == 0:
        raise NoDataError("no session has both a warning probability and a known label to validate")
    n = len(sessions)
    probs["always"] = np.ones(n)
    probs["never"] = np.zeros(n)
    first_row, last_row = np.flatnonzero(rows)[[0, -1]]
    ev = result.events
    ev = ev[[first_row + cfg.lookback <= sessions.get_loc(s) <= last_row + cfg.horizon_min for s in ev["start"]]]
    report: dict = {"baselines": {}}
    per_event = {}
    for name, p in probs.items():
        warn = p > cfg.threshold if name not in ("always", "never") else (p > 0.5)
        warn = np.where(np.isnan(p), False, warn)
        m = daily_metrics(y[rows] > 0.5, p[rows], warn[rows])
        evs = event_warnings(sessions, warn, ev, cfg.lookback, cfg.horizon_min, cfg.horizon_max)
        m["hit_rate"] = _ratio(sum(e["within_window"] for e in evs), len(evs))
        calm = [e for e in evs if e["from_calm"]]
        m["hit_rate_from_calm"] = _ratio(sum(e["within_window"] for e in calm), len(calm))
        m["n_events"] = len(evs)
        per_event[name] = evs
        if name == "model":
            report["model"] = m
        else:
            report["baselines"][name] = m
    report["events"] = per_event["model"]
    report["period"] = {"start": sessions[first_row].date().isoformat(),
                        "end": sessions[last_row].date().isoformat(), "n_days": int(rows.sum()),
                        "base_rate": float(np.mean(y[rows]))}
    report["definition"] = {"label": f"an event starts {cfg.horizon_min}-{cfg.horizon_max} sessions ahead",
                            "threshold": cfg.threshold, "lookback": cfg.lookback,
                            "refit": cfg.refit, "ridge": cfg.ridge, "procedure": cfg.procedure,
                            "selected_on": cfg.selected_on or None, "evidence": cfg.evidence or None}
    report["verdict"] = verdict(report)
    if (result.procedure_info or {}).get("status") in ("record", "extended"):     # the research procedure
        from engine.signals_research.reading import procedure_validation

        report["procedure"] = procedure_validation(market, result)
        report["verdict"] = f"{report['procedure']['words']} {verdict(report, 'the procedure')}"
    return report


def verdict(report: dict, subject: str = "the model") -> str:
    """One honest sentence: does the model (``subject``) beat VIX alone, HY OAS alone and the base rate on AUC
    and Brier, and always/never-warn on hit rate and false alarms?"""
    m = report["model"]
    beaten, lost = [], []
    for name in ("vix", "hy_oas", "base_rate"):
        b = report["baselines"][name]
        auc_ok = m["auc"] is not None and (b["auc"] is None or m["auc"] > b["auc"])
        brier_ok = m["brier"] < b["brier"]
        (beaten if auc_ok and brier_ok else lost).append(
            f"{name} (AUC {_f(m['auc'])} vs {_f(b['auc'])}, Brier {_f(m['brier'])} vs {_f(b['brier'])})")
    hits = f"it warned 20-60 sessions ahead of {_f(m['hit_rate'], pct=True)} of {m['n_events']} events"
    if not lost:
        return (f"{subject[0].upper() + subject[1:]} beats every baseline on both ROC AUC and Brier score: {'; '.join(beaten)}; "
                f"{hits} with a daily false-alarm rate of {_f(m['false_alarm_rate'], pct=True)}.")
    head = f"{subject[0].upper() + subject[1:]} does NOT beat " + "; ".join(lost)
    tail = (f"; it does beat {'; '.join(beaten)}" if beaten else "")
    return (f"{head}{tail}. {hits[0].upper() + hits[1:]} (always-warn trivially catches all, with a "
            f"false-alarm rate of 100%), so this is not evidence of a reliable early warning.")


def _f(v, pct: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{100 * v:.0f}%" if pct else f"{v:.3f}"
