"""Bring-your-own factors: reading and cleaning a daily panel of 5 factors x 9 sectors on the demo sessions
(244,440 rows), and the defensive evidence ranking on the demo market. No targets: the issue sets none."""
from __future__ import annotations

import io

from harness import Row

_CACHE: dict = {}


def _data():
    if "bytes" not in _CACHE:
        import numpy as np

        from engine.data.demo import demo_market
        m = demo_market(7)
        rng = np.random.default_rng(0)
        buf = io.StringIO()
        buf.write("date,sector,factor,value,market_cap\n")
        for d in m.sessions:
            ds = str(d.date())
            for f in ("ey", "growth", "quality", "revision", "intraday"):
                for s in ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"):
                    buf.write(f"{ds},{s},{f},{rng.normal():.5f},{np.exp(rng.normal(25, 1)):.0f}\n")
        _CACHE["bytes"], _CACHE["m"] = buf.getvalue().encode(), m
    return _CACHE["bytes"], _CACHE["m"]


def _parse(_):
    from engine.data.user_factors import parse_factor_panel
    return parse_factor_panel(_data()[0], "bench.csv")


def _clean(panel):
    from engine.factors.user import user_factor_panel
    m = _data()[1]
    sectors = [c for c in m.prices.columns if c.startswith("XL")]
    return user_factor_panel(panel, m.sessions, sectors, m.prices[sectors].notna())


def _ranking(_):
    from engine.stress.sectors import defensive_ranking
    from usecases.signals import stress_result
    m = _data()[1]
    return defensive_ranking(m, stress_result(m))


def rows() -> list[Row]:
    return [
        Row("user factors: parse 244,440 rows (5 factors x 9 sectors, daily)", _parse, repeat=3),
        Row("user factors: align + winsorize + z-score + cap-neutralize", _clean, setup=lambda: _parse(None), repeat=3),
        Row("defensive evidence ranking (HAC t, 500-draw bootstrap, 10 series)", _ranking, repeat=3),
    ]
