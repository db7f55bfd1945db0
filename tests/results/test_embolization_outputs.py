"""The embolised steady state is written (docs/model.md §8.3): its fields, metrics and checks.

With fixed-flow inlets the catheterised inlet's flow is multiplied by ``factor``, so the
catheter's blood inflow ``Q_cath = ∫ F θ dV`` (θ the catheter share of the plasma) after
embolisation is ``factor ×`` the one before; both integrals are taken here from
``fields.npz``, independently of the metrics.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.io.vti import read_vti
from perfusion.results.checks import describe

sys.path.insert(0, str(Path(__file__).parents[1] / "transport"))
from hai_protocol import DOXORUBICIN_HAI  # noqa: E402

FACTOR = 0.05
ML_MIN = 6e7                                 # m³/s → mL/min
INLETS_ML_MIN = {"right": 30.0, "left": 20.0, "caudal": 15.0}   # case_data.LIVER, right catheterised
SUFFIXED = ["perfusion_embolized", "p_hepatic_artery_embolized",
            "perfusion_hepatic_artery_embolized", "territory_embolized"]


@pytest.fixture
def embolised(liver_dict, tmp_path):
    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["simulation"] = {"duration": "2 h", "output_every": "1 h"}
    liver_dict["embolization"] = {"time": "40 min", "factor": FACTOR}
    directory = run_case(case_from_dict(liver_dict), tmp_path / "embo", backend="numpy").directory
    with np.load(directory / "fields" / "fields.npz") as npz:
        fields = {k: npz[k] for k in npz.files}
    return directory, fields, json.loads((directory / "metrics.json").read_text())


def test_the_embolised_fields_are_written_under_their_own_names(embolised):
    directory, fields, _ = embolised
    image = read_vti(directory / "fields" / "steady_embolized.vti")
    for name in SUFFIXED:
        np.testing.assert_array_equal(image.cell_data[name], fields[name])
    territory = fields["labels"] > 0
    assert fields["perfusion_embolized"][territory].sum() < fields["perfusion"][territory].sum()
    assert not np.array_equal(fields["territory_embolized"], fields["territory"])


def test_the_catheter_inflow_drops_by_the_factor(embolised):
    _, fields, metrics = embolised
    voxel = float(np.prod(fields["spacing"]))
    before = (fields["perfusion"] * fields["territory"]).sum() * voxel * ML_MIN
    after = (fields["perfusion_embolized"] * fields["territory_embolized"]).sum() * voxel * ML_MIN
    assert before == pytest.approx(INLETS_ML_MIN["right"], rel=1e-8)
    assert after == pytest.approx(FACTOR * before, rel=1e-8)
    block = metrics["embolization"]
    assert block["catheter_flow_ml_min"]["before"] == pytest.approx(before, rel=1e-8)
    assert block["catheter_flow_ml_min"]["after"] == pytest.approx(after, rel=1e-8)
    assert block["catheter_flow_ratio"] == pytest.approx(FACTOR, rel=1e-12)
    assert (block["time_s"], block["factor"]) == (2400.0, FACTOR)


def test_the_embolised_supply_conserves_its_inflow(embolised):
    _, fields, metrics = embolised
    voxel = float(np.prod(fields["spacing"]))
    inflow = (FACTOR * INLETS_ML_MIN["right"] + INLETS_ML_MIN["left"] + INLETS_ML_MIN["caudal"])
    assert fields["perfusion_hepatic_artery_embolized"].sum() * voxel * ML_MIN == pytest.approx(
        inflow, rel=1e-8)
    assert metrics["embolization"]["inflow_ml_min"]["hepatic_artery"] == pytest.approx(inflow)
    w = fields["territory_embolized"]
    assert w.min() >= 0 and w.max() <= 1 + 1e-9
    checks = metrics["checks"]
    for name in ("territory_range_embolized", "territory_mean_embolized",
                 "perfusion_conservation_embolized"):
        assert checks[f"{name}.hepatic_artery"]["passed"]
    assert checks["perfusion_conservation_embolized.hepatic_artery"]["value"] < 1e-8


def test_a_failed_embolised_check_is_explained():
    check = {"description": "d", "value": 0.5, "tolerance": 1e-8, "passed": False}
    assert "tracer is not conserved" in describe("territory_mean_embolized.hepatic_artery", check)
