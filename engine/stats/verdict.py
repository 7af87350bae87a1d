"""A verdict from an interval and a target, computed, never written in advance."""
from __future__ import annotations

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"


def verdict(ci_low: float | None, ci_high: float | None, target: float, higher_is_better: bool = True) -> str:
    """PASS when the whole interval is beyond the target, FAIL when the whole interval falls short of it,
    INCONCLUSIVE otherwise (including when the interval could not be measured).

    ``higher_is_better=False`` is for ceilings such as "tracking error under 5%": beyond means below.
    An interval touching the target is INCONCLUSIVE.
    """
    if ci_low is None or ci_high is None:
        return INCONCLUSIVE
    lo, hi = sorted((float(ci_low), float(ci_high)))
    if higher_is_better:
        return PASS if lo > target else FAIL if hi < target else INCONCLUSIVE
    return PASS if hi < target else FAIL if lo > target else INCONCLUSIVE
