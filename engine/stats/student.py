"""Student's t CDF without scipy.special (0.4 s of CPU on import on the export path).

``stdtr(df, t)`` is ``scipy.special.stdtr``: ``P(T <= t)`` for ``df`` degrees of freedom, from the
regularized incomplete beta function, ``P(|T| > |t|) = I_x(df/2, 1/2)`` with ``x = df / (df + t^2)``,
evaluated by its continued fraction (modified Lentz; the series converges fast on the side of
``x < (a+1)/(a+b+2)``, the other side by symmetry), so the small tail keeps its relative precision.
Checked against scipy to 1e-12 relative (tests/test_normal_dist.py).
"""
from __future__ import annotations

import math

_TINY = 1e-300
_EPS = 1e-16


def _fix(v: float) -> float:
    return _TINY if abs(v) < _TINY else v


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (after its front factor)."""
    c, d = 1.0, 1.0 / _fix(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))):
            d = 1.0 / _fix(1.0 + num * d)
            c = _fix(1.0 + num / c)
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def betainc_pair(a: float, b: float, x: float, y: float) -> float:
    """Regularized incomplete beta ``I_x(a, b)`` given ``x`` and ``y = 1 - x`` (each computed without
    cancellation by the caller)."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, y) / b


def stdtr(df: float, t: float) -> float:
    """``P(T <= t)`` for Student's t with ``df > 0`` degrees of freedom (NaN for NaN input or df <= 0)."""
    if not (df > 0) or math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    t2 = t * t
    tail = 0.5 * betainc_pair(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))   # P(T > |t|)
    return tail if t < 0 else 1.0 - tail
