"""Signal use cases: the stress reading, its history, validation and the sector table.

One function per question a face can ask; the CLI, the ribbon and the UDFs all call these.
``stress_result`` memoizes the (deterministic) stress computation per market object so a UDF
server computes it once per data version and answers as-of lookups in microseconds.
"""
from __future__ import annotations

import weakref
from typing import Any

import pandas as pd

from engine.data.model import Market
from engine.errors import RotationError
from engine.stress.config import StressConfig
from engine.stress.events import selloff_status
from engine.stress.external import external_check
from engine.stress.pipeline import StressResult, compute, triggers
from engine.stress.sectors import defensive_ranking, regime_returns, sector_table
from engine.stress.validate import validate
from engine.universe import SECTORS

_results: "weakref.WeakKeyDictionary[Market, dict]" = weakref.WeakKeyDictionary()


def stress_result(market: Market, config: StressConfig | None = None) -> StressResult:
    """The stress stage for ``market`` (memoized per market object and config)."""
    key = config if config is not None else StressConfig.default()      # frozen, hashable, compared by value
    per = _results.setdefault(market, {})
    if key not in per:
        per[key] = compute(market, config)
    return per[key]


def defensive_alternatives(market: Market, result: StressResult, as_of=None, top: int = 3) -> list[dict]:
    """Top defensive alternatives to tech at ``as_of`` (walk-forward: only completed forward windows)."""
    try:
        ranking = defensive_ranking(market, result, as_of)
    except RotationError:     # too little history early in the sample: no ranking, the reading still stands
        return []
    rows = ranking.head(top)
    return [{"sector": r.sector, "name": SECTORS.get(r.sector, r.sector), "score": float(r.score),
             "t_change": float(r.t_change)} for r in rows.itertuples()]


def reading(market: Market, as_of=None, config: StressConfig | None = None, with_defensive: bool = True) -> dict:
    """The stress reading at ``as_of`` (None: the last session): keys ``as_of, index, percentile,
    regime, strength, change_20d, warning_probability, warning, defensive, tech_selloff, label``.

    ``warning_probability`` is the chance that a NEW tech selloff starts 20-60 sessions ahead; when
    ``tech_selloff["in_progress"]`` one is already running (since ``tech_selloff["since"]``)."""
    res = stress_result(market, config)
    out: dict[str, Any] = res.reading(as_of)
    out["warning"] = (out["warning_probability"] is not None
                      and out["warning_probability"] > res.config.warning.threshold)
    out["defensive"] = defensive_alternatives(market, res, out["as_of"]) if with_defensive else []
    status = selloff_status(market.prices, res.config.events, out["as_of"])
    out["tech_selloff"] = {**status, "since": status["since"].date().isoformat() if status["since"] is not None else None}
    out["label"] = market.label
    return out


def bond_stress_value(market: Market, as_of=None, config: StressConfig | None = None) -> float:
    """The composite bond stress index at ``as_of`` (what ``=BOND_STRESS()`` returns)."""
    return stress_result(market, config).reading(as_of)["index"]


def history(market: Market, start=None, end=None, config: StressConfig | None = None) -> pd.DataFrame:
    """Daily signal series between ``start`` and ``end`` with the reading's columns."""
    daily = stress_result(market, config).history(start, end)
    return daily[["index", "percentile", "regime", "strength", "change_20d", "warning_probability"]]


def validation_report(market: Market, config: StressConfig | None = None) -> dict:
    """Early-warning validation against baselines, plus the external check against STLFSI4."""
    res = stress_result(market, config)
    rep = validate(market, res)
    if "stlfsi4" in market.reference.columns and market.reference["stlfsi4"].notna().any():
        rep["external_check"] = external_check(res, market.reference)
    rep["label"] = market.label
    return rep


def sectors_report(market: Market, config: StressConfig | None = None) -> dict:
    """Stress-to-sector regressions (HAC t-stats), average excess returns by regime, and the ranking."""
    res = stress_result(market, config)
    table = sector_table(market, res)
    by_regime = regime_returns(market, res)
    return {"label": market.label, "note": table.attrs.get("note", ""),
            "regressions": table.reset_index().to_dict(orient="records"),
            "by_regime": by_regime.reset_index().rename(columns={"index": "sector"}).to_dict(orient="records"),
            "defensive": defensive_alternatives(market, res, None, top=5)}


def trigger_list(market: Market, config: StressConfig | None = None) -> pd.DataFrame:
    """Dated rebalancing triggers (regime changes, strength moves) with reasons."""
    return triggers(stress_result(market, config))
