"""The regional advantage's flow, per class and inside/outside the catheter territory
(docs/model.md §7), recomputed from the written outputs.

``R_Ω = (AUC_Ω/AUC_sys)_IA ÷ (AUC_Ω/AUC_sys)_IV`` with ``AUC_Ω`` the mean of the ``auc`` /
``auc_iv`` maps of ``fields.npz`` over ``Ω``; the systemic AUCs are checked against the
trapezoid rule on the time series; ``Q_cath,p = (1 − Hct) ∫ F θ dV`` from the ``perfusion``
and ``territory`` fields and, for the catheterised inlet of 30 mL/min, ``(1 − Hct) × 30``.
"""
from __future__ import annotations

import csv
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.cli.run_commands import _summary

sys.path.insert(0, str(Path(__file__).parents[1] / "transport"))
from hai_protocol import DOXORUBICIN_HAI  # noqa: E402

ML_MIN = 6e7   # m³/s → mL/min


@pytest.fixture
def run(liver_dict, tmp_path):
    liver_dict.update(DOXORUBICIN_HAI)
    directory = run_case(case_from_dict(liver_dict), tmp_path / "hai", backend="numpy").directory
    with np.load(directory / "fields" / "fields.npz") as npz:
        fields = {k: npz[k] for k in npz.files}
    metrics = json.loads((directory / "metrics.json").read_text())
    hematocrit = tomllib.loads((directory / "case.resolved.toml").read_text())["blood"]["hematocrit"]
    return directory, fields, metrics, hematocrit


def _systemic_auc(path: Path) -> float:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    times = np.array([0.0] + [float(r["time_s"]) for r in rows])
    c_sys = np.array([0.0] + [float(r["c_sys"]) for r in rows])
    return float(np.sum(np.diff(times) * (c_sys[1:] + c_sys[:-1]) / 2))


def _ratio(fields, metrics, region) -> float:
    ia = fields["auc"][region].mean() / metrics["auc_systemic"]
    iv = fields["auc_iv"][region].mean() / metrics["iv"]["auc_systemic"]
    return ia / iv


def test_the_flow_that_carried_the_dose_is_reported(run):
    _, fields, metrics, hematocrit = run
    voxel = float(np.prod(fields["spacing"]))
    catheter_blood = (fields["perfusion"] * fields["territory"]).sum() * voxel * ML_MIN
    tumour = fields["labels"] == list(fields["class_names"]).index("tumor")
    target_blood = fields["perfusion"][tumour].sum() * voxel * ML_MIN
    flow = metrics["regional_advantage_flow"]
    assert flow["catheter_blood_ml_min"] == pytest.approx(30.0, rel=1e-8)
    assert flow["catheter_plasma_ml_min"] == pytest.approx((1 - hematocrit) * catheter_blood, rel=1e-8)
    assert flow["target"] == "tumor"
    assert flow["target_blood_ml_min"] == pytest.approx(target_blood, rel=1e-12)
    assert flow["target_plasma_ml_min"] == pytest.approx((1 - hematocrit) * target_blood, rel=1e-12)


def test_per_class_and_territory_advantages_match_the_maps(run):
    directory, fields, metrics, _ = run
    # the systemic AUCs the ratios divide by are those of the time series
    assert metrics["auc_systemic"] == pytest.approx(_systemic_auc(directory / "timeseries.csv"), rel=1e-2)
    assert metrics["iv"]["auc_systemic"] == pytest.approx(
        _systemic_auc(directory / "timeseries_iv.csv"), rel=1e-2)
    labels, names = fields["labels"], list(fields["class_names"])
    by_class = metrics["regional_advantage_by_class"]
    assert set(by_class) == {"normal", "tumor", "necrotic"}
    for name, value in by_class.items():
        assert value == pytest.approx(_ratio(fields, metrics, labels == names.index(name)), rel=1e-9)
    assert by_class["tumor"] == pytest.approx(metrics["regional_advantage"], rel=1e-12)
    inside = (labels > 0) & (fields["territory"] >= 0.5)
    outside = (labels > 0) & (fields["territory"] < 0.5)
    territory = metrics["regional_advantage_territory"]
    assert (territory["inside_voxels"], territory["outside_voxels"]) == (inside.sum(), outside.sum())
    assert territory["inside"] == pytest.approx(_ratio(fields, metrics, inside), rel=1e-9)
    assert territory["outside"] == pytest.approx(_ratio(fields, metrics, outside), rel=1e-9)
    assert territory["inside"] > 2 * territory["outside"]   # the catheter's own territory gains most


def test_the_summary_names_the_catheter_flow(run):
    _, _, metrics, hematocrit = run
    line = next(x for x in _summary(metrics).splitlines() if "regional advantage" in x)
    assert line.endswith(f"(catheter plasma flow {(1 - hematocrit) * 30:.3g} mL/min)")
    assert f"{metrics['regional_advantage']:.3g}" in line
