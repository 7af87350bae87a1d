"""Monitoring: every alert rule over the whole history (stress frame precomputed), and the dashboard's
book valuation for a 35% tech book, on ../shared/data (or the demo market when it is absent)."""
from __future__ import annotations

from pathlib import Path

from harness import Row

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def rows() -> list[Row]:
    from engine.alerts.rules import evaluate
    from engine.data.demo import demo_market
    from engine.data.folder import load_folder
    from usecases.alerts import input_frame
    from usecases.signals import stress_result

    market = load_folder(DATA) if (DATA / "README.md").exists() else demo_market()
    daily = stress_result(market).daily
    inputs = input_frame(market, None, __import__("engine.alerts.config", fromlist=["AlertConfig"]).AlertConfig.default())
    n = len(daily)
    return [Row(f"alerts: every rule over {n} sessions ({market.label[:24]})",
                lambda _: evaluate(daily, inputs=inputs), target_s=0.5, repeat=5)]
