"""The stress index from series a user supplies (a sheet filled by Bloomberg BDH or Refinitiv), point in time.

Same transforms, standardization, combination, percentile, regimes and strength as
:func:`engine.stress.pipeline.compute`, on the user's dates instead of the store's sessions. The
warning probability is left out: it needs sector prices and a labelled event history, which a few
spread columns do not carry. Inputs of the configuration that the user did not supply are left out
of the index (made optional); the sign anchor (``hy_oas``) is always required.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from engine.errors import ArgumentError
from engine.stress.config import StressConfig
from engine.stress.index import combine
from engine.stress.pipeline import PERCENTILE_MIN_HISTORY
from engine.stress.regime import expanding_percentile, regime_codes, regime_labels, signal_strength
from engine.stress.transform import expanding_zscore, transformed_inputs

FROM_SERIES_COLUMNS = ["index", "percentile", "change_20d", "regime", "strength"]


def config_for(columns, config: StressConfig | None = None) -> StressConfig:
    """``config`` (default: the shipped one) with every input not among ``columns`` made optional."""
    cfg = config or StressConfig.default()
    have = set(columns)
    if cfg.index.sign_anchor not in have:
        raise ArgumentError(cfg.index.sign_anchor, "the index needs this series (its sign anchor); none was given")
    inputs = tuple(s if s.name in have or (s.fallback and s.fallback in have) else replace(s, optional=True)
                   for s in cfg.index.inputs)
    return replace(cfg, index=replace(cfg.index, inputs=inputs))


def index_from_series(stress: pd.DataFrame, config: StressConfig | None = None) -> pd.DataFrame:
    """Index, percentile (0-100), 20-session change, regime and strength per row of ``stress``.

    ``stress``: rows = the user's dates (sorted, unique), columns = canonical series names
    (``hy_oas``, ``ig_oas``, ``vix``, ...; percent or index points, NaN = missing). Row t uses rows up to
    t only, so truncating the input after t leaves every earlier row unchanged.
    """
    cfg = config_for([c for c in stress.columns if stress[c].notna().any()], config)
    x = transformed_inputs(stress, cfg.index)
    z = expanding_zscore(x, cfg.index.min_history)
    index, _ = combine(z, cfg.index.sign_anchor, cfg.index.combine, cfg.index.pca_min_history)
    iv = index.to_numpy()
    change = (index - index.shift(cfg.index.change_window)).to_numpy()
    codes = regime_codes(iv, cfg.regime)
    out = pd.DataFrame({"index": iv, "percentile": expanding_percentile(iv, PERCENTILE_MIN_HISTORY),
                        "change_20d": change, "regime": regime_labels(codes, cfg.regime),
                        "strength": signal_strength(iv, change, cfg.strength)}, index=stress.index)
    out.index.name = "date"
    return out[FROM_SERIES_COLUMNS]

