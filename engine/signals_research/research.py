"""The research table: for every target, the nested walk-forward procedure and the baselines, each
with out-of-sample metrics and intervals, and the verdicts computed from the paired differences."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.signals_research.evaluate import evaluate, paired_difference
from engine.signals_research.models import Candidate, default_pool
from engine.signals_research.walkforward import candidate_predictions, walk_forward
from engine.stats.verdict import verdict

BASELINES = ("vix", "hy_oas")


def _const_rows(y, base, binary, horizon, rc):
    """always (1), never (0) and the training base rate, as probabilities."""
    out = {}
    for name, p in (("always", np.ones_like(y)), ("never", np.zeros_like(y)), ("base_rate", base)):
        out[name] = evaluate(np.where(np.isfinite(base), p, np.nan), y, binary, horizon, base, rc.reps)
    return out


def research_target(x: pd.DataFrame, y: pd.Series, horizon: int, binary: bool, rc) -> dict:
    """One target: the procedure's and the baselines' metrics, the differences and the verdicts."""
    sets = {k: getattr(rc, k) for k in ("credit", "curve", "stress", "broad") if getattr(rc, k)}
    pool = default_pool(rc.candidates, sets, hgb=rc.hgb, hmm=tuple(k for k in rc.hmm if k in sets))   # = research_pool
    kw = dict(step=rc.step, min_train=rc.min_train, min_positive=rc.min_positive, ridge=rc.ridge)
    wf = walk_forward(x, y, horizon, binary, pool, rc.default, min_oos=rc.min_oos, **kw)
    bl, _ = baseline_predictions(x, y, horizon, binary, rc)
    extra = {c.name: wf.pred[c.name] for c in pool if c.model.startswith("hmm")}   # the traditional regime model
    rows, diffs, verdicts = judge(wf.procedure, wf.base, bl, y, binary, horizon, rc, extra)
    counts = pd.Series([c for _, c in wf.chosen]).value_counts()
    return {"horizon": horizon, "binary": binary, "metrics": rows, "difference_vs": diffs,
            "beats": verdicts, "candidates_tried": wf.tried, "pool": [c.name for c in pool], "refits": len(wf.chosen),
            "chosen_last": wf.chosen[-1][1] if wf.chosen else None,
            "chosen_last_on": wf.chosen[-1][0].date().isoformat() if wf.chosen else None,
            "chosen_counts": {k: int(v) for k, v in counts.items()},
            "schedule": [{"date": d.date().isoformat(), "position": int(p), "candidate": c, "score": sc}
                         for (d, c), p, sc in zip(wf.chosen, wf.refits, wf.scores)],
            "default": rc.default, "step": rc.step, "min_oos": rc.min_oos,
            "oos_from": _first(wf.procedure), "procedure_series": wf.procedure, "base_series": wf.base,
            "baseline_series": bl}


def baseline_predictions(x: pd.DataFrame, y: pd.Series, horizon: int, binary: bool, rc):
    """(the VIX-only and HY-only rules fitted walk-forward on the research schedule, columns ``only:vix`` and
    ``only:hy_oas``; the training base rate per session on that schedule)."""
    kw = dict(step=rc.step, min_train=rc.min_train, min_positive=rc.min_positive, ridge=rc.ridge)
    bl_pool = [Candidate(f"only:{b}", "rule", (b,)) for b in BASELINES if b in x.columns]
    pred, base, _ = candidate_predictions(x, y, horizon, binary, bl_pool, **kw)
    return pred, base


def target_words(name: str, r: dict) -> str:
    """One sentence: the procedure's out-of-sample AUC / rank IC on target ``name`` and whether it beats VIX
    alone and HY alone (``r``: ``metrics``, ``beats``, ``difference_vs``, ``binary``), computed from the intervals."""
    m = "AUC" if r["binary"] else "rank IC"
    pv = r["metrics"]["procedure"].get("auc" if r["binary"] else "rank_ic", {}).get("value")
    bits = []
    for b, v in r["beats"].items():
        d = r["difference_vs"][b]
        word = {"PASS": "beats", "FAIL": "is worse than", "INCONCLUSIVE": "is not distinguishable from"}[v]
        iv = "" if d["value"] is None else f" (difference {d['value']:+.3f}, 95% CI {_f(d['ci_low'])} to {_f(d['ci_high'])})"
        bits.append(f"{word} {b.split(':')[1].upper()} alone{iv}")
    pv_s = "n/a" if pv is None or pv != pv else f"{pv:.3f}"
    return f"{name}: out-of-sample {m} {pv_s}; the procedure " + "; ".join(bits) + "."


def _f(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:+.3f}"


def judge(proc: pd.Series, base: pd.Series, bl: pd.DataFrame, y: pd.Series, binary: bool, horizon: int, rc,
          extra: dict | None = None) -> tuple[dict, dict, dict]:
    """(metric rows, paired differences vs each baseline, verdicts) of the procedure's out-of-sample series
    ``proc`` beside the baselines ``bl``, the constant rules and ``extra`` series (shown, not compared)."""
    yv, pv, bv = y.to_numpy(float), proc.to_numpy(float), base.to_numpy(float)
    rows = {"procedure": evaluate(pv, yv, binary, horizon, bv, rc.reps)}
    for c in bl.columns:
        rows[c] = evaluate(bl[c].to_numpy(), yv, binary, horizon, bv, rc.reps)
    for name, s in (extra or {}).items():
        rows[name] = evaluate(s.to_numpy(float), yv, binary, horizon, bv, rc.reps)
    if binary:
        rows.update(_const_rows(yv, bv, binary, horizon, rc))
    block = rows["procedure"].get("block") or horizon
    diffs, verdicts = {}, {}
    for c in bl.columns:
        d = paired_difference(pv, bl[c].to_numpy(), yv, binary, block, rc.reps)
        diffs[c] = d
        verdicts[c] = verdict(d["ci_low"], d["ci_high"], 0.0)
    return rows, diffs, verdicts


def _first(s: pd.Series):
    v = s.dropna()
    return v.index[0].date().isoformat() if len(v) else None


def by_decade(pred: pd.Series, y: pd.Series, binary: bool) -> dict:
    """Point metric (AUC or rank IC) of ``pred`` per calendar decade (no interval: few rows each)."""
    years = pd.Series((pred.index.year // 10) * 10, index=pred.index).map(lambda d: f"{d}s")
    return by_group(pred, y, binary, years)


def by_group(pred: pd.Series, y: pd.Series, binary: bool, groups: pd.Series) -> dict:
    """Point metric (AUC or rank IC) of ``pred`` per value of ``groups`` (e.g. the stress regime at t),
    for groups with at least 100 scored rows."""
    from engine.signals_research.evaluate import auc, rank_ic

    out = {}
    df = pd.DataFrame({"p": pred, "y": y, "g": groups.reindex(pred.index)}).dropna()
    for dec, g in df.groupby("g"):
        if len(g) >= 100:
            m = auc(g["p"].to_numpy(), g["y"].to_numpy()) if binary else rank_ic(g["p"].to_numpy(), g["y"].to_numpy())
            out[str(dec)] = None if m != m else float(m)
    return out


def lead_times(flag: pd.Series, starts, lookback: int = 60, lo: int = 20, hi: int = 60) -> dict:
    """Per event start: the first flagged session among the ``lookback`` sessions before it (lead in
    sessions, None when none or when the flag is undefined there) and how many leads fall in [lo, hi]."""
    idx = flag.index
    f = flag.to_numpy(float)
    rows = []
    for s in starts:
        pos = int(idx.searchsorted(pd.Timestamp(s)))
        if pos >= len(idx) or pos - lookback < 0 or not np.isfinite(f[pos - lookback: pos]).any():
            continue
        w = np.flatnonzero(f[pos - lookback: pos] == 1)
        lead = int(lookback - w[0]) if len(w) else None
        rows.append({"start": idx[pos].date().isoformat(), "lead_sessions": lead})
    leads = [r["lead_sessions"] for r in rows if r["lead_sessions"] is not None]
    return {"events": rows, "scored": len(rows), "within": int(sum(lo <= v <= hi for v in leads)),
            "window": [lo, hi]}


def by_group_ci(pred: pd.Series, y: pd.Series, binary: bool, groups: pd.Series, block: int, reps: int = 200,
                seed: int = 0) -> dict:
    """As :func:`by_group`, each group's AUC or rank IC with a stationary block-bootstrap 95% interval
    (rows of the group resampled in blocks of mean ``block``, at least the horizon) and its row count."""
    from engine.signals_research.evaluate import auc, rank_ic
    from engine.stats.bootstrap import stationary_ci

    m = auc if binary else rank_ic
    out = {}
    df = pd.DataFrame({"p": pred, "y": y, "g": groups.reindex(pred.index)}).dropna()
    for key, g in df.groupby("g"):
        if len(g) < 100:
            continue
        r = stationary_ci(g[["p", "y"]].to_numpy(float), lambda a: m(a[:, 0], a[:, 1]), block=block, reps=reps,
                          seed=seed)
        v = r["value"]
        out[str(key)] = {"value": None if v != v else float(v), "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "n": int(len(g))}
    return out


def decades(index: pd.DatetimeIndex) -> pd.Series:
    """'1990s', '2000s', ... per session."""
    return pd.Series((index.year // 10) * 10, index=index).map(lambda d: f"{d}s")


def lead_distribution(lt: dict, reps: int = 1000, seed: int = 0, lo: int = 20, hi: int = 60) -> dict:
    """Distribution of the leads of :func:`lead_times` over its de-duplicated events: the leads, their
    quartiles, and the share of events warned at all and warned ``lo``-``hi`` sessions ahead, each share with
    a bootstrap interval resampling events (block 1: events at least 60 quiet sessions apart)."""
    from engine.stats.bootstrap import stationary_ci

    leads = [e["lead_sessions"] for e in lt["events"]]
    warned = np.array([v is not None for v in leads], float)
    within = np.array([v is not None and lo <= v <= hi for v in leads], float)
    got = np.array([v for v in leads if v is not None], float)
    out = {"events": len(leads), "leads": leads, "warned": int(warned.sum()), "within": int(within.sum()),
           "median": float(np.median(got)) if len(got) else None,
           "q25": float(np.quantile(got, 0.25)) if len(got) else None,
           "q75": float(np.quantile(got, 0.75)) if len(got) else None}
    for k, a in (("share_warned", warned), ("share_within", within)):
        if len(a) >= 2:
            r = stationary_ci(a, np.mean, block=1, reps=reps, seed=seed)
            out[k] = {"value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}
        else:
            out[k] = {"value": float(a.mean()) if len(a) else None, "ci_low": None, "ci_high": None}
    return out
