"""Factor panel and IC table on the real 1999-2019 data (demo market if ../shared/data is absent)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness import Row

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_CACHE: dict = {}


def _market():
    if "m" not in _CACHE:
        if (DATA / "prices" / "yahoo").is_dir():
            from engine.data.folder import load_folder
            m = load_folder(DATA)
            m = m.asof("2019-12-31")
            cut = {k: getattr(m, k).loc["1999-01-01":] for k in ("prices", "close", "volume", "stress")}
            _CACHE["m"] = replace(m, **cut)
        else:
            from engine.data.demo import demo_market
            _CACHE["m"] = demo_market(7)
        from usecases.factors import proxy_stress
        _CACHE["s"] = proxy_stress(_CACHE["m"])[0]
    return _CACHE["m"], _CACHE["s"]


def _panel(_):
    from engine.factors.compute import factor_panel
    m, s = _market()
    return factor_panel(m, s)


def _ic_table(_):
    from engine.factors.compute import factor_panel
    from engine.factors.ic import daily_ics, ic_table
    m, s = _market()
    return ic_table(daily_ics(factor_panel(m, s), m.prices, (5, 21, 63)))


def _composite_ic(_):
    from engine.factors.composite import composite_score
    from engine.factors.compute import factor_panel
    m, s = _market()
    return composite_score(factor_panel(m, s), "ic", prices=m.prices)


def _report(_):
    from usecases.factors import factor_ic_report
    m, s = _market()
    return factor_ic_report(m, s)


def rows() -> list[Row]:
    m, _ = _market()
    n = f"{len(m.sessions)} sessions"
    return [
        Row(f"factors: panel, 8 factors x 11 sectors ({n})", _panel, target_s=0.5),
        Row(f"factors: IC table, 8 factors x 3 horizons ({n})", _ic_table, target_s=1.0),
        Row(f"factors: IC-weighted composite ({n})", _composite_ic, target_s=1.0),
        Row(f"factors: full IC report incl. composites ({n})", _report, target_s=2.0, repeat=3),
    ]
