"""Running sweeps: the Dask LocalCluster against serial runs, failures and re-runs, determinism."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from sweep_data import GRID_SWEEP, write_sweep

from perfusion.case.loader import case_from_dict
from perfusion.pipeline import run_case
from perfusion.sweep import load_sweep, run_sweep
from perfusion.sweep.summary import HEADLINE, headline

pytest.importorskip("distributed")


def _read_summary(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_local_cluster_summary_equals_serial_runs(tmp_path):
    """Six members, two parameters, on a 2-worker LocalCluster bound to 127.0.0.1."""
    sweep = load_sweep(write_sweep(tmp_path))
    result = run_sweep(sweep, tmp_path / "out", executor="local", workers=2)
    assert result.ran == list(range(6)) and not result.failed
    rows = _read_summary(tmp_path / "out" / "summary.csv")
    assert [r["status"] for r in rows] == ["done"] * 6
    assert rows[1]["catheter.inlets"] == '["right"]' and rows[1]["infusion.0.dose"] == "40 mg"
    for member, row in zip(sweep.members, rows):
        serial = run_case(case_from_dict(member.case, source=member.source),
                          tmp_path / "serial" / f"{member.index:04d}")
        expected = headline(serial.metrics)
        for column in HEADLINE:
            if math.isnan(expected[column]):
                assert row[column] == "nan"
            else:
                assert float(row[column]) == expected[column], (member.index, column)
        ours = np.load(tmp_path / "out" / "members" / f"{member.index:04d}" / "fields" / "fields.npz")
        theirs = np.load(serial.directory / "fields" / "fields.npz")
        assert np.array_equal(ours["auc"], theirs["auc"])
    # the members differ: the catheter position matters
    assert len({row["tumor_to_normal_auc"] for row in rows}) == 6
    assert (tmp_path / "out" / "summary.png").exists()
    # a second run finds everything complete and runs nothing
    assert run_sweep(sweep, tmp_path / "out", executor="local", workers=2).ran == []


def test_failing_member_is_recorded_and_only_it_reruns(tmp_path):
    """A member whose inlet is moved outside the organ fails at run time; the rest finish."""
    text = GRID_SWEEP.replace('"infusion.0.dose" = ["20 mg", "40 mg"]',
                              '"supplies.0.inlets.2.position" = [["48 mm", "30 mm", "24 mm"], '
                              '["1 mm", "1 mm", "1 mm"]]')
    text = text.replace('[["right"], ["left"], ["caudal"]]', '[["right"], ["caudal"]]')
    sweep = load_sweep(write_sweep(tmp_path, text))
    out = tmp_path / "out"
    result = run_sweep(sweep, out, executor="serial")
    assert sorted(result.failed) == [1, 3]
    assert "outside the tissue" in result.failed[1]
    rows = _read_summary(out / "summary.csv")
    assert [r["status"] for r in rows] == ["done", "failed", "done", "failed"]
    assert "GeometryError" in rows[3]["error"] and rows[3]["auc_tumor"] == "nan"
    assert not (out / "members" / "0001").exists()
    done_before = (out / "members" / "0000" / "metrics.json").stat().st_mtime_ns
    # fix the bad value: only the failed members run again, the others are kept
    fixed = write_sweep(tmp_path, text.replace('["1 mm", "1 mm", "1 mm"]', '["50 mm", "30 mm", "24 mm"]'))
    rerun = run_sweep(load_sweep(fixed), out, executor="serial")
    assert rerun.ran == [1, 3] and not rerun.failed
    assert (out / "members" / "0000" / "metrics.json").stat().st_mtime_ns == done_before
    assert [r["status"] for r in _read_summary(out / "summary.csv")] == ["done"] * 4
    assert json.loads((out / "errors.json").read_text()) == {}


def test_incomplete_member_folder_is_rerun(tmp_path):
    """A member folder without metrics.json (e.g. killed) is not complete."""
    text = GRID_SWEEP.replace('[["right"], ["left"], ["caudal"]]', '[["right"]]')
    sweep = load_sweep(write_sweep(tmp_path, text))
    out = tmp_path / "out"
    run_sweep(sweep, out, executor="serial")
    (out / "members" / "0001" / "metrics.json").unlink()
    assert run_sweep(sweep, out, executor="serial").ran == [1]


def test_same_case_twice_gives_identical_fields(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path))
    member = sweep.members[0]
    first = run_case(case_from_dict(member.case, source=member.source), tmp_path / "a")
    second = run_case(case_from_dict(member.case, source=member.source), tmp_path / "b")
    a = np.load(first.directory / "fields" / "fields.npz")
    b = np.load(second.directory / "fields" / "fields.npz")
    assert a.files == b.files
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name
