"""Thresholds of the alert rules: defaults in ``engine/alerts/default.toml``, a user TOML overrides them."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.errors import ArgumentError, DataError

DEFAULT_TOML = Path(__file__).with_name("default.toml")
REGIMES = ("calm", "elevated", "stress", "crisis")
DELIVERY_TABLES = ("smtp", "webhook")      # read by the delivery channels, not by the rules


@dataclass(frozen=True)
class AlertConfig:
    """Every threshold of :mod:`engine.alerts.rules` (see ``default.toml`` for their meaning)."""

    regime_enabled: bool = True
    strength_move: float = 20.0
    warning_threshold: float | None = None      # None: the stress model's warning threshold
    warning_clear: float = 0.10
    reentry_from: tuple[str, ...] = ("stress", "crisis")
    reentry_to: tuple[str, ...] = ("calm", "elevated")
    reentry_sessions: int = 10
    reentry_steps: int = 4
    tech_ticker: str = "XLK"
    tech_band: float = 0.05
    tech_clear: float = 0.03
    drift_band: float = 0.05
    drift_clear: float = 0.03
    stale_max_sessions: int = 5
    stale_series: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def default(cls) -> "AlertConfig":
        return cls.from_toml(None)

    @classmethod
    def from_toml(cls, path: str | Path | None) -> "AlertConfig":
        """Defaults overridden by the tables of the TOML file at ``path`` (None: the defaults).
        DataError for an unreadable file; ArgumentError naming the key for a bad key or value."""
        base = _read(DEFAULT_TOML)
        if path is not None:
            for table, values in _read(Path(path)).items():
                if table in DELIVERY_TABLES:
                    continue
                if table not in base or not isinstance(values, dict):
                    raise ArgumentError(f"{path} [{table}]", f"unknown table; expected one of {sorted(base)}")
                unknown = set(values) - set(base[table]) - ({"threshold"} if table == "warning" else set())
                if unknown:
                    raise ArgumentError(f"{path} [{table}] {sorted(unknown)[0]}",
                                        f"unknown setting; expected one of {sorted(base[table])}")
                base[table] = {**base[table], **values}
        flat: dict[str, Any] = {}
        for table, values in base.items():
            for key, val in values.items():
                flat[f"{table}_{key}"] = tuple(val) if isinstance(val, list) else val
        known = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in flat.items() if k in known})
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """ArgumentError naming the setting when a value is out of its domain."""
        for name in ("strength_move", "tech_band", "tech_clear", "drift_band", "drift_clear", "warning_clear"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ArgumentError(name.replace("_", ".", 1), f"expected a non-negative number, got {v!r}")
        for band, clear in (("tech_band", "tech_clear"), ("drift_band", "drift_clear")):
            if getattr(self, clear) > getattr(self, band):
                raise ArgumentError(clear.replace("_", ".", 1), f"expected at most {band.replace('_', '.', 1)} "
                                    f"({getattr(self, band)}) so the alert can re-arm")
        thr = self.warning_threshold
        if thr is not None and (isinstance(thr, bool) or not isinstance(thr, (int, float)) or not 0 < thr < 1):
            raise ArgumentError("warning.threshold", f"expected a probability in (0, 1), got {thr!r}")
        if thr is not None and self.warning_clear > thr:
            raise ArgumentError("warning.clear", f"expected at most warning.threshold ({thr})")
        for name in ("reentry_sessions", "reentry_steps", "stale_max_sessions"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ArgumentError(name.replace("_", ".", 1), f"expected a positive whole number, got {v!r}")
        for name in ("reentry_from", "reentry_to"):
            bad = [r for r in getattr(self, name) if r not in REGIMES]
            if bad or not getattr(self, name):
                raise ArgumentError(name.replace("_", ".", 1), f"expected regimes among {list(REGIMES)}, got {bad}")
        if set(self.reentry_from) & set(self.reentry_to):
            raise ArgumentError("reentry.to", "expected no regime in both reentry.from and reentry.to")


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (FileNotFoundError, IsADirectoryError):
        raise DataError("alert configuration file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"not valid TOML ({exc})", file=str(path)) from None
