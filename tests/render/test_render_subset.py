"""Rendering a subset of the figures (``perfusion render DIR --only ...``) replaces only those
figures: the others stay in place, byte for byte, and the report still embeds them."""
from __future__ import annotations

import copy
import logging

import pytest
from case_data import LIVER
from click.testing import CliRunner

from perfusion import run_case
from perfusion.case import case_from_dict

pytest.importorskip("matplotlib")
pytest.importorskip("pyvista")


@pytest.mark.slow
def test_only_slices_leaves_the_other_figures(tmp_path, caplog):
    from perfusion.cli import main
    from perfusion.render.pipeline import render_results

    raw = {**copy.deepcopy(LIVER), "drug": {"name": "doxorubicin"},
           "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                         "dose": "20 mg"}],
           "simulation": {"duration": "1 h", "output_every": "30 min", "compare_iv": False}}
    directory = run_case(case_from_dict(raw), tmp_path / "out", backend="numpy").directory
    with caplog.at_level(logging.INFO, logger="perfusion"):
        render_results(directory)
    assert not any(".partial" in r.getMessage() for r in caplog.records)
    figures = directory / "figures"
    before = {p.name: p.read_bytes() for p in figures.iterdir()}
    assert sorted(before) == sorted(["slices.png", "steady.png", "scene.png", "animation.gif",
                                     "curves.png", "dvh.png", "viewer.html"])

    done = CliRunner().invoke(main, ["render", str(directory), "--only", "slices",
                                     "--size", "800x500", "--no-export"])
    assert done.exit_code == 0, done.output
    after = {p.name: p.read_bytes() for p in figures.iterdir()}
    assert sorted(after) == sorted(before)
    assert after["slices.png"] != before["slices.png"]  # redrawn at the new size
    assert all(after[name] == before[name] for name in before if name != "slices.png")
    report = (directory / "report.html").read_text(encoding="utf-8")
    for name in ("slices", "steady", "scene", "animation", "curves", "dvh"):
        assert f"<b>{name}</b>" in report, name
    assert 'id="viewer"' in report                     # the viewer kept in the rewritten report
    assert not (directory / "figures.partial").exists()
