"""Plain-English commentary for the client report, from the same numbers as the sheets.

Deterministic: the same report gives the same text. Facts only: "defensive" means the documented
constant :data:`engine.universe.DEFENSIVE` (XLU, XLP, XLV) and nothing else; other sectors the stress
ranking names are "sectors that held up best in past stress"; every threshold, window and minimum stay
is read from the configuration the decision used (``report.config``). Numbers are formatted one way everywhere:
index levels with two decimals (``1.23``), changes with a sign (``+0.45``), probabilities, weights,
turnover and tracking error as percentages (``34%``, ``12.5%``, ``2.10%``), weight changes in
percentage points (``+4.5 pp``) and costs in basis points (``4.5 bps``).
"""
from __future__ import annotations

from engine.optimize.expected import PRIOR_TILT, TILT_MULTIPLIER
from engine.universe import BENCHMARK, DEFENSIVE, SECTORS
from workbooks.report import DecisionReport

TOP_MOVES = 3


def fmt_level(x: float) -> str:
    return f"{x:.2f}"


def fmt_signed(x: float) -> str:
    return f"{x:+.2f}"


def fmt_pct0(x: float) -> str:
    return f"{x * 100:.0f}%"


def warning_probability(rd: dict) -> float | None:
    """The reading's warning probability, or None when there is none at that date (before the model's
    first fit, or an input of it missing): the reading stores None there, the daily frame NaN."""
    p = rd.get("warning_probability")
    if p is None:
        return None
    p = float(p)
    return p if p == p else None


NO_PROBABILITY = ("The early-warning model gives no probability on this date (it has not yet been fitted on "
                  "enough history, or one of its inputs is missing), so it issues no warning.")


def fmt_pct1(x: float) -> str:
    return f"{x * 100:.1f}%"


def fmt_pct2(x: float) -> str:
    return f"{x * 100:.2f}%"


def fmt_pp(x: float) -> str:
    return f"{x * 100:+.1f} pp"


def fmt_bps(x: float) -> str:
    return f"{x:.1f} bps"


def _name(t: str) -> str:
    return f"{t} ({SECTORS[t]})" if t in SECTORS else t


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cfg(r: DecisionReport, *path, default=None):
    node = r.config
    for k in path:
        if not isinstance(node, dict) or k not in node:
            return default
        node = node[k]
    return node


def _regime_cfg(r: DecisionReport) -> dict:
    """Regime names, enter/exit thresholds and minimum stay from the decision's configuration."""
    reg = _cfg(r, "stress", "regime", default={}) or {}
    enter = reg.get("enter")
    if enter is None and r.reading.get("elevated_threshold") is not None:
        enter = [r.reading["elevated_threshold"]]
    return {"names": list(reg.get("names") or ("calm", "elevated", "stress", "crisis")),
            "enter": list(enter or []), "exit": list(reg.get("exit") or []), "min_dwell": reg.get("min_dwell")}


def _window(r: DecisionReport) -> str:
    lo, hi = _cfg(r, "stress", "warning", "horizon_min"), _cfg(r, "stress", "warning", "horizon_max")
    return f"{lo} to {hi} sessions from now" if lo is not None and hi is not None else "within its warning window"


def _reading(r: DecisionReport) -> str:
    rd = r.reading
    idx, chg = float(rd["index"]), float(rd["change_20d"])
    before = idx - chg
    move = ("was unchanged" if fmt_signed(chg) in ("+0.00", "-0.00")
            else f"{'rose' if chg > 0 else 'fell'} by {fmt_level(abs(chg))} from {fmt_level(before)}")
    text = (f"On {r.as_of:%d %B %Y} the bond stress index reads {fmt_level(idx)}, higher than "
            f"{fmt_pct0(float(rd['percentile']))} of its history, and the regime is {rd['regime']} "
            f"(signal strength {fmt_level(float(rd['strength']))}). Over the last 20 sessions it {move}. ")
    prob = warning_probability(rd)
    text += (NO_PROBABILITY if prob is None else
             f"The early-warning model puts the probability that a new technology selloff starts {_window(r)} at "
             f"{fmt_pct0(prob)}.")
    if rd.get("selloff_since"):
        text += (f" A technology selloff is already running (since {rd['selloff_since']}); that probability is "
                 "for a new one, not for the one under way.")
    verdict = (r.early_warning or {}).get("verdict")
    if verdict:
        text += f" Out-of-sample validation: {str(verdict).rstrip('.')}."
    return text


def _defensive_move(r: DecisionReport) -> str | None:
    rd, w = r.reading, r.weights
    names = _join([_name(t) for t in DEFENSIVE])
    mult = TILT_MULTIPLIER.get(rd["regime"], 0.0)
    tilted = [g for g, m in TILT_MULTIPLIER.items() if m > 0]
    if mult == 0:
        text = (f"In the {rd['regime']} regime the allocator applies no defensive tilt (it tilts toward the "
                f"defensive sectors {names} only in the {_join(tilted)} regimes); the weights follow the sector "
                "scores within the limits.")
    else:
        text = f"In the {rd['regime']} regime the allocator tilts toward the defensive sectors {names} and away from XLK."
        floor = _cfg(r, "limits", "defensive_floor")
        if floor:
            text = text[:-1] + f", holding at least {fmt_pct0(float(floor))} in the three together."
    if mult != 0:
        text += " " + _tilt_basis(rd.get("defensive_tilt"))
    if w is not None:
        d = [t for t in DEFENSIVE if t in w.index]
        cur, tgt = float(w.loc[d, "current"].sum()), float(w.loc[d, "target"].sum())
        text += (f" Together they go from {fmt_pct1(cur)} to {fmt_pct1(tgt)} of the portfolio "
                 f"({fmt_pp(tgt - cur)}).")
    return text


def _tilt_basis(tilt: dict | None) -> str:
    """The tilt's size and whether it is the documented prior or an estimate from the measured evidence
    (engine.stress.defensive.tilt_basis)."""
    size = (tilt or {}).get("size", PRIOR_TILT)
    ev = (tilt or {}).get("evidence")
    if not ev:
        return (f"This tilt, {fmt_pct1(size)} a year, is a documented prior of the product, not an estimate "
                "from the data.")
    ci = ("" if ev.get("ci_low") is None else
          f"95% interval {ev['ci_low'] * 100:+.1f}% to {ev['ci_high'] * 100:+.1f}%, ")
    said = (f"in past stress the three together returned {ev['score'] * 100:+.1f}% against technology over the "
            f"following 60 sessions ({ci}Newey-West t {ev['t_stat']:+.2f}, {ev['n']} sessions), evidence {ev['strength']}")
    if tilt.get("basis") == "estimate":
        cap = f", capped at {fmt_pct1(tilt['cap'])}" if tilt.get("capped") else ""
        return (f"This tilt, {fmt_pct1(size)} a year, is an estimate from the evidence (the lower end of its "
                f"interval as a yearly rate, halved between the defensives and technology{cap}): {said}.")
    return f"This tilt, {fmt_pct1(size)} a year, is a documented prior of the product, not an estimate: {said}."


def _allocation(r: DecisionReport) -> str | None:
    parts: list[str] = [_defensive_move(r)]
    rd = r.reading
    held = [str(t) for t in (rd.get("defensive") or []) if str(t) not in DEFENSIVE]
    if held:
        parts.append(f"Other sectors that held up best in past stress: {_join([_name(t) for t in held])}.")
        strength = rd.get("defensive_strength") or {}
        if all(t in strength for t in held):
            parts.append("Ranked on that evidence alone, its strength is " +
                         _join([f"{strength[t]} for {t}" for t in held]) + ".")
    if r.signal_drivers:
        parts.append(f"The signals behind the move: {_join(list(r.signal_drivers))}.")
    elif r.scores is not None and "composite" in r.scores.columns:
        top = r.scores["composite"].astype(float).sort_values(ascending=False, kind="mergesort").head(3)
        parts.append("The highest composite scores are " +
                     _join([f"{t} ({fmt_signed(v)})" for t, v in top.items()]) + ".")
    if r.weights is not None:
        parts.append(_moves(r))
    if r.risk is not None:
        binding = list(r.risk.get("binding") or [])
        parts.append(("Binding limits: " + "; ".join(binding) + ".") if binding
                     else "No allocation limit is binding.")
    return " ".join(p for p in parts if p)


def _moves(r: DecisionReport) -> str:
    chg = (r.weights["target"] - r.weights["current"]).astype(float)
    order = chg.abs().sort_values(ascending=False, kind="mergesort").index
    ups = [t for t in order if chg[t] >= 0.0005][:TOP_MOVES]
    downs = [t for t in order if chg[t] <= -0.0005][:TOP_MOVES]

    def move(t):
        w = r.weights.loc[t]
        return f"{_name(str(t))} from {fmt_pct1(float(w['current']))} to {fmt_pct1(float(w['target']))} " \
               f"({fmt_pp(float(chg[t]))})"
    out = []
    if ups:
        out.append("It adds most to " + _join([move(t) for t in ups]) + ".")
    if downs:
        out.append("It cuts most " + _join([move(t) for t in downs]) + ".")
    return " ".join(out) or "The recommended weights equal the current ones: no trade is needed."


def path_cost_bps(r: DecisionReport) -> float | None:
    """Total cost along the transition path (sum of its steps), or None without a path."""
    if r.transition is None or "cost" not in r.transition.columns:
        return None
    return float(r.transition["cost"].astype(float).sum())


def _risks(r: DecisionReport) -> str:
    parts: list[str] = []
    rk = r.risk
    if rk is not None:
        if rk.get("tracking_error") is not None:
            parts.append(f"Ex-ante tracking error against {BENCHMARK} is {fmt_pct2(float(rk['tracking_error']))} a year.")
        if rk.get("turnover") is not None:
            cost = ""
            if rk.get("expected_cost_bps") is not None:
                cost = f" at an expected cost of {fmt_bps(float(rk['expected_cost_bps']))} if traded at once (one-shot)"
                path = path_cost_bps(r)
                if path is not None:
                    cost += (f", or {fmt_bps(path)} spread along the {len(r.transition)}-step transition path "
                             "(smaller trades pay less market impact)")
            parts.append(f"One-way turnover is {fmt_pct1(float(rk['turnover']))}{cost}.")
    parts.append("Evidence that bond stress leads equity drawdowns by 20 to 60 sessions is weak: the warning "
                 "probability is one input to the decision, not a forecast of returns. A defensive tilt gives "
                 "up performance if technology keeps leading while credit stays orderly.")
    if r.is_demo:
        parts.append(f"All numbers in this report come from {r.data_label} and are for illustration only.")
    return " ".join(parts)


def _reversal(r: DecisionReport) -> str:
    rd, cfg = r.reading, _regime_cfg(r)
    names, enter, exit_, dwell = cfg["names"], cfg["enter"], cfg["exit"], cfg["min_dwell"]
    k = names.index(rd["regime"]) if rd["regime"] in names else 0
    stay = f" and stay there for the minimum stay of {dwell} sessions" if dwell else ""
    if k == 0:
        up = f" above {fmt_level(float(enter[0]))}" if enter else ""
        tilt = next((i for i, g in enumerate(names) if TILT_MULTIPLIER.get(g, 0) > 0), None)
        at = (f" (index above {fmt_level(float(enter[tilt - 1]))})" if tilt and len(enter) >= tilt else "")
        return (f"The call would change if the stress index rose{up} and the regime turned {names[1]}; the "
                f"allocator's defensive tilt starts in the {names[tilt] if tilt is not None else 'stress'} regime{at}.")
    below = f" below the exit threshold of {fmt_level(float(exit_[k - 1]))}" if len(exit_) >= k else ""
    prob = warning_probability(rd)
    recede = ("" if prob is None else
              f", and the warning probability must recede from {fmt_pct0(prob)}")
    return (f"The call reverses if the regime falls back to {names[k - 1]}: the stress index must fall{below} "
            f"(it entered {rd['regime']} above {fmt_level(float(enter[k - 1]))}){stay}{recede}; the allocation "
            "would then be recomputed with the lower reading." if len(enter) >= k else
            f"The call reverses if the regime falls back to {names[k - 1]}{stay}.")


def paragraphs(report: DecisionReport) -> list[tuple[str, str]] | None:
    """Commentary as (heading, paragraph) pairs; None when the report has no stress reading."""
    if report.reading is None:
        return None
    out = [("The stress reading", _reading(report))]
    alloc = _allocation(report)
    if alloc:
        out.append(("Why the allocation moves", alloc))
    out.append(("Risks", _risks(report)))
    out.append(("What would reverse the call", _reversal(report)))
    if report.disclaimer:
        out.append(("Disclaimer", report.disclaimer))
    return out


def text(report: DecisionReport) -> str:
    """The commentary as one text (headings on their own lines), or '' without a reading."""
    paras = paragraphs(report) or []
    return "\n\n".join(f"{h}\n{p}" for h, p in paras)
