"""Plain-English commentary for the client report, from the same numbers as the sheets.

Deterministic: the same report gives the same text. Numbers are formatted one way everywhere:
index levels with two decimals (``1.23``), changes with a sign (``+0.45``), probabilities, weights,
turnover and tracking error as percentages (``34%``, ``12.5%``, ``2.10%``), weight changes in
percentage points (``+4.5 pp``) and costs in basis points (``4.5 bps``).
"""
from __future__ import annotations

from engine.universe import BENCHMARK, SECTORS
from workbooks.report import DecisionReport

TOP_MOVES = 3


def fmt_level(x: float) -> str:
    return f"{x:.2f}"


def fmt_signed(x: float) -> str:
    return f"{x:+.2f}"


def fmt_pct0(x: float) -> str:
    return f"{x * 100:.0f}%"


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


def _reading(r: DecisionReport) -> str:
    rd = r.reading
    idx, chg = float(rd["index"]), float(rd["change_20d"])
    before = idx - chg
    move = ("was unchanged" if fmt_signed(chg) in ("+0.00", "-0.00")
            else f"{'rose' if chg > 0 else 'fell'} by {fmt_level(abs(chg))} from {fmt_level(before)}")
    return (f"On {r.as_of:%d %B %Y} the bond stress index reads {fmt_level(idx)}, higher than "
            f"{fmt_pct0(float(rd['percentile']))} of its history, and the regime is {rd['regime']} "
            f"(signal strength {fmt_level(float(rd['strength']))}). Over the last 20 sessions it {move}. "
            f"The early-warning model puts the probability of a stress episode within its warning window at "
            f"{fmt_pct0(float(rd['warning_probability']))}.")


def _allocation(r: DecisionReport) -> str | None:
    parts: list[str] = []
    rd = r.reading
    defensive = [str(t) for t in (rd.get("defensive") or [])]
    if rd["regime"] == "calm":
        parts.append("With bond stress calm, the allocation follows the sector scores rather than a defensive tilt.")
    elif defensive:
        parts.append(f"With the regime {rd['regime']}, the allocation rotates toward the defensive sectors "
                     f"{_join([_name(t) for t in defensive])}.")
    if r.signal_drivers:
        parts.append(f"The signals behind the move: {_join(list(r.signal_drivers))}.")
    elif r.scores is not None and "composite" in r.scores.columns:
        top = r.scores["composite"].astype(float).sort_values(ascending=False, kind="mergesort").head(3)
        parts.append("The highest composite scores are " +
                     _join([f"{t} ({fmt_signed(v)})" for t, v in top.items()]) + ".")
    if r.weights is not None:
        chg = (r.weights["target"] - r.weights["current"]).astype(float)
        order = chg.abs().sort_values(ascending=False, kind="mergesort").index
        ups = [t for t in order if chg[t] >= 0.0005][:TOP_MOVES]
        downs = [t for t in order if chg[t] <= -0.0005][:TOP_MOVES]

        def move(t):
            w = r.weights.loc[t]
            return f"{_name(str(t))} from {fmt_pct1(float(w['current']))} to {fmt_pct1(float(w['target']))} " \
                   f"({fmt_pp(float(chg[t]))})"
        if ups:
            parts.append("It adds to " + _join([move(t) for t in ups]) + ".")
        if downs:
            parts.append("It reduces " + _join([move(t) for t in downs]) + ".")
        if not ups and not downs:
            parts.append("The recommended weights equal the current ones: no trade is needed.")
    if r.risk is not None:
        binding = list(r.risk.get("binding") or [])
        parts.append(("Binding limits: " + "; ".join(binding) + ".") if binding
                     else "No allocation limit is binding.")
    return " ".join(parts) if parts else None


def _risks(r: DecisionReport) -> str:
    parts: list[str] = []
    rk = r.risk
    if rk is not None:
        if rk.get("tracking_error") is not None:
            parts.append(f"Ex-ante tracking error against {BENCHMARK} is {fmt_pct2(float(rk['tracking_error']))} a year.")
        if rk.get("turnover") is not None:
            cost = (f" at an expected cost of {fmt_bps(float(rk['expected_cost_bps']))}"
                    if rk.get("expected_cost_bps") is not None else "")
            parts.append(f"One-way turnover is {fmt_pct1(float(rk['turnover']))}{cost}.")
    parts.append("Evidence that bond stress leads equity drawdowns by 20 to 60 sessions is weak: the warning "
                 "probability is one input to the decision, not a forecast of returns. A defensive tilt gives "
                 "up performance if technology keeps leading while credit stays orderly.")
    if r.is_demo:
        parts.append(f"All numbers in this report come from {r.data_label} and are for illustration only.")
    return " ".join(parts)


def _reversal(r: DecisionReport) -> str:
    rd = r.reading
    thr = rd.get("elevated_threshold")
    level = f" (an index level of {fmt_level(float(thr))})" if thr is not None else ""
    if rd["regime"] == "calm":
        return (f"The call would change if the stress index rose above the elevated threshold{level} and the "
                f"regime turned elevated: the allocation would then rotate out of technology into the defensive "
                f"sectors.")
    return (f"The call reverses if the regime falls back to calm, that is if the stress index falls below the "
            f"elevated threshold{level}, and the warning probability recedes from "
            f"{fmt_pct0(float(rd['warning_probability']))}; the allocation would then return toward the "
            f"benchmark and the sector scores.")


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
    return out


def text(report: DecisionReport) -> str:
    """The commentary as one text (headings on their own lines), or '' without a reading."""
    paras = paragraphs(report) or []
    return "\n\n".join(f"{h}\n{p}" for h, p in paras)
