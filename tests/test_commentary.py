"""Commentary: deterministic, and every number in the text is a report value."""
from __future__ import annotations

import dataclasses
import re

import pytest

from workbooks import commentary as com
from workbooks.report import example_report

NUM = re.compile(r"[+-]?\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def report():
    return example_report(sessions=600)


def _report_numbers(r) -> set[str]:
    """Every number the text may show, formatted from the report independently of the module."""
    rd, rk, w = r.reading, r.risk, r.weights
    out = {f"{rd['index']:.2f}", f"{abs(rd['change_20d']):.2f}", f"{rd['index'] - rd['change_20d']:.2f}",
           f"{rd['percentile'] * 100:.0f}", f"{rd['warning_probability'] * 100:.0f}", f"{rd['strength']:.2f}",
           f"{rd['elevated_threshold']:.2f}", f"{rk['tracking_error'] * 100:.2f}", f"{rk['turnover'] * 100:.1f}",
           f"{rk['expected_cost_bps']:.1f}", "20", "60", str(r.as_of.day), str(r.as_of.year)}
    reg = r.config["stress"]["regime"]
    out |= {f"{x:.2f}" for x in reg["enter"] + reg["exit"]} | {str(reg["min_dwell"])}
    out |= {f"{r.transition['cost'].sum():.1f}", str(len(r.transition))}
    d = r.weights.loc[["XLU", "XLP", "XLV"]]
    out |= {f"{d['current'].sum() * 100:.1f}", f"{d['target'].sum() * 100:.1f}",
            f"{(d['target'].sum() - d['current'].sum()) * 100:+.1f}"}
    for t, row in w.iterrows():
        out |= {f"{row['current'] * 100:.1f}", f"{row['target'] * 100:.1f}",
                f"{(row['target'] - row['current']) * 100:+.1f}"}
    out |= {f"{v:+.2f}" for v in r.scores["composite"]}
    for b in rk["binding"] + [r.early_warning.get("verdict", "")]:
        out |= set(NUM.findall(b))
    return out


def test_every_number_in_the_text_is_a_report_value(report):
    text = com.text(report)
    allowed = _report_numbers(report)
    found = NUM.findall(text)
    assert len(found) > 20
    text = text.split("\nDisclaimer\n")[0]
    found = NUM.findall(text)
    stray = [n for n in found if n not in allowed and n.lstrip("+") not in allowed]
    assert not stray, stray


def test_key_numbers_appear(report):
    rd = report.reading
    text = com.text(report)
    assert f"reads {rd['index']:.2f}" in text
    assert f"higher than {rd['percentile'] * 100:.0f}% of its history" in text
    assert f"{'rose' if rd['change_20d'] > 0 else 'fell'} by {abs(rd['change_20d']):.2f}" in text
    assert f"at {rd['warning_probability'] * 100:.0f}%" in text
    assert f"{report.risk['tracking_error'] * 100:.2f}% a year" in text
    for b in report.risk["binding"]:
        assert b in text
    chg = (report.weights["target"] - report.weights["current"])
    biggest = chg.abs().idxmax()
    assert f"{chg[biggest] * 100:+.1f} pp" in text
    assert "falls back to calm" in text and f"{rd['elevated_threshold']:.2f}" in text


def test_calm_regime_says_what_would_change_the_call(report):
    calm = dataclasses.replace(report, reading={**report.reading, "regime": "calm", "change_20d": -0.3})
    text = com.text(calm)
    assert "rose above 0.50 and the regime turned elevated" in text and "fell by 0.30" in text
    assert "applies no defensive tilt" in text and "starts in the stress regime (index above 1.50)" in text


def test_thresholds_come_from_the_configuration(report):
    """Change the configured thresholds and minimum stay: the text quotes the new ones."""
    before = com.text(report)
    assert "exit threshold of 0.25" in before and "minimum stay of 10 sessions" in before
    cfg = {**report.config, "stress": {**report.config["stress"],
                                       "regime": {"names": ["calm", "elevated", "stress", "crisis"],
                                                  "enter": [0.7, 1.6, 2.6], "exit": [0.4, 1.2, 2.2],
                                                  "min_dwell": 15},
                                       "warning": {"horizon_min": 10, "horizon_max": 40}}}
    after = com.text(dataclasses.replace(report, config=cfg))
    assert "exit threshold of 0.40" in after and "entered elevated above 0.70" in after
    assert "minimum stay of 15 sessions" in after and "starts 10 to 40 sessions from now" in after
    assert "0.25" not in after.split("What would reverse the call")[1]


def test_only_xlu_xlp_xlv_are_called_defensive(report):
    rd = {**report.reading, "defensive": ["XLY", "XLRE", "XLU"], "regime": "crisis"}
    text = com.text(dataclasses.replace(report, reading=rd))
    for sentence in text.replace("\n", " ").split(". "):
        if "defensive" in sentence:
            assert "XLY" not in sentence and "XLRE" not in sentence, sentence
    assert "held up best in past stress: XLY (Consumer Discretionary) and XLRE (Real Estate)" in text
    assert "tilts toward the defensive sectors XLU (Utilities), XLP (Consumer Staples) and XLV (Health Care)" in text


def test_deterministic_and_absent_without_reading(report):
    assert com.text(report) == com.text(example_report(sessions=600))
    assert com.paragraphs(dataclasses.replace(report, reading=None)) is None
    heads = [h for h, _ in com.paragraphs(report)]
    assert heads == ["The stress reading", "Why the allocation moves", "Risks", "What would reverse the call",
                     "Disclaimer"]


def test_commentary_sheet_holds_the_same_text(report, tmp_path):
    from openpyxl import load_workbook

    from workbooks.writer import named_cell, write_workbook

    write_workbook(report, tmp_path / "c.xlsx")
    wb = load_workbook(tmp_path / "c.xlsx")
    start = named_cell(wb, "CommentaryStart")
    ws = start.parent
    paras = com.paragraphs(report)
    for k, (h, p) in enumerate(paras):
        assert ws.cell(start.row + 3 * k, start.column).value == h
        assert ws.cell(start.row + 3 * k + 1, start.column).value == p


@pytest.mark.parametrize("missing", [None, float("nan")])
@pytest.mark.parametrize("regime", ["calm", "stress"])
def test_a_date_without_a_warning_probability_says_so(report, tmp_path, missing, regime):
    """Before the warning model's first fit the reading holds None (the daily frame NaN): the commentary says
    there is no probability instead of failing (an export on 2001-06-29 of ../shared/data raised a TypeError),
    and the dashboard cell says so in words."""
    from openpyxl import load_workbook

    from workbooks.writer import named_cell, write_workbook

    r = dataclasses.replace(report, reading={**report.reading, "warning_probability": missing, "regime": regime})
    text = com.text(r)
    assert com.NO_PROBABILITY in text
    assert "warning probability must recede" not in text
    assert com.text(report).count(com.NO_PROBABILITY) == 0
    write_workbook(r, tmp_path / "n.xlsx")
    assert named_cell(load_workbook(tmp_path / "n.xlsx"), "WarningProbability").value == "none yet"
