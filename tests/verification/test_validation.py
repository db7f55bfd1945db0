"""The validation report (docs/validation.md) is current, and each row keeps its verdict.

Runs every case of cases/validation/ through benchmarks/validation_report.py's own functions
(coarse 6 mm grids, about ten seconds in all on NumPy) and asserts, per published result,
that the verdict equals the one docs/validation.md records — a regression in the physics
shows as a changed verdict — and that the simulated value is the one recorded (2 %).
Regenerate with ``make validation`` after a deliberate change.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _report_module():
    spec = importlib.util.spec_from_file_location(
        "validation_report", ROOT / "benchmarks" / "validation_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    report = _report_module()
    return report, report.evaluate(tmp_path_factory.mktemp("validation"))


@pytest.mark.slow
def test_at_least_eight_published_results_with_sources(evaluated):
    report, results = evaluated
    assert len(results) >= 8
    assert all(row.source and row.low <= row.published <= row.high for row, _, _ in results)


@pytest.mark.slow
def test_verdicts_and_values_match_the_report(evaluated):
    report, results = evaluated
    recorded = report.recorded()
    assert set(recorded) == {row.key for row, _, _ in results}, \
        "docs/validation.md lists other rows: run `make validation`"
    for row, value, verdict in results:
        value_recorded, verdict_recorded = recorded[row.key]
        assert verdict == verdict_recorded, (
            f"{row.key}: verdict now {verdict!r}, docs/validation.md records "
            f"{verdict_recorded!r} (simulated {value:.3g}); run `make validation` if intended")
        assert value == pytest.approx(value_recorded, rel=0.02, abs=1e-3), row.key


def test_verdict_rule():
    report = _report_module()
    row = report.ROWS[0]
    assert report.verdict(row, row.published) == "within range"
    assert report.verdict(row, row.high * 1.01) == "order of magnitude"
    assert report.verdict(row, row.published * 3.1) == "wrong"
    assert report.verdict(row, row.published / 3.1) == "wrong"


def test_readme_states_the_reports_tally():
    """The README's summary of the validation report quotes the report's own tally."""
    import re

    report = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    tally = re.search(r"Tally: (\d+ within range, \d+ right order of magnitude, \d+ wrong)"
                      r"\*\* \(of (\d+)\)", report)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert tally and f"Tally: {tally.group(1)} (of {tally.group(2)})" in readme
