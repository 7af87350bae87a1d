"""Configuration of the stress index, regimes, events, warning model, sectors and triggers.

Defaults live in ``engine/stress/default.toml``; ``StressConfig.from_toml(path)`` reads a user file
whose tables override the defaults key by key (``[[index.inputs]]`` replaces the whole input list).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.errors import ArgumentError, DataError
from engine.factors.rule import CleaningRule

DEFAULT_TOML = Path(__file__).with_name("default.toml")


@dataclass(frozen=True)
class InputSpec:
    """One raw series of the index: ``sign=-1`` flips it (slopes: flattening adds stress)."""

    name: str
    sign: int = 1
    level: bool = True
    change: bool = True
    optional: bool = False
    fallback: str | None = None


@dataclass(frozen=True)
class IndexConfig:
    combine: str = "pca"
    min_history: int = 252
    change_window: int = 20
    sign_anchor: str = "hy_oas"
    pca_min_history: int = 63
    max_stale: int = 5
    inputs: tuple[InputSpec, ...] = ()


@dataclass(frozen=True)
class RegimeConfig:
    names: tuple[str, ...] = ("calm", "elevated", "stress", "crisis")
    enter: tuple[float, ...] = (0.5, 1.5, 2.5)
    exit: tuple[float, ...] = (0.25, 1.0, 2.0)
    min_dwell: int = 10


@dataclass(frozen=True)
class StrengthConfig:
    w_level: float = 0.7
    w_change: float = 0.3
    min_history: int = 252


@dataclass(frozen=True)
class EventConfig:
    ticker: str = "XLK"
    benchmark: str = "SPY"
    drawdown: float = 0.15
    drawdown_window: int = 60
    underperformance: float = 0.08
    underperformance_window: int = 40
    cooldown: int = 60


@dataclass(frozen=True)
class WarningConfig:
    horizon_min: int = 20
    horizon_max: int = 60
    features: tuple[str, ...] = ("index", "change_20d", "percentile", "slope", "regime")
    ridge: float = 1.0
    refit: str = "monthly"
    min_train: int = 500
    min_positive: int = 40
    threshold: float = 0.15
    lookback: int = 60
    procedure: str = "selected"    # "selected" (the research record), "model" (the logistic above) or a frozen candidate
    selected_on: str = ""          # when the nested selection chose ``procedure`` (its last refit)
    evidence: str = ""             # what it chose it on, in words
    selection_file: str = ""       # a selection record to use instead of the data's own (usecases.selection_store)


@dataclass(frozen=True)
class SectorConfig:
    horizons: tuple[int, ...] = (20, 60)
    tech: str = "XLK"
    benchmark: str = "SPY"


@dataclass(frozen=True)
class TriggerConfig:
    strength_move: float = 20.0


@dataclass(frozen=True)
class ResearchConfig:
    """``rotation signals research``: candidate signals, targets and the walk-forward (see default.toml)."""

    candidates: tuple[str, ...] = ()
    credit: tuple[str, ...] = ()
    curve: tuple[str, ...] = ()
    stress: tuple[str, ...] = ()
    broad: tuple[str, ...] = ()
    default: str = "equal:credit"
    horizons: tuple[int, ...] = (20, 40, 60)
    underperformance: float = 0.08
    zscore_window: int = 252
    step: int = 126
    min_train: int = 500
    min_positive: int = 20
    min_oos: int = 252
    ridge: float = 1.0
    hgb: bool = True
    hmm: tuple[str, ...] = ()     # feature sets of the two- and three-state Gaussian HMM regime candidates
    reps: int = 200


@dataclass(frozen=True)
class StressConfig:
    """All settings of ``engine.stress``; build with :meth:`default` or :meth:`from_toml`."""

    index: IndexConfig = field(default_factory=IndexConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    strength: StrengthConfig = field(default_factory=StrengthConfig)
    events: EventConfig = field(default_factory=EventConfig)
    warning: WarningConfig = field(default_factory=WarningConfig)
    sectors: SectorConfig = field(default_factory=SectorConfig)
    triggers: TriggerConfig = field(default_factory=TriggerConfig)
    research: ResearchConfig = field(default_factory=ResearchConfig)
    user_factors: CleaningRule = field(default_factory=CleaningRule)     # the cleaning of factors.csv

    @classmethod
    def default(cls) -> "StressConfig":
        """The shipped defaults (``default.toml``), read once per process (the object is frozen)."""
        return _default(cls)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> "StressConfig":
        """Defaults overridden by the tables of the TOML file at ``path`` (None: defaults only).

        Raises ``DataError`` for an unreadable file, ``ArgumentError`` for a bad key or value.
        """
        base = _read(DEFAULT_TOML)
        if path is not None:
            user = _read(Path(path))
            for table, values in user.items():
                if table not in base or not isinstance(values, dict):
                    raise ArgumentError(f"{path} [{table}]", f"unknown table; expected one of {sorted(base)}")
                base[table] = {**base[table], **values}
        return cls.from_dict(base)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StressConfig":
        """Build from nested plain dicts (as read from TOML); validates every value."""
        parts = {}
        for f in fields(cls):
            sub_cls = {"index": IndexConfig, "regime": RegimeConfig, "strength": StrengthConfig,
                       "events": EventConfig, "warning": WarningConfig, "sectors": SectorConfig,
                       "triggers": TriggerConfig, "research": ResearchConfig, "user_factors": CleaningRule}[f.name]
            try:
                parts[f.name] = _build(sub_cls, f.name, dict(d.get(f.name, {})))
            except ArgumentError as exc:       # CleaningRule names its own key: say which table it is in
                if sub_cls is not CleaningRule or "." in exc.argument:
                    raise
                raise ArgumentError(f"{f.name}.{exc.argument}", exc.problem) from None
        cfg = cls(**parts)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ``ArgumentError`` naming the setting when a value is out of its domain."""
        ix, rg, wc = self.index, self.regime, self.warning
        if ix.combine not in ("pca", "equal"):
            raise ArgumentError("index.combine", f"expected 'pca' or 'equal', got {ix.combine!r}")
        if ix.min_history < 20:
            raise ArgumentError("index.min_history", f"expected at least 20 sessions, got {ix.min_history}")
        if ix.max_stale < 0:
            raise ArgumentError("index.max_stale", f"expected sessions >= 0, got {ix.max_stale}")
        if ix.change_window < 1:
            raise ArgumentError("index.change_window", f"expected a positive window, got {ix.change_window}")
        if not ix.inputs:
            raise ArgumentError("index.inputs", "expected at least one input")
        names = [i.name for i in ix.inputs]
        if ix.sign_anchor not in names:
            raise ArgumentError("index.sign_anchor", f"{ix.sign_anchor!r} is not one of the inputs {names}")
        for i in ix.inputs:
            if i.sign not in (1, -1):
                raise ArgumentError(f"index.inputs[{i.name}].sign", f"expected 1 or -1, got {i.sign}")
            if not (i.level or i.change):
                raise ArgumentError(f"index.inputs[{i.name}]", "expected level or change (or both) to be true")
        k = len(rg.names) - 1
        if len(rg.names) < 2 or len(rg.enter) != k or len(rg.exit) != k:
            raise ArgumentError("regime", f"expected {k} enter and {k} exit thresholds for {len(rg.names)} names")
        if list(rg.enter) != sorted(rg.enter) or any(x > e for x, e in zip(rg.exit, rg.enter)):
            raise ArgumentError("regime.exit", "expected increasing enter thresholds and each exit <= its enter")
        if rg.min_dwell < 0:
            raise ArgumentError("regime.min_dwell", f"expected >= 0, got {rg.min_dwell}")
        if not 0 < wc.horizon_min <= wc.horizon_max:
            raise ArgumentError("warning.horizon_min", "expected 0 < horizon_min <= horizon_max")
        if not 0 < wc.threshold < 1:
            raise ArgumentError("warning.threshold", f"expected a probability in (0, 1), got {wc.threshold}")
        if wc.ridge < 0:
            raise ArgumentError("warning.ridge", f"expected >= 0, got {wc.ridge}")
        if wc.refit not in ("monthly", "weekly"):
            raise ArgumentError("warning.refit", f"expected 'monthly' or 'weekly', got {wc.refit!r}")
        bad = set(wc.features) - {"index", "change_20d", "percentile", "slope", "regime"}
        if bad:
            raise ArgumentError("warning.features", f"unknown features {sorted(bad)}")
        ev = self.events
        if not (0 < ev.drawdown < 1 and 0 < ev.underperformance < 1):
            raise ArgumentError("events", "expected drawdown and underperformance as fractions in (0, 1)")
        if min(ev.drawdown_window, ev.underperformance_window) < 1 or ev.cooldown < 0:
            raise ArgumentError("events", "expected positive windows and a non-negative cooldown")
        if ev.cooldown > wc.horizon_max:
            raise ArgumentError("events.cooldown", f"{ev.cooldown} sessions is longer than warning.horizon_max "
                                f"({wc.horizon_max}): whether a session is inside an event would be known only "
                                "after the label horizon, so training would see the future; use at most "
                                f"{wc.horizon_max}")
        self._validate_research()
        if not self.sectors.horizons or min(self.sectors.horizons) < 1:
            raise ArgumentError("sectors.horizons", "expected positive horizons")


@lru_cache(maxsize=None)
def _default(cls) -> "StressConfig":
    return cls.from_dict(_read(DEFAULT_TOML))


def _validate_research(self) -> None:
    from engine.signals_research.candidates import ALL

    rc = self.research
    for key in ("candidates", "credit", "curve", "stress", "broad"):
        bad = set(getattr(rc, key)) - set(ALL)
        if bad:
            raise ArgumentError(f"research.{key}", f"unknown candidate signals {sorted(bad)}; expected names from {list(ALL)}")
    if not rc.horizons or min(rc.horizons) < 1 or rc.step < 1 or rc.min_train < 50 or rc.reps < 50:
        raise ArgumentError("research", "expected positive horizons and step, min_train >= 50 and reps >= 50")
    bad = set(rc.hmm) - {"credit", "curve", "stress", "broad"}
    if bad:
        raise ArgumentError("research.hmm", f"unknown feature sets {sorted(bad)}; expected some of credit, curve, stress, broad")
    if not 0 < rc.underperformance < 1:
        raise ArgumentError("research.underperformance", f"expected a fraction in (0, 1), got {rc.underperformance}")


StressConfig._validate_research = _validate_research


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DataError("configuration file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"not valid TOML ({exc})", file=str(path)) from None


def _build(cls, table: str, values: dict[str, Any]):
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ArgumentError(f"{table}.{key}", f"unknown setting; expected one of {sorted(known)}")
    out = {}
    defaults = cls()
    for key, val in values.items():
        _check_type(f"{table}.{key}", getattr(defaults, key), val)
        if key == "inputs":
            try:
                val = tuple(InputSpec(**spec) for spec in val)
            except TypeError as exc:
                raise ArgumentError("index.inputs", f"bad input entry ({exc})") from None
        elif isinstance(val, list):
            val = tuple(val)
        out[key] = val
    return cls(**out)


def _check_type(name: str, default, val) -> None:
    """ArgumentError when a TOML value has the wrong type for its setting (``min_history = "lots"``)."""
    if isinstance(default, bool):
        ok = isinstance(val, bool)
        want = "true or false"
    elif isinstance(default, int):
        ok = isinstance(val, int) and not isinstance(val, bool)
        want = "a whole number"
    elif isinstance(default, float):
        ok = isinstance(val, (int, float)) and not isinstance(val, bool)
        want = "a number"
    elif isinstance(default, str) or default is None:
        ok = isinstance(val, str) or (default is None and val is None)
        want = "a text value"
    elif isinstance(default, tuple):
        ok = isinstance(val, list) and all(not isinstance(v, (list, dict)) or name.endswith("inputs") for v in val)
        if ok and default and not name.endswith("inputs"):
            kind = type(default[0])
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) if kind in (int, float)
                     else isinstance(v, kind) for v in val)
        want = "a list" if not default else f"a list of {type(default[0]).__name__} values"
    else:
        return
    if not ok:
        raise ArgumentError(name, f"expected {want}, got {val!r}")
