"""The decision report: the plain container a use case fills and the workbook writer renders.

Nothing here computes; it only holds the numbers so that every sheet and the commentary read the
same values. Every field except the run metadata is optional: a sheet whose data is ``None`` is left
out of the workbook (no placeholders).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from engine.errors import ArgumentError

REGIMES = ("calm", "elevated", "stress", "crisis")

SIGNAL_COLUMNS = ("index", "percentile", "change_20d", "regime", "strength", "warning_probability")
EVENT_COLUMNS = ("start", "first_warning", "lead_sessions", "within_window", "from_calm")
WEIGHT_COLUMNS = ("current", "target", "benchmark")


@dataclass
class DecisionReport:
    """Everything one decision workbook shows.

    Run metadata (required):
        run_id, as_of (date), created_utc (aware or naive-UTC datetime), operator, software_version,
        data_label (e.g. ``"DEMO DATA (synthetic)"`` or the data folder), config (nested dict of
        parameters), inputs (file name -> SHA-256 hex of its bytes), data_rows_sha256 (digest of the
        data rows used).

    Optional parts (``None`` leaves the sheet, table or dashboard block out):
        reading: dict with keys index, percentile, regime, strength, change_20d, warning_probability,
            defensive (list of tickers). Optional extra keys: elevated_threshold (index level where
            the regime turns elevated), percentile_20d_ago.
        signals: DataFrame indexed by date with columns ``SIGNAL_COLUMNS``.
        early_warning: dict with ``metrics`` (dict model -> dict metric -> value, or a DataFrame with
            one row per model) and ``events`` (DataFrame with ``EVENT_COLUMNS``).
        sectors: regression table (one row per sector).
        scores: sector x factors + ``composite``.
        weights: ticker x (current, target, benchmark), fractions of the portfolio.
        transition: step x ticker (weights along the path) plus a ``cost`` column (bps).
        trades, backtest, attribution, scorecard: DataFrames from later stages.
        risk: dict with tracking_error, turnover (fractions), expected_cost_bps, binding (list of
            constraint descriptions in words).
        signal_drivers: optional list of short phrases naming the signals behind the move (used by
            the commentary; defaults are derived from the scores).
    """

    run_id: str
    as_of: date
    created_utc: datetime
    operator: str
    software_version: str
    data_label: str
    config: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    data_rows_sha256: str = ""

    reading: dict[str, Any] | None = None
    signals: pd.DataFrame | None = None
    early_warning: dict[str, Any] | None = None
    sectors: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    weights: pd.DataFrame | None = None
    transition: pd.DataFrame | None = None
    trades: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    attribution: pd.DataFrame | None = None
    scorecard: pd.DataFrame | None = None
    risk: dict[str, Any] | None = None
    signal_drivers: list[str] | None = None
    execution: pd.DataFrame | None = None            # child orders (the Execution sheet, workbooks.execution_sheet)
    execution_summary: dict[str, Any] | None = None  # label -> value shown above the schedule
    alerts: pd.DataFrame | None = None      # alerts that preceded the decision (workbooks.alerts_sheet)

    def __post_init__(self) -> None:
        for name in ("run_id", "operator", "software_version", "data_label"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ArgumentError(name, f"expected a non-empty text, got {value!r}")
        if isinstance(self.as_of, pd.Timestamp):
            self.as_of = self.as_of.date()
        elif isinstance(self.as_of, datetime):
            self.as_of = self.as_of.date()
        if not isinstance(self.as_of, date):
            raise ArgumentError("as_of", f"expected a date, got {self.as_of!r}")
        if not isinstance(self.created_utc, datetime):
            raise ArgumentError("created_utc", f"expected a datetime, got {self.created_utc!r}")
        for name in ("signals", "sectors", "scores", "weights", "transition", "trades", "backtest",
                     "attribution", "scorecard"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, pd.DataFrame):
                raise ArgumentError(name, f"expected a pandas DataFrame or None, got {type(value).__name__}")
        if self.signals is not None:
            missing = [c for c in SIGNAL_COLUMNS if c not in self.signals.columns]
            if missing:
                raise ArgumentError("signals", f"missing columns {missing}; expected {list(SIGNAL_COLUMNS)}")
        if self.weights is not None:
            missing = [c for c in WEIGHT_COLUMNS if c not in self.weights.columns]
            if missing:
                raise ArgumentError("weights", f"missing columns {missing}; expected {list(WEIGHT_COLUMNS)}")
        if self.reading is not None:
            need = ("index", "percentile", "regime", "strength", "change_20d", "warning_probability")
            missing = [k for k in need if k not in self.reading]
            if missing:
                raise ArgumentError("reading", f"missing keys {missing}; expected {list(need)} and 'defensive'")
            if self.reading["regime"] not in REGIMES:
                raise ArgumentError("reading", f"regime {self.reading['regime']!r} is not one of {list(REGIMES)}")
        if self.early_warning is not None and not isinstance(self.early_warning, dict):
            raise ArgumentError("early_warning", "expected a dict with 'metrics' and 'events'")

    @property
    def is_demo(self) -> bool:
        """True when the data label says the numbers are synthetic."""
        return "DEMO" in self.data_label.upper()

    def target_weights(self) -> dict[str, float]:
        """Target weight by ticker (empty when there are no weights)."""
        if self.weights is None:
            return {}
        return {str(k): float(v) for k, v in self.weights["target"].items()}


def example_report(sessions: int = 5000, seed: int = 7, end: str = "2019-12-31") -> DecisionReport:
    """A complete, deterministic report on synthetic numbers (labelled ``DEMO DATA (synthetic)``).

    For previews, tests and benchmarks of the workbook: ``sessions`` business days of a stress index
    with regimes (percentile is an expanding rank, so nothing at t uses data after t), the 11 sector
    ETFs against SPY, scores, weights, a transition path and an early-warning validation.
    """
    import hashlib

    import numpy as np

    from engine.universe import DEFENSIVE, DEMO_LABEL, SECTORS, TECH

    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(end=end, periods=sessions, name="date")
    x = np.zeros(sessions)
    for t in range(1, sessions):
        shock = rng.normal(0, 0.08) + (rng.random() < 0.004) * rng.uniform(0.8, 2.0)
        x[t] = 0.985 * x[t - 1] + shock
    idx = pd.Series(x, index=dates).round(4)
    pct = idx.expanding(min_periods=1).rank(pct=True)
    regime = pd.cut(idx, [-np.inf, 0.5, 1.5, 2.5, np.inf], labels=list(REGIMES)).astype(str)
    chg = idx.diff(20).fillna(0.0)
    strength = (idx - 0.5).clip(lower=0).round(4)
    prob = (1 / (1 + np.exp(-(1.8 * idx + 2.0 * chg - 2.0)))).round(4)
    signals = pd.DataFrame({"index": idx, "percentile": pct, "change_20d": chg, "regime": regime,
                            "strength": strength, "warning_probability": prob})
    # the decision day shows an elevated reading (deterministic, whatever the seed)
    signals.iloc[-1, :] = [1.2345, 0.912, 0.4321, "elevated", 0.7345, 0.3712]
    last = signals.iloc[-1]
    tickers = list(SECTORS)
    bench = pd.Series([0.026, 0.104, 0.043, 0.130, 0.091, 0.231, 0.072, 0.029, 0.033, 0.139, 0.102], index=tickers)
    bench = bench / bench.sum()
    current = (bench + rng.normal(0, 0.008, len(tickers))).clip(lower=0.005)
    current = current / current.sum()
    tilt = pd.Series(0.0, index=tickers)
    tilt[list(DEFENSIVE)] = 0.03
    tilt[TECH] = -0.06
    tilt["XLY"] = -0.03
    target = (bench + tilt).clip(lower=0)
    target = target / target.sum()
    weights = pd.DataFrame({"current": current.round(4), "target": target.round(4), "benchmark": bench.round(4)})
    weights.index.name = "ticker"
    factors = pd.DataFrame(rng.normal(0, 1, (len(tickers), 4)).round(3), index=pd.Index(tickers, name="sector"),
                           columns=["momentum", "low_volatility", "stress_beta", "value"])
    factors["composite"] = factors.mean(axis=1).round(3)
    sectors = pd.DataFrame({"beta": rng.normal(-0.3, 0.4, len(tickers)).round(3),
                            "t_stat": rng.normal(-1.0, 1.5, len(tickers)).round(2),
                            "r2": rng.uniform(0.01, 0.2, len(tickers)).round(3),
                            "observations": np.full(len(tickers), sessions - 60)},
                           index=pd.Index(tickers, name="sector"))
    steps = 4
    path = pd.DataFrame([(current + (target - current) * (k + 1) / steps).round(4) for k in range(steps)],
                        index=pd.Index(range(1, steps + 1), name="step"))
    path["cost"] = np.round(np.linspace(1.2, 0.9, steps), 2)
    starts = dates[np.linspace(300, sessions - 300, 8).astype(int)]
    events = pd.DataFrame({"start": starts, "first_warning": starts - pd.offsets.BDay(15),
                           "lead_sessions": [15, 22, 0, 31, 8, 44, 12, 27],
                           "within_window": [True, True, False, True, True, False, True, True],
                           "from_calm": [True, False, True, True, False, True, True, False]})
    metrics = {"model": {"hit_rate": 0.625, "false_alarm_rate": 0.21, "mean_lead_sessions": 19.9, "events": 8},
               "vix_only": {"hit_rate": 0.5, "false_alarm_rate": 0.28, "mean_lead_sessions": 9.5, "events": 8},
               "hy_spread_only": {"hit_rate": 0.375, "false_alarm_rate": 0.25, "mean_lead_sessions": 12.0,
                                  "events": 8},
               "always_warn": {"hit_rate": 1.0, "false_alarm_rate": 1.0, "mean_lead_sessions": 60.0, "events": 8}}
    rows_digest = hashlib.sha256(pd.util.hash_pandas_object(signals, index=True).to_numpy().tobytes()).hexdigest()
    return DecisionReport(
        run_id=f"demo-{seed}-{dates[-1]:%Y%m%d}", as_of=dates[-1].date(),
        created_utc=pd.Timestamp("2020-01-02 07:30:00").to_pydatetime(), operator="demo",
        software_version="0.1.0", data_label=DEMO_LABEL,
        config={"stress": {"window": 250, "thresholds": {"elevated": 0.5, "stress": 1.5, "crisis": 2.5}},
                "optimizer": {"max_tracking_error": 0.03, "max_turnover": 0.25, "max_weight": 0.30,
                              "solver": "clarabel"}, "seed": seed},
        inputs={"demo/prices.csv": hashlib.sha256(b"prices" + bytes([seed])).hexdigest(),
                "demo/stress.csv": hashlib.sha256(b"stress" + bytes([seed])).hexdigest()},
        data_rows_sha256=rows_digest,
        reading={"index": float(last["index"]), "percentile": float(last["percentile"]),
                 "regime": str(last["regime"]), "strength": float(last["strength"]),
                 "change_20d": float(last["change_20d"]), "warning_probability": float(last["warning_probability"]),
                 "defensive": list(DEFENSIVE), "elevated_threshold": 0.5},
        signals=signals, early_warning={"metrics": metrics, "events": events}, sectors=sectors, scores=factors,
        weights=weights, transition=path,
        risk={"tracking_error": 0.0213, "turnover": 0.1234, "expected_cost_bps": 4.56,
              "binding": ["XLK underweight at its limit of -6.0 pp", "one-way turnover at its 25% cap"]},
    )
