"""Weights files are read strictly; stress TOML values are type-checked; --stress-config reaches decisions."""
from __future__ import annotations

import pytest

from engine.errors import ArgumentError, DataError
from engine.stress.config import StressConfig
from usecases.weights import read_weights_csv

EQUAL = "\n".join(f"{tk},{1 / 11:.6f}" for tk in
                  ("XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"))


def _w(tmp_path, text: str, name="w.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_weights_summing_to_98_percent_are_refused_unless_cash_holds_the_rest(tmp_path):
    with pytest.raises(DataError, match=r"sum to 98.00%.*CASH"):
        read_weights_csv(_w(tmp_path, "XLK,0.5\nXLV,0.48\n"))
    w = read_weights_csv(_w(tmp_path, "XLK,0.5\nXLV,0.48\nCASH,0.02\n"))
    assert w["XLK"] == 0.5 and w["XLV"] == 0.48 and w.sum() == pytest.approx(0.98)


def test_weights_within_a_tenth_of_a_percent_are_accepted(tmp_path):
    w = read_weights_csv(_w(tmp_path, EQUAL))
    assert w.sum() == pytest.approx(1.0, abs=1e-5) and len(w) == 11


def test_percent_strings_are_percent(tmp_path):
    with pytest.raises(DataError, match="sum to 50.50%"):
        read_weights_csv(_w(tmp_path, "XLK,0.5%\nXLV,50%\n"))          # 0.5% is half a percent, not 50%
    w = read_weights_csv(_w(tmp_path, "ticker,weight\nXLK,0.5%\nXLV,99.5%\n"))
    assert w["XLK"] == pytest.approx(0.005) and w["XLV"] == pytest.approx(0.995)
    w = read_weights_csv(_w(tmp_path, "XLK,40\nXLV,60\n"))              # plain numbers summing to 100
    assert w["XLK"] == pytest.approx(0.4)


def test_duplicate_tickers_are_refused_naming_both_lines(tmp_path):
    with pytest.raises(DataError) as e:
        read_weights_csv(_w(tmp_path, "XLK,0.5\nXLV,0.25\nXLK,0.25\n"))
    assert e.value.line == 3 and "also on line 1" in str(e.value)


def test_holdings_file_is_recognised_and_refused(tmp_path):
    with pytest.raises(DataError, match="holdings file.*rotation trades --holdings") as e:
        read_weights_csv(_w(tmp_path, "ticker,shares,price\nXLK,10000,90.5\nXLV,5000,101.2\n"))
    assert e.value.line == 1


def test_binary_and_non_finite_weights_are_clean_errors(tmp_path):
    p = tmp_path / "b.csv"
    p.write_bytes(b"\x00\x01\x02PK\x03\x04" * 20)
    with pytest.raises(DataError, match="binary"):
        read_weights_csv(p)
    with pytest.raises(DataError, match="not a finite number"):
        read_weights_csv(_w(tmp_path, "XLK,nan\nXLV,1\n"))


def _toml(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,name", [('[index]\nmin_history = "lots"\n', "index.min_history"),
                                       ("[warning]\nthreshold = true\n", "warning.threshold"),
                                       ('[regime]\nenter = ["a", "b", "c"]\n', "regime.enter"),
                                       ('[index]\nmax_stale = -1\n', "index.max_stale")])
def test_stress_toml_values_of_the_wrong_type_are_clean_errors(tmp_path, text, name):
    with pytest.raises(ArgumentError) as e:
        StressConfig.from_toml(_toml(tmp_path, text))
    assert e.value.argument == name


def test_cooldown_longer_than_the_warning_horizon_is_refused(tmp_path):
    with pytest.raises(ArgumentError, match="longer than warning.horizon_max") as e:
        StressConfig.from_toml(_toml(tmp_path, "[events]\ncooldown = 90\n"))
    assert e.value.argument == "events.cooldown"
    assert StressConfig.from_toml(_toml(tmp_path, "[events]\ncooldown = 60\n")).events.cooldown == 60


def test_stress_config_reaches_the_optimizer_and_the_export_report(tmp_path, demo):
    from usecases import signals
    from usecases.export import build_report
    from usecases.optimize import optimize_as_of

    cfg = StressConfig.from_toml(_toml(tmp_path, "[regime]\nenter = [-9.0, -8.0, -7.0]\nexit = [-9.5, -8.5, -7.5]\n"))
    t = "2005-06-01"
    assert signals.reading(demo, t)["regime"] != "crisis"
    assert signals.reading(demo, t, cfg)["regime"] == "crisis"
    assert optimize_as_of(demo, t, stress_config=cfg)["regime"] == "crisis"
    assert optimize_as_of(demo, t)["regime"] != "crisis"
    rep = build_report(demo, t, stress_config=cfg)
    assert rep.reading["regime"] == "crisis" and list(rep.config["stress"]["regime"]["enter"]) == [-9.0, -8.0, -7.0]
