"""The success-metrics scorecard: each promise of the PM's story measured out of sample, with a
stationary-block-bootstrap interval, its target and a computed verdict.

Out of sample means walk-forward: the warning probability at t comes from fits made on labels known
before t (engine.stress.warning), and the `rotation` backtest refits its models inside the loop on
past data only (usecases.backtest). Verdicts come from ``engine.stats.verdict``: PASS when the whole
interval is beyond the target, FAIL when the whole interval falls short, INCONCLUSIVE otherwise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.stats import story
from engine.stats.bootstrap import DEFAULT_LEVEL, stationary_ci
from engine.stats.verdict import verdict

H_MIN, H_MAX = 20, 60
TARGETS = {   # name: (target, higher_is_better, definition)
    "early_warning": (0.5, True, "Share of de-duplicated major tech selloffs (XLK -15% from its 60-session high, or "
                      "8% behind SPY over 40 sessions, 60 quiet sessions apart) whose first warning came 20-60 "
                      "sessions before the start; the target is more than half."),
    "alpha_12m": (0.025, True, "Mean over every 12-month (252-session) window of the rotation backtest's compounded "
                  "return minus SPY's."),
    "tracking_error_transitions": (0.05, False, "Annualised tracking error of the rotation backtest, each rebalance "
                                   "executed as a multi-step transition (--steps auto, as `rotation trades` plans "
                                   "it), against its benchmark on the sessions from the first to the last step."),
    "accuracy": (0.75, True, "Balanced accuracy of the daily warning (probability above the threshold) at predicting "
                 "that a major tech selloff starts 20-60 sessions ahead: the mean of the hit rate on selloff-ahead "
                 "days and the correct-rejection rate on the others (0.5 for any constant answer)."),
    "information_ratio": (1.8, True, "Annualised mean daily active return of the rotation backtest over SPY divided by "
                          "its annualised tracking error."),
}
VS_NOSIGNAL = {
    "alpha_12m_vs_nosignal": (0.025, True, "As alpha_12m, against rotation-nosignal (same allocator and limits, stress "
                              "inputs neutralised): what the bond-stress signal itself adds."),
    "information_ratio_vs_nosignal": (1.8, True, "As information_ratio, against rotation-nosignal."),
}


def _row(name: str, spec: tuple, ci: dict | None, note: str = "", **extra) -> dict:
    target, higher, definition = spec
    lo, hi = (ci["ci_low"], ci["ci_high"]) if ci else (None, None)
    return {"name": name, "definition": definition, "value": ci["value"] if ci else None, "ci_low": lo,
            "ci_high": hi, "target": target, "higher_is_better": higher, "verdict": verdict(lo, hi, target, higher),
            "interval": ci["method"] if ci else None, "note": note, **extra}


def _window_rows(index: pd.DatetimeIndex, start, end) -> np.ndarray:
    keep = np.ones(len(index), bool)
    if start is not None:
        keep &= index >= pd.Timestamp(start)
    if end is not None:
        keep &= index <= pd.Timestamp(end)
    return keep


def _signal_metrics(market, start, end, reps: int, seed: int) -> tuple[list[dict], dict]:
    """Early warning (event level) and accuracy (daily), walk-forward, inside [start, end]."""
    from engine.stress.validate import event_warnings
    from usecases.signals import stress_result

    res = stress_result(market)
    cfg = res.config.warning
    sessions = res.daily.index
    p = res.daily["warning_probability"].to_numpy(float)
    y = res.label.to_numpy(float)
    rows = ~np.isnan(p) & ~np.isnan(y) & _window_rows(sessions, start, end)
    warn = np.where(np.isnan(p), False, p > cfg.threshold)
    first = int(np.flatnonzero(~np.isnan(p))[0]) if (~np.isnan(p)).any() else len(sessions)
    ev = res.events
    inside = [first + cfg.lookback <= sessions.get_loc(s) and _window_rows(pd.DatetimeIndex([s]), start, end)[0]
              for s in ev["start"]]
    events = event_warnings(sessions, warn, ev[inside], cfg.lookback, H_MIN, H_MAX)
    leads = np.array([np.nan if e["lead_sessions"] is None else e["lead_sessions"] for e in events], float)
    ew = (stationary_ci(leads, lambda x: story.share_within(x, H_MIN, H_MAX), block=1, reps=reps, seed=seed)
          if len(leads) >= 2 else None)
    known = leads[~np.isnan(leads)]
    dist = {"events": len(leads), "warned": int(len(known)), "within_20_60": int(((known >= H_MIN) & (known <= H_MAX)).sum()),
            "leads_sessions": [None if np.isnan(v) else int(v) for v in leads],
            "median_lead": float(np.median(known)) if len(known) else None,
            "quartiles": [float(q) for q in np.quantile(known, [0.25, 0.75])] if len(known) else None}
    out = [_row("early_warning", TARGETS["early_warning"], ew,
                note=f"{dist['within_20_60']} of {dist['events']} events warned 20-60 sessions ahead; events resampled "
                     "independently (block 1: they are at least 60 sessions apart); always-warn would score 100% "
                     "with a 100% false-alarm rate.", lead_times=dist)]
    yy, ww = y[rows] > 0.5, warn[rows]
    acc = None
    if yy.any() and (~yy).any():
        acc = stationary_ci(np.column_stack([yy, ww]).astype(float),
                            lambda d: story.balanced_accuracy(d[:, 0] > 0.5, d[:, 1] > 0.5), reps=reps, seed=seed)
    base = float(yy.mean()) if len(yy) else None
    out.append(_row("accuracy", TARGETS["accuracy"], acc,
                    note="Scored on at-risk sessions (no selloff running) where the label is known.",
                    accuracy=story.accuracy(yy, ww) if len(yy) else None, base_rate=base,
                    always_no_accuracy=None if base is None else 1.0 - base, n_days=int(len(yy))))
    period = {"from": sessions[rows][0].date().isoformat() if rows.any() else None,
              "to": sessions[rows][-1].date().isoformat() if rows.any() else None}
    return out, period


def _not_measured(names: dict, why: str) -> list[dict]:
    return [_row(n, spec, None, note=f"not measured: {why}") for n, spec in names.items()]


def _backtests(market, start, end, rotation=None):
    """The rotation and rotation-nosignal backtests (``rotation``: one already run on the same window),
    or (None, reason) when the backtester is absent."""
    try:
        from usecases.backtest import run_backtest
    except ImportError:
        return None, "the backtester (usecases.backtest, issue 9) is not part of this build"
    kw = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    rot = rotation if rotation is not None else run_backtest(market, "rotation", **kw)
    return (rot, run_backtest(market, "rotation-nosignal", **kw)), ""


def _aligned(a: pd.Series, b: pd.Series) -> np.ndarray:
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    return both.to_numpy(float)


def _active_rows(r: pd.Series, b: pd.Series, names: tuple[str, str], specs: dict, reps: int, seed: int) -> list[dict]:
    d = _aligned(r, b)
    alpha = stationary_ci(d, lambda x: story.rolling_active_12m(x[:, 0], x[:, 1]), reps=reps, seed=seed)
    ir = stationary_ci(d, lambda x: story.information_ratio(x[:, 0], x[:, 1]), reps=reps, seed=seed)
    return [_row(names[0], specs[names[0]], alpha), _row(names[1], specs[names[1]], ir)]


def _transition_run(market, start, end, rot, steps):
    """The rotation backtest whose rebalances are executed in steps: ``rot`` when it already has
    transitions, else the same backtest run with ``steps`` (the other rows keep the one-step run)."""
    if rot.run.transitions or steps in (1, "1", None):
        return rot
    from usecases.backtest import run_backtest

    kw = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    return run_backtest(market, "rotation", steps=steps, **kw)


def _transition_row(result, reps: int, seed: int) -> dict:
    """Tracking error against the backtest's benchmark on the sessions of multi-step transitions
    (``result.transition_mask``: from the first to the last step of each rebalance executed in steps);
    the tracking error on all sessions, with its interval, is shown beside it."""
    spec = TARGETS["tracking_error_transitions"]
    bench = result.benchmark.returns
    d_all = _aligned(result.returns, bench)
    every = stationary_ci(d_all, lambda x: story.tracking_error(x[:, 0], x[:, 1]), reps=reps, seed=seed)
    extra = {"all_sessions": {k: every[k] for k in ("value", "ci_low", "ci_high", "block")},
             "transition_sessions": int(result.transition_te.get("transition_sessions", 0))}
    mask = getattr(result, "transition_mask", None)
    n = extra["transition_sessions"]
    if n < 20:
        return _row("tracking_error_transitions", spec, None, **extra,
                    note=f"not measured: {n} multi-step transition sessions in the window (fewer than 20; run "
                         f"the scorecard with steps > 1 or 'auto' to execute rebalances in steps); tracking error "
                         f"on all sessions "
                         f"{every['value']:.2%} ({every['ci_low']:.2%} .. {every['ci_high']:.2%}).")
    if mask is None:
        row = _row("tracking_error_transitions", spec, None, **extra,
                   note="interval not available: the backtest result does not expose its transition sessions")
        row["value"] = float(result.transition_te["transition"])
        return row
    d = _aligned(result.returns[mask.reindex(result.returns.index, fill_value=False).astype(bool)], bench)
    ci = stationary_ci(d, lambda x: story.tracking_error(x[:, 0], x[:, 1]), reps=reps, seed=seed)
    steps = result.params.get("steps")
    return _row("tracking_error_transitions", spec, ci, **extra,
                note=f"{len(d)} transition sessions in {len(result.run.transitions)} multi-step rebalances "
                     f"(steps {steps}, {result.transition_te.get('other_sessions', 0)} other sessions at "
                     f"{result.transition_te.get('other', float('nan')):.2%}); the alpha and IR rows use the "
                     f"one-step backtest. Sessions resampled in blocks, as if contiguous.")


def _multiple_testing(returns: pd.Series | None, signal_candidates: int | None = None) -> dict:
    """DSR of the rotation backtest. Trials counted: the configuration shown, every configuration of
    `rotation` recorded by `rotation sweep`, and the candidates the signal research tries to choose the
    early warning (``usecases.signals_research.candidates_tried``; ``signal_candidates`` overrides it).
    The trials' Sharpe variance is the largest recorded sweep's; where none is recorded (or it is smaller),
    the variance of a Sharpe estimate under the null, 1 / (T - 1) per period, is used instead, so that
    counted trials do deflate. PBO from the latest such sweep."""
    from engine.stats.sharpe import deflated_sharpe, sharpe
    from scipy.stats import kurtosis, skew
    from usecases.signals_research import candidates_tried
    from usecases.sweep import recorded_sweeps

    sweeps = recorded_sweeps("rotation")
    swept = sum(int(s.get("configs_tried") or 0) for s in sweeps)
    research = candidates_tried() if signal_candidates is None else int(signal_candidates)
    tried = 1 + swept + research
    var = max([s.get("sharpe_variance") or 0.0 for s in sweeps], default=0.0)
    pbo = sweeps[-1].get("pbo") if sweeps else None
    out = {"configs_tried": tried, "trials": {"shown": 1, "rotation_sweeps": swept, "signal_research": research},
           "pbo": pbo,
           "pbo_note": "from the latest `rotation sweep --strategy rotation`" if sweeps else
           "no sweep of `rotation` recorded: run `rotation sweep --strategy rotation --grid ...` to measure it",
           "deflated_sharpe": None,
           "dsr_note": f"trials counted: the configuration shown, {swept} recorded by `rotation sweep --strategy "
                       f"rotation` and the {research} candidate signal models of `rotation signals research`; design "
                       "choices made before the logs existed (limits, thresholds) are not counted, so the DSR is an "
                       "upper bound"}
    if returns is not None and len(returns.dropna()) > 2:
        r = returns.dropna().to_numpy(float)
        var = max(var, 1.0 / (len(r) - 1)) if tried > 1 else var
        out["deflated_sharpe"] = deflated_sharpe(sharpe(r), len(r), tried, var, float(skew(r)),
                                                 float(kurtosis(r, fisher=False)))
    return out


def scorecard(market, start=None, end=None, reps: int = 1000, seed: int = 0, rotation=None,
              steps="auto") -> dict:
    """The scorecard (module doc): ``{"metrics": [...], "deflated_sharpe", "pbo", "configs_tried", "from",
    "to", "level", "label", "pbo_note", "dsr_note"}``; each metric has ``name, definition, value, ci_low, ci_high,
    target, verdict`` plus how its interval was computed, its scored ``window``, and what was not
    measured and why. Without ``start`` the signal metrics score every walk-forward session and the
    backtests start at their default (2005-01-01). ``rotation``: a `rotation` BacktestResult already
    run on the same window (the demo's backtest stage), reused instead of running it again. ``steps``:
    how the transition-tracking-error row executes rebalances (default ``auto``; 1 leaves it unmeasured)."""
    metrics, period = _signal_metrics(market, start, end, reps, seed)
    runs, why = _backtests(market, start, end, rotation)
    for r in metrics:
        r["window"] = period
    if runs is None:
        bt_rows = _not_measured({k: TARGETS[k] for k in ("alpha_12m", "tracking_error_transitions",
                                                          "information_ratio")}, why) + _not_measured(VS_NOSIGNAL, why)
        mt = _multiple_testing(None)
    else:
        rot, nos = runs
        spy = rot.spy.returns          # SPY through the backtester's own book, as `rotation backtest`
        bt_rows = _active_rows(rot.returns, spy, ("alpha_12m", "information_ratio"), TARGETS, reps, seed)
        bt_rows.insert(1, _transition_row(_transition_run(market, start, end, rot, steps), reps, seed))
        bt_rows += _active_rows(rot.returns, nos.returns, tuple(VS_NOSIGNAL), VS_NOSIGNAL, reps, seed)
        mt = _multiple_testing(rot.returns)
        bt_window = {"from": rot.returns.index[0].date().isoformat(), "to": rot.returns.index[-1].date().isoformat()}
        for r in bt_rows:
            r["window"] = bt_window
        period = {"from": min(period["from"] or bt_window["from"], bt_window["from"]),
                  "to": max(period["to"] or bt_window["to"], bt_window["to"])}
    order = ["early_warning", "alpha_12m", "tracking_error_transitions", "accuracy", "information_ratio",
             *VS_NOSIGNAL]
    rows = {r["name"]: r for r in metrics + bt_rows}
    return {"metrics": [rows[n] for n in order], "deflated_sharpe": mt["deflated_sharpe"], "pbo": mt["pbo"],
            "pbo_note": mt["pbo_note"], "dsr_note": mt["dsr_note"], "configs_tried": mt["configs_tried"],
            "trials": mt["trials"], **period, "level": DEFAULT_LEVEL,
            "label": market.label}
