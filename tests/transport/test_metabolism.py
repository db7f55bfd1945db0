"""Organ metabolism per class, the organ/total-body clearance split and the outflow outputs
(docs/model.md §6.5, §6.6, §7, §10).

The box is ``case_data.WELL_MIXED``: uniformly perfused (100 mL/min/100 mL, the library
normal-tissue default), all catheter blood, no filtration or lymph, so a voxel's steady
extraction has the closed form (Renkin–Crone exchange, first-order loss ``k`` of ``m``):

    E(F) = E_RC k / (F_p E_RC / v_e + k),   E_RC = 1 − exp(−PS/F_p),  F_p = (1 − Hct) F
    ⇒ k = E F_p E_RC / (v_e (E_RC − E))     (the CL_int of a stated E at a stated F)

written out here by hand, independently of ``WellMixedLiver``. The runs measure the
extraction from their own budget over the last 10 minutes of a constant infusion
(``metabolised / (I + Q_p ∫c_sys dt)``) and from the new ``extraction`` column.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import math

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict

HEMATOCRIT = 0.45
PERFUSION = 1 / 60                     # 100 mL/min/100 mL [1/s]
PS = 1e-6 * 1e4                        # P · S/V of the tracer in WELL_MIXED [1/s]
V_E = 0.25
WINDOW = 600.0


def _closed_form_rate(extraction, perfusion):
    f_p = (1 - HEMATOCRIT) * perfusion
    e_rc = -math.expm1(-PS / f_p)
    return extraction * f_p * e_rc / (V_E * (e_rc - extraction))


def _closed_form_extraction(rate, perfusion):
    f_p = (1 - HEMATOCRIT) * perfusion
    e_rc = -math.expm1(-PS / f_p)
    return e_rc * rate / (f_p * e_rc / V_E + rate)


def _case(metabolism=None, route="intra-arterial", duration="30 min", **drug):
    from case_data import WELL_MIXED, tracer

    raw = copy.deepcopy(WELL_MIXED)
    raw["drug"] = tracer(**drug)
    if metabolism is not None:
        raw["drug"]["metabolism"] = metabolism
    raw["infusion"] = [{"route": route, "start": "0 min", "duration": duration,
                        "rate": "1 mg/min"}]
    raw["simulation"] = {"duration": duration, "output_every": duration, "max_step": "1 min"}
    return raw


def _run(raw, tmp_path, name):
    result = run_case(case_from_dict(raw), tmp_path / name, backend="numpy")
    rows = list(csv.DictReader(open(result.directory / "timeseries.csv")))
    series = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    return result, series


def _window_extraction(series, plasma_flow):
    t = series["time_s"]
    first = int(np.searchsorted(t, t[-1] - WINDOW))
    # c_p uses c_sys at the start of each step: a left rectangle over the window's steps
    systemic = np.sum(series["c_sys"][first:-1] * np.diff(t[first:]))
    inflow = series["infused_ia_kg"][-1] - series["infused_ia_kg"][first] + plasma_flow * systemic
    return (series["metabolised_kg"][-1] - series["metabolised_kg"][first]) / inflow


PLASMA_FLOW = (1 - HEMATOCRIT) * 216e-6 / 60    # 216 mL/min of blood into the box [m³/s]


@pytest.fixture(scope="module")
def stated(tmp_path_factory):
    raw = _case({"normal": {"extraction": 0.5, "at_perfusion": "100 mL/min/(100 mL)"}})
    return _run(raw, tmp_path_factory.mktemp("metabolism"), "stated")


def test_extraction_at_the_stated_perfusion(stated):
    result, series = stated
    measured = _window_extraction(series, PLASMA_FLOW)
    assert measured == pytest.approx(0.5, rel=1e-2)
    assert series["extraction"][-1] == pytest.approx(0.5, rel=1e-2)       # the new column
    assert result.metrics["hepatic_extraction"] == pytest.approx(0.5, rel=1e-2)
    assert result.metrics["mass_balance_error"] <= 1e-12
    # venous outflow: c_in (1 − E) at steady state, c_in = c_sys + I/Q_p
    c_in = series["c_sys"][-2] + (1e-6 / 60) / PLASMA_FLOW
    assert series["c_venous_outflow"][-1] == pytest.approx(c_in * (1 - measured), rel=1e-3)
    assert series["c_inflow"][-1] == pytest.approx(c_in, rel=1e-12)


def test_extraction_at_another_perfusion_follows_the_closed_form(tmp_path):
    raw = _case({"normal": {"extraction": 0.5, "at_perfusion": "50 mL/min/(100 mL)"}})
    _, series = _run(raw, tmp_path, "other")
    expected = _closed_form_extraction(_closed_form_rate(0.5, PERFUSION / 2), PERFUSION)
    assert abs(expected - 0.5) > 0.05          # the flow matters
    assert _window_extraction(series, PLASMA_FLOW) == pytest.approx(expected, rel=1e-2)


def test_saturable_below_km_is_first_order_and_balances(tmp_path):
    max_rate, affinity = 5e-2, 10.0            # kg/(m³ s), kg/m³ (c_e ~ 1e-3 ≪ K_m)
    sat, sat_series = _run(_case({"normal": {"max_rate": f"{max_rate} kg/(m^3*s)",
                                             "affinity": f"{affinity} kg/m^3"}}), tmp_path, "sat")
    rate = max_rate / (V_E * affinity)          # CL_int on m = v_e c_e
    lin, lin_series = _run(_case({"normal": {"intrinsic_clearance": f"{rate} 1/s"}}),
                           tmp_path, "lin")
    assert sat.metrics["mass_balance_error"] <= 1e-12
    assert lin.metrics["mass_balance_error"] <= 1e-12
    # At steady state the implicit step mean R̄ = R(m₁) and the exact exponential step have
    # the same fixed point, so only the saturation c_e/K_m (~1e-4) separates the two: 1e-3.
    # The totals also hold the first step, where R̄ (held over the 1-min step at its end
    # value) differs from the exact exponential while the tissue fills (seconds): 2e-2.
    sat_e, lin_e = (_window_extraction(s, PLASMA_FLOW) for s in (sat_series, lin_series))
    print(f"E saturable {sat_e:.6f}, first order {lin_e:.6f}; totals "
          f"{sat.metrics['metabolised_kg']:.6e} {lin.metrics['metabolised_kg']:.6e}")
    assert sat_e == pytest.approx(lin_e, rel=1e-3)
    assert sat.metrics["metabolised_kg"] == pytest.approx(lin.metrics["metabolised_kg"], rel=2e-2)


def test_tumour_metabolises_nothing_unless_given(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")   # the NumPy reference and its fast path
    from perfusion.compute.backend import make_backend
    from perfusion.domain import build_domain
    from perfusion.steady.solve import solve_steady
    from perfusion.transport.exchange import pointwise_step
    from perfusion.transport.metabolism import class_metabolism
    from perfusion.transport.parameters import resolve_drug
    from perfusion.transport.problem import build_problem

    raw = _case({"normal": {"intrinsic_clearance": "0.01 1/s"}})
    raw["geometry"]["tumors"] = [{"center": ["4 cm", "4 cm", "4 cm"], "radius": "1.5 cm"}]
    case = case_from_dict(raw)
    domain = build_domain(case, make_backend("numpy"))
    steady = solve_steady(case, domain)
    drug = resolve_drug(case)
    metabolism = class_metabolism(case, domain, drug, steady.hematocrit)
    assert set(metabolism) == {"normal"}
    problem = build_problem(domain, steady, drug, steady.hematocrit, metabolism)
    tumor, normal = domain.class_mask("tumor"), domain.class_mask("normal")
    assert tumor.any()
    assert np.all(problem.exchange.metabolism[tumor] == 0)
    assert np.all(problem.exchange.metabolism[normal] == 0.01)
    m = np.where(domain.mask, 1e-3, 0.0)
    _, _, moved = pointwise_step(problem.exchange, problem.uptake, m, np.zeros_like(m),
                                 np.full_like(m, 1e-3), 60.0)
    assert np.all(moved.metabolised[tumor] == 0)
    assert np.all(moved.metabolised[normal] > 0)
    # the NumPy fast path of the loop: the reference's bits, metabolised amount included
    out = (np.empty_like(m), np.empty_like(m))
    fast = problem.fast_pointwise.step(m, np.zeros_like(m), np.full_like(m, 1e-3), 60.0, out)
    reference, _, _ = pointwise_step(problem.exchange, problem.uptake, m, np.zeros_like(m),
                                     np.full_like(m, 1e-3), 60.0)
    assert np.array_equal(out[0], reference)
    assert fast[3] == pytest.approx(float(moved.metabolised.sum()), rel=1e-13)


def test_iv_total_body_clearance_is_the_library_value(tmp_path, monkeypatch):
    """CL_rest = CL_TB − CL_organ, so an IV run's own clearance is CL_TB.

    5-FU with its library total-body clearance replaced by 200 mL/min (so that the box, 216
    mL, carries a large share) and E = 0.5 metabolism: CL_organ ≈ 0.5 · 119 mL/min. Measured
    over the run, ``(eliminated_body + metabolised)/∫c_sys dt``; the tissue follows c_sys
    within seconds, so the lag over 2 h of steady IV infusion is < 1e-3, and the per-voxel
    well-mixed CL_organ differs from the transported one by the diffusion of the box's edge
    voxels (< 1e-3, no flow gradient). Tolerance 1 %.
    """
    import perfusion.library.drugs as drugs
    from perfusion.library.drug_model import Sourced

    original = drugs.get_drug
    patched = dataclasses.replace(original("5-fluorouracil"),
                                  clearance=Sourced(200e-6 / 60, "test value"))
    monkeypatch.setattr(drugs, "get_drug",
                        lambda name: patched if name == "5-fluorouracil" else original(name))
    raw = _case(route="intravenous", duration="2 h")
    raw["drug"] = {"name": "5-fluorouracil", "permeability": "1e-6 m/s",
                   "metabolism": {"normal": {"extraction": 0.5,
                                             "at_perfusion": "100 mL/min/(100 mL)"}}}
    raw.pop("systemic")
    raw.pop("catheter")
    result, series = _run(raw, tmp_path, "iv")
    systemic = result.metrics["systemic"]
    assert systemic["total_body_clearance_ml_min"] == pytest.approx(200.0, rel=1e-12)
    assert systemic["organ_clearance_ml_min"] == pytest.approx(0.5 * PLASMA_FLOW * 6e7, rel=1e-3)
    assert systemic["clearance_rest_ml_min"] == pytest.approx(
        200.0 - systemic["organ_clearance_ml_min"], rel=1e-12)
    removed = series["eliminated_body_kg"][-1] + series["metabolised_kg"][-1]
    measured = removed / result.metrics["auc_systemic"] * 6e7
    assert measured == pytest.approx(200.0, rel=1e-2)
    assert result.metrics["mass_balance_error"] <= 1e-12


def test_bound_auc_is_part_of_the_total(tmp_path):
    raw = _case({"normal": {"intrinsic_clearance": "0.002 1/s"}}, uptake="linear",
                uptake_rate="0.01 1/s", release_rate="0.001 1/s")
    result, _ = _run(raw, tmp_path, "bound")
    bound, total = result.metrics["auc_bound"], result.metrics["auc"]
    assert 0 < bound["normal"] < total["normal"]
    assert result.metrics["mass_balance_error"] <= 1e-12
