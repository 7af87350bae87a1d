"""Factor use cases: the IC report and the current sector scores (what every face calls).

The stress index the factors need comes from ``engine.stress.pipeline.compute(market)``; if that
stage is not importable or cannot run on this market, a labelled proxy is used instead (the
expanding z-score of the high-yield OAS), and the report says so in ``stress_source``.
"""
from __future__ import annotations

import logging
from typing import Iterable

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, DataError, NoDataError, RotationError
from engine.factors.composite import composite_score
from engine.factors.compute import factor_panel
from engine.factors.ic import STAT_COLUMNS, daily_ics, ic_by_regime, ic_decay, ic_table
from usecases.context import decision_date

log = logging.getLogger(__name__)

PROXY_LABEL = "proxy: expanding z-score of hy_oas (stress pipeline unavailable)"
PIPELINE_LABEL = "engine.stress.pipeline"
COMPOSITE_IC_HORIZON = 21
REGIME_ORDER = ("calm", "elevated", "stress", "crisis")
TIMING = ("IC at date t correlates factor ranks at t with returns from t to t+h, so it is known only "
          "at t+h; t-statistics use Newey-West errors with h lags (overlapping windows); composite IC "
          "weights at t use only ICs known by t.")


def proxy_stress(market) -> tuple[pd.Series, pd.Series]:
    """(index, regime) from the HY OAS: expanding z-score (>= 63 sessions of history, data up to t only)
    and regimes calm < 0.5 <= elevated < 1.5 <= stress < 2.5 <= crisis."""
    if market.stress is None or "hy_oas" not in market.stress.columns:
        raise DataError("no stress index: the stress pipeline is unavailable and hy_oas is missing")
    hy = market.stress["hy_oas"].reindex(market.sessions)
    z = (hy - hy.expanding(63).mean()) / hy.expanding(63).std()
    reg = pd.Series(pd.cut(z, [-np.inf, 0.5, 1.5, 2.5, np.inf], right=False,
                           labels=["calm", "elevated", "stress", "crisis"]).astype(object),
                    index=z.index).where(z.notna())
    return z.rename("index"), reg.rename("regime")


def resolve_stress(market, config=None) -> tuple[pd.Series, pd.Series, str]:
    """(stress index, regimes, source label) for ``market`` (``config``: a StressConfig, None: the
    shipped one); see the module docstring."""
    try:
        from engine.stress.pipeline import compute
    except ImportError:
        idx, reg = proxy_stress(market)
        return idx, reg, PROXY_LABEL
    try:
        daily = compute(market, config).daily
    except RotationError as exc:
        log.warning("stress pipeline failed (%s); using the hy_oas proxy", exc)
        idx, reg = proxy_stress(market)
        return idx, reg, f"proxy: expanding z-score of hy_oas (stress pipeline: {exc})"
    return daily["index"], daily["regime"], PIPELINE_LABEL


def _horizons(horizons: Iterable[int]) -> tuple[int, ...]:
    try:
        hs = tuple(sorted({int(h) for h in horizons}))
    except (TypeError, ValueError):
        raise ArgumentError("horizons", f"expected positive integers, got {horizons!r}") from None
    if not hs or hs[0] < 1:
        raise ArgumentError("horizons", f"expected positive integers, got {horizons!r}")
    return hs


def factor_ic_report(market, stress_index: pd.Series | None = None, regimes: pd.Series | None = None,
                     horizons: Iterable[int] = (5, 21, 63), stress_config=None) -> dict:
    """IC report of every factor and both composites over the whole history of ``market``.

    Returns a dict: ``label``, ``stress_source``, ``first``/``last`` (dates), ``horizons``,
    ``table`` (list of rows: factor, horizon, mean_ic, ic_std, ic_ir, t_stat, hit_rate, n, lags),
    ``by_regime`` (rows: factor, horizon, regime, mean_ic, ic_ir, t_stat, hit_rate, n),
    ``decay`` ({factor: {horizon: mean_ic}}), ``timing`` (the alignment convention in words).
    ``regimes`` (labels by session) defaults to the stress pipeline's regimes when ``stress_index``
    is also None; with a given ``stress_index`` and no ``regimes`` the regime split is left out.
    ``stress_config``: the StressConfig (its stress settings when the index is computed here, and its
    ``user_factors`` cleaning of the user's factor panel); None: the shipped one.
    """
    hs = _horizons(horizons)
    source = "given"
    if stress_index is None:
        stress_index, auto_regimes, source = resolve_stress(market, stress_config)
        if regimes is None:
            regimes = auto_regimes
    panel = factor_panel(market, stress_index, rule=_rule(stress_config))
    if len(market.sessions) <= max(hs):
        raise NoDataError(f"{len(market.sessions)} sessions are too few for a {max(hs)}-session forward return")
    panel = dict(panel)
    user = user_cleaning(market, panel)
    singles = dict(panel)
    panel["composite_equal"] = composite_score(singles, "equal")
    panel["composite_ic"] = composite_score(singles, "ic", prices=market.prices, horizon=COMPOSITE_IC_HORIZON)
    ics = daily_ics(panel, market.prices, hs)
    table = ic_table(ics)
    rows = [{"factor": f, "horizon": int(h), **{c: float(table.loc[(f, h), c]) for c in STAT_COLUMNS}}
            for f, h in table.index]
    for r in rows:
        r["n"], r["lags"] = int(r["n"]), int(r["lags"])
    by_regime = []
    if regimes is not None:
        for (f, h), s in ics.items():
            br = ic_by_regime(s, regimes, h)
            order = sorted(br.index, key=lambda x: (REGIME_ORDER.index(x) if x in REGIME_ORDER else 99, str(x)))
            for reg in order:
                r = br.loc[reg]
                by_regime.append({"factor": f, "horizon": h, "regime": reg,
                                  **{c: float(r[c]) for c in ("mean_ic", "ic_ir", "t_stat", "hit_rate")},
                                  "n": int(r["n"])})
    decay = ic_decay(table)
    return {
        "label": market.label,
        "stress_source": source,
        "first": market.first,
        "last": market.last,
        "horizons": list(hs),
        "table": rows,
        "by_regime": by_regime,
        "decay": {f: {int(h): decay.loc[f, h] for h in decay.columns} for f in decay.index},
        "timing": TIMING,
        "user_factors": user,
    }


def _rule(stress_config):
    """The user-factor cleaning of a StressConfig (None: the defaults)."""
    return None if stress_config is None else stress_config.user_factors


def user_cleaning(market, panel: dict) -> dict | None:
    """What the cleaning of the user's factor panel did (None without one): ``source``, ``sha256``,
    ``rule`` (in words), ``settings`` (the :class:`engine.factors.rule.CleaningRule` as a dict) and
    ``factors`` ({name: counts of :data:`engine.factors.user.COUNT_KEYS`})."""
    up = getattr(market, "user_factors", None)
    if up is None:
        return None
    names = [n for n in up.factors if n in panel]
    rule = panel[names[0]].attrs.get("rule", "") if names else ""
    settings = panel[names[0]].attrs.get("settings") if names else None
    return {"source": up.source, "sha256": up.sha256, "rule": rule, "settings": settings,
            "factors": {n: dict(panel[n].attrs.get("cleaning", {})) for n in names}}


def current_scores(market, stress_index: pd.Series | None = None, asof=None, method: str = "equal",
                   with_ic: bool = True, stress_config=None) -> pd.DataFrame:
    """Standardized factor scores and composites of every sector at ``asof`` (default: last session).

    Computed on the point-in-time view ``market.asof(asof)`` (nothing later is seen). Returns a
    DataFrame indexed by sector: one column per factor, ``composite_equal``, ``composite_ic``
    (weights from ICs known by ``asof``), ``composite`` (the one chosen by ``method``, "equal" or
    "ic"; "ic" falls back to equal weights while IC weights are not yet estimable) and ``rank``
    (1 = best composite). Equal is the default: on 1999-2019 data the point-in-time IC-weighted
    composite has a negative out-of-sample IC (past ICs flip sign across regimes).
    Sectors without data are left out. ``df.attrs`` carries ``as_of``, ``stress_source``, ``method``.
    ``with_ic=False`` (method "equal" only) skips the IC weights: ``composite_ic`` is then all NaN (the
    export, which does not show it, saves their estimation). ``stress_config``: as in
    :func:`factor_ic_report` (the user factors' cleaning comes from its ``[user_factors]``).
    """
    if method not in ("equal", "ic"):
        raise ArgumentError("method", f"expected 'equal' or 'ic', got {method!r}")
    t = decision_date(market, asof)
    pit = market.asof(t)
    source = "given"
    if stress_index is None:
        stress_index, _, source = resolve_stress(pit, stress_config)
    else:
        stress_index = stress_index.loc[:t]
    panel = factor_panel(pit, stress_index, rule=_rule(stress_config))
    eq = composite_score(panel, "equal")
    if with_ic or method == "ic":
        icw = composite_score(panel, "ic", prices=pit.prices, horizon=COMPOSITE_IC_HORIZON)
    else:
        icw = pd.DataFrame(np.nan, index=eq.index, columns=eq.columns)
    df = pd.DataFrame({k: v.loc[t] for k, v in panel.items()})
    df["composite_equal"] = eq.loc[t]
    df["composite_ic"] = icw.loc[t]
    df = df.dropna(how="all")
    if df.empty:
        raise NoDataError(f"no sector has factor scores on {t.date()} (too little history)")
    use_ic = method == "ic" and df["composite_ic"].notna().any()
    df["composite"] = df["composite_ic"] if use_ic else df["composite_equal"]
    df["rank"] = df["composite"].rank(ascending=False, method="min")
    df = df.sort_values("rank")
    df.index.name = "sector"
    df.attrs.update({"as_of": t, "stress_source": source, "method": "ic" if use_ic else "equal",
                     "user_factors": user_cleaning(pit, panel)})
    return df
