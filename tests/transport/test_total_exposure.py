"""Exposure over all time (``perfusion.transport.total_exposure``, docs/model.md §7, §10): the
time-stepped run converges to it, it is linear in the doses, and runs without one say why.

The closed form on the well-mixed box is ``tests/verification/test_total_exposure_closed_form.py``.
Here the small liver (``case_data.LIVER``, a non-uniform perfusion with two tumours) carries a
linear library drug (floxuridine: first-order uptake, release, elimination):

- the run's own AUC over its window plus the linear tail from its final state
  (``window_and_tail_target_auc``) approaches the steady solve as the step shrinks, at the
  first order of the Lie splitting (docs/model.md §11.4): error ``∝ Δt``, so halving the step
  halves it (observed order ``log₂(e_{2Δt}/e_{Δt})`` in [0.7, 1.3]); measured 4.14e-4,
  2.41e-4, 1.29e-4 at 2 min, 1 min, 30 s (orders 0.78, 0.90);
- the steady solve is a linear map of the doses and the catheter field ``g``: two catheters
  with doses ``D₁``, ``D₂`` in fields ``g₁``, ``g₂`` give the sum of their totals, which is one
  catheter with dose ``D₁ + D₂`` in ``g = (D₁ g₁ + D₂ g₂)/(D₁ + D₂)``. Tolerance 1e-8 of the
  largest value: each BiCGStab solve stops at a residual of 1e-12, but ``K`` is only weakly
  diagonally dominant where no blood exchanges drug (the necrotic core: diagonal 1e-4 against
  1.3, 1-norm condition ≈ 4e4), so a solve agrees with a direct LU to ~2e-9 of its largest
  value (measured 1.7e-9) and a combination of three solves to a few 1e-9 (measured 2.8e-10).
"""
from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.compute.backend import make_backend
from perfusion.domain import build_domain
from perfusion.steady.solve import solve_steady
from perfusion.transport.run import drug_setup
from perfusion.transport.total_exposure import TotalExposure, Totals, catheter_plasma

INFUSION = [{"route": "intra-arterial", "start": "0 min", "duration": "30 min", "dose": "50 mg"}]


def _liver(drug: str, duration: str = "40 min", max_step: str = "1 min") -> dict:
    from case_data import LIVER

    raw = copy.deepcopy(LIVER)
    raw["drug"] = {"name": drug}
    raw["infusion"] = copy.deepcopy(INFUSION)
    raw["simulation"] = {"duration": duration, "output_every": duration, "max_step": max_step}
    return raw


def _metrics(raw, directory) -> dict:
    result = run_case(case_from_dict(raw), directory, backend="numpy")
    return json.loads((result.directory / "metrics.json").read_text())


def test_time_stepped_window_and_tail_converge_at_first_order(tmp_path):
    steps = {"2 min": 120.0, "1 min": 60.0, "30 s": 30.0}
    runs = {}
    for label, seconds in steps.items():
        metrics = _metrics(_liver("floxuridine", max_step=label), tmp_path / label.replace(" ", ""))
        assert metrics["time_step"]["max_step_s"] == seconds       # not shortened by coupling
        runs[label] = metrics["exposure_total"]
    assert all(total["linear_model"] is True for total in runs.values())
    # the total from the doses does not depend on the step at all
    reference = runs["30 s"]["tumor_auc"]
    assert all(total["tumor_auc"] == pytest.approx(reference, rel=1e-12) for total in runs.values())
    errors = [runs[label]["window_and_tail_relative_difference"] for label in steps]
    print("window + tail relative difference at 2 min, 1 min, 30 s:", errors)
    assert errors[0] > errors[1] > errors[2] > 0
    assert errors[1] < 5e-4
    for coarse, fine in itertools.pairwise(errors):
        assert 0.7 <= math.log2(coarse / fine) <= 1.3


@pytest.fixture(scope="module")
def liver_system():
    """TotalExposure of floxuridine on the small liver; the catheter's ``g₁`` and a second
    catheter field ``g₂`` that feeds the whole organ (``θ = 1``), both normalised so that
    ``Σ V F_eff g = 1`` (the catheter's dose all passes through the tissue)."""
    case = case_from_dict(_liver("floxuridine"))
    backend = make_backend("numpy", "float64")
    domain = build_domain(case, backend)
    steady = solve_steady(case, domain)
    setup = drug_setup(case, domain, steady)
    system = TotalExposure(setup.problem, setup.pk.clearance, domain.voxel_volume, backend)
    carried = setup.problem.blood_to_plasma * system.tissue_vector(steady.perfusion)
    g1 = catheter_plasma(system, setup.problem, backend)
    g2 = np.full(system.index.size, 1 / (domain.voxel_volume * carried.sum()))
    return system, g1, g2, domain.voxel_volume * carried


LINEARITY = 1e-8


def _close(actual, expected, rel=LINEARITY):
    """Totals equal to ``rel`` of their largest value (voxels far off the catheter are ~0)."""
    for name in ("tissue", "free", "bound"):
        a, e = getattr(actual, name), getattr(expected, name)
        assert np.max(np.abs(a - e)) <= rel * np.max(np.abs(e)), name
    assert actual.systemic == pytest.approx(expected.systemic, rel=rel)


def _sum(*parts):
    return Totals(*(sum(getattr(p, name) for p in parts)
                    for name in ("tissue", "free", "bound", "systemic")))


def test_two_catheters_superpose(liver_system):
    system, g1, g2, carried = liver_system
    assert carried @ g1 == pytest.approx(1.0, rel=1e-10)           # the catheter's flow
    assert np.count_nonzero(g1) < g1.size                          # g₁ is not g₂'s shape
    d1, d2 = 3e-5, 2e-5
    combined = system.totals(d1 + d2, plasma_per_rate=(d1 * g1 + d2 * g2) / (d1 + d2))
    _close(combined, _sum(system.totals(d1, plasma_per_rate=g1),
                          system.totals(d2, plasma_per_rate=g2)))
    # the free-drug response per unit dose is linear in g, for any a, b
    a, b = 0.7, -1.9
    combination = a * system.catheter_response(g1) + b * system.catheter_response(g2)
    assert np.max(np.abs(system.catheter_response(a * g1 + b * g2) - combination)) <= (
        LINEARITY * np.max(np.abs(combination)))


def test_solve_agrees_with_a_direct_factorisation(liver_system):
    """The iterative solve against scipy's sparse LU of the same matrix (see the docstring)."""
    from scipy.sparse.linalg import spsolve

    system, g1, _, _ = liver_system
    direct = spsolve(system.matrix.tocsc(), system.intake * g1)
    assert np.max(np.abs(system.catheter_response(g1) - direct)) <= 5e-9 * np.max(direct)


def test_doses_and_initial_state_superpose(liver_system):
    system, g1, _, _ = liver_system
    n = system.index.size
    rng = np.random.default_rng(16)
    free0, bound0, body0 = rng.uniform(0, 1e-3, n), rng.uniform(0, 2e-3, n), 1e-5
    together = system.totals(4e-5, 1e-5, g1, free0=free0, bound0=bound0, body0=body0)
    parts = [system.totals(4e-5, plasma_per_rate=g1), system.totals(iv_dose=1e-5),
             system.totals(free0=free0, bound0=bound0), system.totals(body0=body0)]
    _close(together, _sum(*parts))
    # doubling every input doubles every total
    _close(system.totals(8e-5, 2e-5, g1, free0=2 * free0, bound0=2 * bound0, body0=2 * body0),
           _sum(together, together))


def test_given_catheter_response_changes_nothing(liver_system):
    system, g1, _, _ = liver_system
    given = system.totals(5e-5, 1e-5, g1, catheter_free=system.catheter_response(g1))
    solved = system.totals(5e-5, 1e-5, g1)
    _close(given, solved, rel=1e-14)
    assert solved.systemic > 0 and float(solved.tissue.max()) > 0


def _assert_run_succeeded(metrics):
    assert all(check["passed"] for check in metrics["checks"].values())
    assert metrics["mass_balance_error"] < 1e-12
    assert all(value > 0 for value in metrics["auc"].values())    # the window is reported


def test_bound_drug_never_leaving_has_no_total(tmp_path):
    """Cisplatin binds (k_in > 0) and never releases or loses bound drug (k_out = k_c = 0)."""
    metrics = _metrics(_liver("cisplatin", duration="30 min"), tmp_path / "cisplatin")
    values = metrics["drug"]["values"]
    assert float(values["uptake_rate"].split()[0]) > 0
    assert values["release_rate"] == values["cell_elimination_rate"] == "0.0 1/s"
    total = metrics["exposure_total"]
    assert total["available"] is False
    assert "k_out = k_c = 0" in total["reason"] and "infinite" in total["reason"]
    _assert_run_succeeded(metrics)


def test_nothing_eliminating_has_no_total(tmp_path):
    """A tracer with no tissue loss in a body with CL = 0: everything given stays forever."""
    from case_data import WELL_MIXED, tracer

    raw = copy.deepcopy(WELL_MIXED)
    raw["drug"] = tracer()
    raw["systemic"]["clearance"] = "0 mL/min"
    raw["infusion"] = copy.deepcopy(INFUSION)
    raw["simulation"] = {"duration": "40 min", "output_every": "40 min", "max_step": "5 min"}
    metrics = _metrics(raw, tmp_path / "kept")
    total = metrics["exposure_total"]
    assert total["available"] is False
    assert "CL = 0" in total["reason"] and "infinite" in total["reason"]
    assert metrics["systemic"]["total_body_clearance_ml_min"] == 0.0
    _assert_run_succeeded(metrics)


def test_saturable_drug_reports_its_linearisation_error(tmp_path):
    """Doxorubicin's saturable uptake: the total is the low-concentration (linearised) model,
    flagged, and the run's window plus tail says how far the real run is from it."""
    metrics = _metrics(_liver("doxorubicin", duration="40 min"), tmp_path / "doxorubicin")
    total = metrics["exposure_total"]
    assert total["linear_model"] is False
    difference = total["window_and_tail_relative_difference"]
    print(f"doxorubicin: linearised {total['tumor_auc']:.6g}, window + tail "
          f"{total['window_and_tail_target_auc']:.6g}, relative difference {difference:.4g}")
    assert math.isfinite(difference) and difference > 0
    assert total["window_and_tail_target_auc"] >= metrics["target_auc"] > 0
    _assert_run_succeeded(metrics)
