"""The drug run end to end on the small two-supply liver: budget, exposure, outputs, precision."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from hai_protocol import DOXORUBICIN_HAI

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.io.vti import read_vti


@pytest.fixture(scope="module")
def hai(tmp_path_factory):
    from case_data import LIVER

    raw = {**LIVER, **DOXORUBICIN_HAI}
    return run_case(case_from_dict(raw), tmp_path_factory.mktemp("hai") / "out", backend="numpy")


def _series(path):
    rows = list(csv.DictReader(open(path)))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def test_mass_balance_every_step(hai):
    series = _series(hai.directory / "timeseries.csv")
    assert series["mass_balance_error"].max() < 1e-10
    infused = series["infused_ia_kg"] + series["infused_iv_kg"]
    held = (series["tissue_free_kg"] + series["tissue_bound_kg"] + series["body_central_kg"]
            + series["body_peripheral_kg"] + series["eliminated_tissue_kg"] + series["eliminated_body_kg"]
            + series["metabolised_kg"])
    assert np.allclose(held, infused, rtol=0, atol=1e-10 * infused[-1])
    assert infused[-1] == pytest.approx(50e-6, rel=1e-12)
    assert hai.metrics["mass_balance_error"] < 1e-10
    assert hai.metrics["iv"]["mass_balance_error"] < 1e-10


def test_intra_arterial_beats_intravenous_in_the_tumour(hai):
    m = hai.metrics
    assert m["auc"]["tumor"] > m["iv"]["auc"]["tumor"]
    assert m["regional_advantage"] > 1
    assert m["tumor_to_normal_auc"] > 1
    assert m["auc"]["necrotic"] < m["auc"]["tumor"]
    for key in ["auc", "cmax", "auc_systemic", "tumor_to_systemic_auc", "time_above_threshold",
                "target_auc_fraction_above_threshold", "dose_fraction_in_target", "time_step"]:
        assert key in m, key
    assert 0 < m["dose_fraction_in_target"]["peak"] < 1


def test_outputs_at_exact_times(hai):
    fields = np.load(hai.directory / "fields" / "fields.npz")
    expected = np.arange(1, 7) * 1200.0
    assert np.array_equal(fields["drug_times"], expected)
    assert fields["c_t"].shape == (6, *fields["labels"].shape)
    assert fields["auc"].shape == fields["labels"].shape == fields["auc_iv"].shape
    assert fields["auc"][fields["labels"] == 2].mean() > fields["auc_iv"][fields["labels"] == 2].mean()
    pvd = (hai.directory / "fields" / "drug.pvd").read_text()
    assert pvd.count("<DataSet") == 6 and 'timestep="7200' in pvd
    snapshot = read_vti(hai.directory / "fields" / "drug_0005.vti")
    assert np.allclose(snapshot.cell_data["c_t"], fields["c_t"][5])
    series = _series(hai.directory / "timeseries.csv")
    for t in [600.0, 2400.0, *expected]:
        assert t in series["time_s"]
    assert (hai.directory / "timeseries_iv.csv").exists()


def test_reverse_exchange_after_the_infusion_stops(hai):
    series = _series(hai.directory / "timeseries.csv")
    t = series["time_s"]
    into_tissue = series["plasma_to_tissue_kg"]
    stop = np.searchsorted(t, 2400.0)
    assert into_tissue[stop] > into_tissue[-1]  # net flow back to the blood after the stop
    free = series["tissue_free_kg"]
    assert free[-1] < free[stop]


def test_metrics_json_is_valid(hai):
    metrics = json.loads((hai.directory / "metrics.json").read_text())
    assert metrics["drug"]["name"] == "doxorubicin"
    assert metrics["time_step"]["max_step_s"] == 60.0


def test_float32_drug_run_matches_float64(liver_dict, tmp_path):
    """float32 state with float64 reductions: budget ≤ 1e-5, exposure within 1e-3 of float64."""
    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["simulation"] = {"duration": "1 h", "output_every": "30 min"}
    case = case_from_dict(liver_dict)
    single = run_case(case, tmp_path / "f32", backend="numpy", precision="float32").metrics
    double = run_case(case, tmp_path / "f64", backend="numpy", precision="float64").metrics
    assert single["precision"] == "float32"
    assert single["mass_balance_error"] < 1e-5
    for name, value in double["auc"].items():
        assert single["auc"][name] == pytest.approx(value, rel=1e-3)


@pytest.mark.slow
def test_demo_case_end_to_end(tmp_path):
    """The demo itself: 4 h of doxorubicin HAI with its IV comparator, budget to round-off."""
    from perfusion import load_case
    from perfusion.library.cases import builtin_cases

    metrics = run_case(load_case(builtin_cases()["liver_hai"]), tmp_path / "demo",
                       backend="numpy").metrics
    assert metrics["mass_balance_error"] < 1e-10
    assert metrics["iv"]["mass_balance_error"] < 1e-10
    assert metrics["regional_advantage"] > 2
    assert metrics["auc"]["tumor"] > metrics["iv"]["auc"]["tumor"]
    assert metrics["time_step"]["steps"] == 240
