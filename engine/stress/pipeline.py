"""The whole stress stage: ``compute(market, config) -> StressResult`` and cheap as-of readings."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.dates import parse_as_of
from engine.errors import ArgumentError, DataError, NoDataError
from engine.stress.config import StressConfig
from engine.stress.events import find_events, in_event_mask, start_label
from engine.stress.features import warning_features
from engine.stress.index import combine
from engine.stress.regime import expanding_percentile, regime_codes, regime_labels, signal_strength
from engine.stress.transform import expanding_zscore, transformed_inputs
from engine.stress.warning import walk_forward_probability

log = logging.getLogger(__name__)

DAILY_COLUMNS = ["index", "percentile", "change_20d", "regime", "strength", "warning_probability", "warning"]
READING_KEYS = ("as_of", "index", "percentile", "regime", "strength", "change_20d", "warning_probability")
PERCENTILE_MIN_HISTORY = 63


@dataclass
class StressResult:
    """Output of :func:`compute`.

    - ``daily``: sessions x ``DAILY_COLUMNS`` (index in sd units, percentile 0-100, change_20d in index
      units, regime name or None, strength 0-100, warning_probability 0-1 or NaN, warning bool).
    - ``events``: tech selloff events (``engine.stress.events.EVENT_COLUMNS``).
    - ``label``: 1/0/NaN per session, "an event starts in horizon_min..horizon_max sessions"; NaN where
      not yet known and on sessions inside an event (not at risk, see ``events.in_event_mask``).
    - ``procedure_info``: what ``warning_probability`` rests on (``engine.signals_research.reading``):
      ``{"status": "model"}``, a frozen candidate's ``{"status": "frozen"}``, or for ``procedure =
      "selected"`` the record's status (record, extended, mismatch, config, no_record) and schedule.
    - ``features``: the warning model's inputs; ``loadings``: index weights per session;
      ``zscores``: standardized inputs; ``regime_code``: 0..3 (-1 undefined).
    """

    daily: pd.DataFrame
    events: pd.DataFrame
    config: StressConfig
    label: pd.Series
    features: pd.DataFrame
    loadings: pd.DataFrame
    zscores: pd.DataFrame
    regime_code: pd.Series
    procedure_info: dict = field(default_factory=dict)
    _ns: np.ndarray = field(default=None, repr=False)
    _first_valid: int = field(default=0, repr=False)

    def __post_init__(self):
        self._ns = self.daily.index.asi8 if self.daily.index.unit == "ns" else \
            self.daily.index.as_unit("ns").asi8
        valid = np.flatnonzero(self.daily["index"].notna().to_numpy())
        self._first_valid = int(valid[0]) if len(valid) else len(self.daily)
        d = self.daily
        self._cols = {c: d[c].to_numpy() for c in ("index", "percentile", "regime", "strength",
                                                  "change_20d", "warning_probability")}

    def position(self, asof=None) -> int:
        """Position of the last session at or before ``asof`` (None: the last session) that has an
        index value. Raises ``ArgumentError`` for an unparseable date, ``NoDataError`` when ``asof``
        precedes the first index value."""
        if self._first_valid >= len(self._ns):
            raise NoDataError("the stress index has no value yet (not enough history)")
        t = parse_as_of(asof)
        if t is None:
            pos = len(self._ns) - 1
        else:
            pos = int(np.searchsorted(self._ns, t.as_unit("ns").value, side="right")) - 1
        if pos < self._first_valid:
            first = self.daily.index[self._first_valid].date()
            raise NoDataError(f"as_of {asof} is before the first stress reading ({first})")
        return pos

    def reading(self, asof=None) -> dict:
        """The reading for the last session at or before ``asof``: a dict with ``READING_KEYS``
        (plain Python types; NaN becomes None). O(log n)."""
        pos = self.position(asof)
        c = self._cols
        out = {"as_of": self.daily.index[pos].date().isoformat()}
        for k in READING_KEYS[1:]:
            v = c[k][pos]
            out[k] = v if isinstance(v, str) or v is None else (None if v != v else float(v))
        return out

    def history(self, start=None, end=None) -> pd.DataFrame:
        """The daily frame between ``start`` and ``end`` (inclusive; None = open)."""
        return self.daily.loc[start:end]


def compute(market, config: StressConfig | None = None, selection=None) -> StressResult:
    """Compute the stress index, regimes, strength, events and warning probabilities for ``market``.

    ``market``: an ``engine.data.model.Market`` (uses ``stress`` and ``prices``). Every value at session
    t uses data up to t only (so ``compute(market.asof(t))`` agrees with ``compute(market)`` at t).
    ``selection``: (record, sha256, file) of the research selection record for ``procedure = "selected"``
    (None: there is none, and the original logistic model is used and says so).
    Raises ``DataError`` when a required series is missing.
    """
    cfg = config or StressConfig.default()
    sessions = market.prices.index
    stress = market.stress.reindex(sessions)
    stale = getattr(market, "stale", None)
    if stale is not None and len(stale.columns):      # stopped inputs drop out instead of being carried
        age = stale.reindex(index=sessions, columns=stress.columns)
        stress = stress.where(~(age > cfg.index.max_stale))
    x = transformed_inputs(stress, cfg.index)
    z = expanding_zscore(x, cfg.index.min_history)
    index, loadings = combine(z, cfg.index.sign_anchor, cfg.index.combine, cfg.index.pca_min_history)
    if index.notna().sum() == 0:
        log.warning("stress index has no value: fewer than %d sessions of inputs", cfg.index.min_history)
    iv = index.to_numpy()
    change = index - index.shift(cfg.index.change_window)
    pct = expanding_percentile(iv, PERCENTILE_MIN_HISTORY)
    codes = regime_codes(iv, cfg.regime)
    names = regime_labels(codes, cfg.regime)
    strength = signal_strength(iv, change.to_numpy(), cfg.strength)
    daily = pd.DataFrame({"index": iv, "percentile": pct, "change_20d": change.to_numpy(),
                          "regime": names, "strength": strength}, index=sessions)
    regime = pd.Series(names, index=sessions)
    code = pd.Series(codes, index=sessions)
    try:
        events = find_events(market.prices, cfg.events, regime, calm=cfg.regime.names[0])
    except DataError:
        raise
    wc = cfg.warning
    label = start_label(sessions, events["start"], wc.horizon_min, wc.horizon_max)
    label = label.where(~in_event_mask(sessions, events, wc.horizon_max).to_numpy())   # at-risk sessions only
    feats = warning_features(daily, stress, code, wc.features)
    model = lambda: walk_forward_probability(feats, label, wc)  # noqa: E731
    if wc.procedure == "model":
        prob, info = model(), {"status": "model"}
    elif wc.procedure == "selected":
        from engine.signals_research.reading import selected_probability

        prob, info = selected_probability(market, daily, label, cfg, selection, model)
    else:
        prob, info = procedure_probability(market, stress, daily, label, cfg), {"status": "frozen"}
    daily["warning_probability"] = prob.to_numpy()
    daily["warning"] = (prob > wc.threshold).to_numpy()
    daily.index.name = "date"
    return StressResult(daily=daily[DAILY_COLUMNS], events=events, config=cfg, label=label,
                        features=feats, loadings=loadings, zscores=z, regime_code=code, procedure_info=info)


def procedure_probability(market, stress, daily, label, cfg: StressConfig) -> pd.Series:
    """The warning probability of the frozen research candidate ``cfg.warning.procedure`` (a name from the
    research pool, e.g. ``rule:hyg_ief_chg20``), fitted walk-forward on the event label exactly as in
    ``rotation signals research``: refits every ``[research] step`` sessions on rows whose label is known."""
    from engine.signals_research.candidates import candidate_signals
    from engine.signals_research.models import default_pool
    from engine.signals_research.walkforward import candidate_predictions

    rc, wc = cfg.research, cfg.warning
    sets = {k: getattr(rc, k) for k in ("credit", "curve", "stress", "broad") if getattr(rc, k)}
    pool = {c.name: c for c in default_pool(rc.candidates, sets, hgb=rc.hgb, hmm=tuple(k for k in rc.hmm if k in sets))}
    if wc.procedure not in pool:
        raise ArgumentError("warning.procedure", f"expected 'selected', 'model' or a research candidate ({', '.join(pool)}), "
                            f"got {wc.procedure!r}")
    cand = pool[wc.procedure]
    x = candidate_signals(stress, market.prices, daily, cand.features, zwindow=rc.zscore_window)
    pred, _, _ = candidate_predictions(x, label.astype(float), wc.horizon_max, True, [cand], step=rc.step,
                                       min_train=rc.min_train, min_positive=rc.min_positive, ridge=rc.ridge)
    return pred[cand.name].rename("warning_probability")


def triggers(result: StressResult) -> pd.DataFrame:
    """Rebalancing triggers of ``result`` with the configured strength threshold
    (see ``engine.stress.triggers.rebalancing_triggers``)."""
    from engine.stress.triggers import rebalancing_triggers
    return rebalancing_triggers(result.daily, result.config.triggers.strength_move)
