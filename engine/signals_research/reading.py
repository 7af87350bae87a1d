"""The warning probability of the research procedure for a reading, from a selection record
(:mod:`engine.signals_research.selection`), and what it rests on (``info``) for the words.

- t <= the record's last session and the market's rows up to t have the record's chain: the record's value;
- t after it (rows up to its end all matching): the candidate chosen at the record's last refit, fitted
  walk-forward on data <= t on the research's refit schedule (one candidate: cheap);
- rows differing at or before the record's end, from session m: positions >= m use the fallback (the
  original logistic model) and ``info["status"] == "mismatch"`` says from when;
- no record, or one made under another configuration: the fallback throughout (``no_record`` / ``config``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.signals_research.selection import config_digest, matched_rows


def _candidate(rec: dict, name: str, cfg):
    from engine.signals_research.models import default_pool

    rc = cfg.research
    sets = {k: getattr(rc, k) for k in ("credit", "curve", "stress", "broad") if getattr(rc, k)}
    pool = {c.name: c for c in default_pool(rc.candidates, sets, hgb=rc.hgb, hmm=tuple(k for k in rc.hmm if k in sets))}
    return pool[name]


def extension(market, daily, label, cfg, rec: dict) -> pd.Series:
    """The record's last choice refitted walk-forward on all of ``market`` (as ``rotation signals research``
    fits every candidate: same signals, label, schedule and settings)."""
    from engine.signals_research.candidates import candidate_signals
    from engine.signals_research.walkforward import candidate_predictions

    rc = cfg.research
    cand = _candidate(rec, rec["schedule"][-1]["candidate"], cfg)
    x = candidate_signals(market.stress, market.prices, daily, cand.features, zwindow=rc.zscore_window)
    pred, _, _ = candidate_predictions(x, label.astype(float), rec["horizon"], True, [cand], step=rc.step,
                                       min_train=rc.min_train, min_positive=rc.min_positive, ridge=rc.ridge)
    return pred[cand.name]


def selected_probability(market, daily, label, cfg, selection, fallback) -> tuple[pd.Series, dict]:
    """(probability per session, info). ``selection``: (record, sha256, file) or None; ``fallback()``: the
    original model's probabilities (a Series on the sessions), computed only when needed."""
    idx = market.prices.index
    n = len(idx)
    if selection is None:
        return fallback(), {"status": "no_record"}
    rec, sha, where = selection
    info = {"status": "record", "sha256": sha, "file": where, "first": rec["sessions"][0],
            "last": rec["sessions"][-1], "schedule": rec["schedule"], "pool_size": len(rec["pool"]),
            "default": rec.get("default"), "step": rec["step"], "min_oos": rec.get("min_oos"),
            "metrics": rec.get("metrics"), "verdict": rec.get("verdict"), "record_sessions": len(rec["chain"]),
            "horizon": rec["horizon"], "beats": rec.get("beats")}
    if rec["config_sha256"] != config_digest(cfg):
        return fallback(), {**info, "status": "config"}
    big = len(rec["chain"])
    m = matched_rows(rec, market)
    prob = np.full(n, np.nan)
    prob[:m] = np.array(rec["procedure"][:m], dtype=float)
    if m < min(n, big):
        prob[m:] = fallback().to_numpy(float)[m:]
        info.update(status="mismatch", matched=m, mismatch_at=idx[m].date().isoformat())
    elif n > big and rec["schedule"]:
        prob[big:] = extension(market, daily, label, cfg, rec).to_numpy(float)[big:]
        info["status"] = "extended"
    return pd.Series(prob, index=idx, name="warning_probability"), info


def procedure_validation(market, result) -> dict:
    """The research table's rows for the procedure the readings use (``result``'s warning probabilities on
    the event label) beside VIX alone and HY alone on the research schedule, the constant rules, the paired
    differences, verdicts and ``words`` (the same numbers as ``rotation signals research``'s event target on
    the same data and record)."""
    from engine.signals_research.candidates import candidate_signals
    from engine.signals_research.research import BASELINES, baseline_predictions, judge, target_words

    rc = result.config.research
    h = result.procedure_info.get("horizon", 60)
    x = candidate_signals(market.stress, market.prices, result.daily, BASELINES, zwindow=rc.zscore_window)
    y = result.label.astype(float)
    bl, base = baseline_predictions(x, y, h, True, rc)
    rows, diffs, verdicts = judge(result.daily["warning_probability"], base, bl, y, True, h, rc)
    p = result.daily["warning_probability"].dropna()
    r = {"binary": True, "horizon": h, "metrics": rows, "difference_vs": diffs, "beats": verdicts,
         "oos_from": p.index[0].date().isoformat() if len(p) else None}
    return {**r, "words": target_words("event", r)}
