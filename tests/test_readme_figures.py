"""README.md's benchmark figures are generated from benchmarks/RESULTS.md and must be current."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("readme_figures",
                                               ROOT / "benchmarks" / "readme_figures.py")
readme_figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_figures)

README = (ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")


def test_readme_benchmark_figures_are_current():
    assert readme_figures.generated(README, RESULTS) == README, (
        "README.md quotes benchmark figures that differ from benchmarks/RESULTS.md: run "
        "`make docs` and commit README.md")


def test_every_figure_is_marked_and_read_from_the_latest_multigrid_run():
    values = readme_figures.figures(RESULTS)
    for name, text in values.items():
        assert f"<!-- bench:{name} -->{text}<!-- /bench:{name} -->" in README, name
    assert values["mg-ratio"].startswith("9.4×") and "0.70 s" in values["mg-time"]
    assert values["mg-iterations"].startswith("9 at")


def test_a_changed_result_changes_the_readme():
    changed = RESULTS.replace("| 128³ | PyAMG SA + CG | 3.172 | 3.35 | 6.52 | 13 |",
                              "| 128³ | PyAMG SA + CG | 3.172 | 3.35 | 6.52 | 14 |", 1)
    changed = changed.replace("| 6.15e-09 | 1.2e-08 | 9.38 |", "| 6.15e-09 | 1.2e-08 | 3.50 |", 1)
    assert changed != RESULTS
    updated = readme_figures.generated(README, changed)
    assert "(3.5×)" in updated and "(9.4×)" not in updated


def test_unknown_marker_and_missing_section_are_clear_errors():
    with pytest.raises(ValueError, match="unknown benchmark figures"):
        readme_figures.generated("<!-- bench:nope -->x<!-- /bench:nope -->", RESULTS)
    with pytest.raises(ValueError, match="has no section"):
        readme_figures.figures("# nothing")
