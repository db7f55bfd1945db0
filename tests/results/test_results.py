"""The results directory contract (README, Results directory) and its atomic writing."""
from __future__ import annotations

import json

import numpy as np
import pytest

from perfusion import load_case, run_case
from perfusion.case import case_from_dict
from perfusion.errors import ResultsError
from perfusion.results import write as results_module
from perfusion.io.vti import read_vti

ARRAYS = ["labels", "perfusion", "p_hepatic_artery", "p_portal_vein", "perfusion_hepatic_artery",
          "perfusion_portal_vein", "territory", "ifp", "interstitial_velocity", "filtration"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from case_data import LIVER

    directory = tmp_path_factory.mktemp("run") / "liver"
    return run_case(case_from_dict(LIVER), directory, backend="numpy")


def test_layout_and_arrays(run):
    d = run.directory
    for name in ["case.resolved.toml", "metrics.json", "solver_history.json",
                 "fields/steady.vti", "fields/fields.npz"]:
        assert (d / name).is_file(), name
    fields = np.load(d / "fields" / "fields.npz")
    shape = tuple(run.metrics["grid"]["shape"])
    for name in ARRAYS:
        expected = shape + (3,) if name == "interstitial_velocity" else shape
        assert fields[name].shape == expected, name
    assert np.allclose(fields["spacing"], 0.004)
    assert list(fields["class_names"]) == ["outside", "normal", "tumor", "necrotic"]
    assert np.all(fields["ifp"][fields["labels"] == 0] == 0)
    assert not list(d.parent.glob(".*partial*"))


def test_vti_holds_the_same_arrays(run):
    image = read_vti(run.directory / "fields" / "steady.vti")
    fields = np.load(run.directory / "fields" / "fields.npz")
    assert image.spacing == pytest.approx((4.0,) * 3)   # millimetres
    for name in ARRAYS:
        assert np.array_equal(image.cell_data[name], fields[name]), name


def test_metrics_keys(run):
    metrics = json.loads((run.directory / "metrics.json").read_text())
    for key in ["perfusion_mean", "ifp_mean", "conservation", "solver", "timings", "backend",
                "device", "territory", "calibration", "version"]:
        assert key in metrics, key
    assert set(metrics["perfusion_mean"]) == {"normal", "tumor", "necrotic"}
    assert metrics["conservation"]["perfusion_relative_error"]["hepatic_artery"] < 1e-8
    assert all(s["relative_residual"] <= s["tolerance"] for s in metrics["solver"]["solves"])
    history = json.loads((run.directory / "solver_history.json").read_text())
    assert len(history) == len(metrics["solver"]["solves"])
    assert history[0]["history"][-1] == metrics["solver"]["solves"][0]["relative_residual"]


def test_resolved_case_reruns_bit_for_bit(run, tmp_path):
    resolved = load_case(run.directory / "case.resolved.toml")
    assert resolved.provenance["backend"] == "numpy"
    assert set(resolved.tissue) == {"normal", "tumor", "necrotic"}
    again = run_case(resolved, tmp_path / "again", backend="numpy")
    first = np.load(run.directory / "fields" / "fields.npz")
    second = np.load(again.directory / "fields" / "fields.npz")
    for name in ARRAYS:
        assert np.array_equal(first[name], second[name]), name


def test_failed_write_leaves_nothing_that_looks_complete(liver_dict, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results_module, "write_vti", broken)
    with pytest.raises(OSError):
        run_case(case_from_dict(liver_dict), tmp_path / "out", backend="numpy")
    assert list(tmp_path.iterdir()) == []


def test_existing_result_is_replaced_only_when_complete(liver_dict, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_case(case_from_dict(liver_dict), out, backend="numpy")
    before = (out / "metrics.json").read_text()
    monkeypatch.setattr(results_module, "write_vti",
                        lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    liver_dict["supplies"][0]["inlets"][0]["flow"] = "40 mL/min"
    with pytest.raises(KeyboardInterrupt):
        run_case(case_from_dict(liver_dict), out, backend="numpy", overwrite=True)
    assert (out / "metrics.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_dir_that_is_a_file(liver_dict, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ResultsError, match="is a file"):
        run_case(case_from_dict(liver_dict), target, backend="numpy")
