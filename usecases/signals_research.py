"""`rotation signals research`: does the bond market warn about tech, and how far does honest research go?"""
from __future__ import annotations

import numpy as np

from engine.data.model import Market
from engine.errors import ArgumentError
from engine.signals_research.candidates import candidate_signals
from engine.signals_research.research import (BASELINES, by_decade, by_group, by_group_ci, decades, lead_distribution,
                                              lead_times, research_target)
from engine.signals_research.targets import targets
from engine.stress.config import StressConfig
from usecases.signals import stress_result


def research_inputs(market: Market, config: StressConfig | None = None):
    """(candidate signals frame, targets frame, horizons, binary flags) for ``market``."""
    cfg = config or StressConfig.default()
    res = stress_result(market, cfg)
    rc = cfg.research
    names = list(dict.fromkeys(list(rc.candidates) + list(BASELINES)))
    x = candidate_signals(market.stress, market.prices, res.daily, names, zwindow=rc.zscore_window)
    y, hor, binary = targets(market.prices, res.label, rc.horizons, rc.underperformance)
    return x, y, hor, binary


def target_names(cfg: StressConfig) -> list[str]:
    """The research targets' names for ``cfg``."""
    return [f"{k}_{h}" for h in cfg.research.horizons for k in ("rel_spy", "rel_def")] + ["major_under", "event"]


def research_pool(cfg: StressConfig | None = None):
    """The candidate pool of every target for ``cfg`` (what the nested selection chooses from)."""
    from engine.signals_research.models import default_pool

    rc = (cfg or StressConfig.default()).research
    sets = {k: getattr(rc, k) for k in ("credit", "curve", "stress", "broad") if getattr(rc, k)}
    return default_pool(rc.candidates, sets, hgb=rc.hgb, hmm=tuple(k for k in rc.hmm if k in sets))


def candidates_tried(cfg: StressConfig | None = None) -> int:
    """How many candidates the signal research tries in all: the pool's size times the number of targets
    (equal to ``research(...)["candidates_tried"]`` over every target, known without running it)."""
    cfg = cfg or StressConfig.default()
    return len(research_pool(cfg)) * len(target_names(cfg))


def research(market: Market, config: StressConfig | None = None, only: list[str] | None = None,
             keep_record: bool = False) -> dict:
    """Every target's walk-forward procedure beside the baselines. Returns ``{"targets": {name: ...},
    "candidates_tried", "verdict", "notes"}`` (see ``engine.signals_research.research.research_target``);
    with ``keep_record`` and the event target run, also ``"selection_record"`` (the record readings use,
    :mod:`engine.signals_research.selection`; save it with :func:`save_selection`)."""
    cfg = config or StressConfig.default()
    names = target_names(cfg)
    bad = sorted(set(only or ()) - set(names))
    if bad:
        raise ArgumentError("--target", f"unknown targets {bad}; expected some of {names}")
    x, y, hor, binary = research_inputs(market, cfg)
    regime = stress_result(market, cfg).daily["regime"]
    out, rec = {}, None
    for name in y.columns:
        if only and name not in only:
            continue
        r = research_target(x, y[name], hor[name], binary[name], cfg.research)
        if keep_record and name == "event":
            rec = _record(market, cfg, r)
        out[name] = _breakdowns(r, y[name], binary[name], regime, market, cfg)
    tried = sum(r["candidates_tried"] for r in out.values())
    rep = {"from": x.index[0].date().isoformat(), "to": x.index[-1].date().isoformat(), "targets": out,
           "candidates_tried": tried, "verdict": verdict_words(out)}
    if rec is not None:
        rec["verdict"] = verdict_words({"event": out["event"]})
        rep["selection_record"] = rec
    return rep


def _record(market: Market, cfg: StressConfig, r: dict) -> dict:
    from datetime import datetime, timezone

    from engine.signals_research.selection import make_record

    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return make_record(market, cfg, r, r["procedure_series"], now)


def _breakdowns(r: dict, y, binary: bool, regime, market: Market, cfg: StressConfig) -> dict:
    """By decade and by regime (point values under the old keys, with intervals under ``*_ci``) and, on
    the event target, the lead times of the procedure and of the VIX and HY baselines with their distribution."""
    proc, base, bl = r.pop("procedure_series"), r.pop("base_series"), r.pop("baseline_series")
    block = (r["metrics"]["procedure"].get("block") or r["horizon"])
    reps = cfg.research.reps
    r["by_decade"] = by_decade(proc, y, binary)
    r["by_regime"] = by_group(proc, y, binary, regime)
    r["by_decade_ci"] = by_group_ci(proc, y, binary, decades(proc.index), block, reps)
    r["by_regime_ci"] = by_group_ci(proc, y, binary, regime, block, reps)
    if y.name == "event":
        starts = stress_result(market, cfg).events["start"]
        r["lead_times"] = lead_times(_flag(proc, base), starts)
        r["lead_distribution"] = {"procedure": lead_distribution(r["lead_times"])}
        for c in bl.columns:
            r["lead_distribution"][c] = lead_distribution(lead_times(_flag(bl[c], base), starts))
    return r


def _flag(pred, base):
    """A warning: the prediction above the training base rate known at the refit."""
    return (pred > base).astype(float).where(pred.notna() & base.notna())


def verdict_words(out: dict) -> str:
    """One sentence per target saying whether the procedure beats VIX alone and HY alone (computed)."""
    from engine.signals_research.research import target_words

    return " ".join(target_words(name, r) for name, r in out.items())


def _f(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:+.3f}"


MONEY_RUNS = ("rotation", "rotation-nosignal", "hy-rule", "hy-rule-nosignal")


def signal_money(market: Market, reps: int = 500, **params) -> dict:
    """The signal's value in money: the information ratio of ``rotation`` against ``rotation-nosignal``
    (same allocator, limits, costs, dates; daily active returns, annualised), the HY rule's against its
    own base (``hy-rule`` vs ``hy-rule-nosignal``, engine/backtest/hy_rule.py), and the difference of the two
    IRs, each with a stationary block-bootstrap interval (the four return series resampled together, one
    mean block) and a computed verdict (PASS: the whole interval above 0). Keys: ``information_ratio_vs_nosignal,
    verdict, words`` (the product's signal), ``hy_rule`` and ``vs_hy_rule`` (each ``{..., verdict, words}``),
    ``from, to, sessions``."""
    import pandas as pd

    from engine.stats.bootstrap import block_length, stationary_ci
    from engine.stats.story import information_ratio as ir
    from engine.stats.verdict import verdict
    from usecases.backtest import run_backtest

    rets = {s: run_backtest(market, s, **params).returns for s in MONEY_RUNS}
    frame = pd.concat([rets[s] for s in MONEY_RUNS], axis=1).dropna()
    d = frame.to_numpy(float)
    b = block_length(d)
    kw = dict(block=b, reps=reps)
    ci = stationary_ci(d, lambda x: ir(x[:, 0], x[:, 1]), **kw)
    hy = stationary_ci(d, lambda x: ir(x[:, 2], x[:, 3]), **kw)
    diff = stationary_ci(d, lambda x: ir(x[:, 0], x[:, 1]) - ir(x[:, 2], x[:, 3]), **kw)
    v, vh, vd = (verdict(c["ci_low"], c["ci_high"], 0.0) for c in (ci, hy, diff))
    words = {"PASS": "adds to", "FAIL": "subtracts from", "INCONCLUSIVE": "is not distinguishable from zero in"}
    beat = {"PASS": "beats", "FAIL": "does not beat (it is measurably worse than)",
            "INCONCLUSIVE": "does not beat (it is not distinguishable from)"}[vd]
    return {"information_ratio_vs_nosignal": ci, "verdict": v,
            "words": f"the bond-stress signal {words[v]} the rotation's risk-adjusted return: information ratio "
                     f"{ci['value']:.2f} against rotation-nosignal (95% CI {_f(ci['ci_low'])} to {_f(ci['ci_high'])}).",
            "hy_rule": {"information_ratio_vs_base": hy, "verdict": vh,
                        "words": f"the HY rule {words[vh]} its base (the benchmark replication, same costs): information "
                                 f"ratio {hy['value']:.2f} (95% CI {_f(hy['ci_low'])} to {_f(hy['ci_high'])})."},
            "vs_hy_rule": {"ir_difference": diff, "verdict": vd,
                           "words": f"the product {beat} the HY rule: IR of rotation vs rotation-nosignal minus IR of "
                                    f"hy-rule vs its base {diff['value']:+.2f} (95% CI {_f(diff['ci_low'])} to "
                                    f"{_f(diff['ci_high'])})."},
            "from": str(frame.index[0].date()), "to": str(frame.index[-1].date()), "sessions": int(len(d))}
