"""Blood-to-plasma partition and the catheter routes (docs/model.md §6.1, §8.2).

Blood carries drug at ``C_b = R_b c_p``, so the catheter mixes the infusion ``I`` into the
drug-carrying flow ``Q_cath,eff = R_b Q_cath,blood``: on a region fed entirely by the catheter
(θ = 1) ``c_p − c_sys = I / (R_b Q_blood)``, which is ``I / Q_plasma`` for a plasma-only drug
(``R_b = 1 − Hct``, the default). Point inlets split the drug as ``Q_t^σ / Σ Q^σ``.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
from case_data import WELL_MIXED, tracer

from perfusion.case.loader import case_from_dict
from perfusion.compute.backend import make_backend
from perfusion.domain import build_domain
from perfusion.errors import CaseError
from perfusion.steady.solve import solve_steady
from perfusion.steady.territory import solve_territory
from perfusion.transport.parameters import resolve_drug
from perfusion.transport.problem import build_problem
from perfusion.vascular.catheter import place_catheter, point_inlet_split

Q_BLOOD = 216e-6 / 60     # the well-mixed region's blood flow [m³/s]
RATE = 1e-6 / 60          # 1 mg/min [kg/s]


def _drug_case(raw=None, route="intra-arterial", **drug):
    raw = copy.deepcopy(raw or WELL_MIXED)
    raw["drug"] = tracer(**drug)
    raw["infusion"] = [{"route": route, "start": "0 min", "duration": "10 min", "rate": "1 mg/min"}]
    raw["simulation"] = {"duration": "10 min"}
    return case_from_dict(raw)


@pytest.fixture(scope="module")
def well_mixed():
    case = _drug_case()
    domain = build_domain(case, make_backend("numpy", "float64"))
    return case, domain, solve_steady(case, domain)


@pytest.mark.parametrize("blood_to_plasma", [None, 0.55, 1.0, 2.5])
def test_catheter_concentration_scales_as_one_over_rb_q_blood(well_mixed, blood_to_plasma):
    case, domain, steady = well_mixed
    drug = replace(resolve_drug(case), blood_to_plasma=blood_to_plasma)
    problem = build_problem(domain, steady, drug, steady.hematocrit)
    r_b = 1 - steady.hematocrit if blood_to_plasma is None else blood_to_plasma
    tissue = domain.mask
    assert np.allclose(steady.territory[tissue], 1.0, rtol=0, atol=1e-12)
    c_p = problem.plasma_concentration(np, 0.0, RATE)
    assert c_p[tissue] == pytest.approx(RATE / (r_b * Q_BLOOD), rel=1e-9)
    assert problem.catheter_effective_flow == pytest.approx(r_b * Q_BLOOD, rel=1e-9)
    assert problem.catheter_plasma_flow == pytest.approx((1 - steady.hematocrit) * Q_BLOOD, rel=1e-9)
    # the drug flux the blood carries in is the infusion: ∫F_eff c_p dV = I
    flux = float(np.sum(r_b * steady.perfusion * c_p)) * domain.voxel_volume
    assert flux == pytest.approx(RATE, rel=1e-9)
    # vascular drug in C_t: v_b R_b = v_p R_b / (1 − Hct)
    v_p = 0.05
    assert problem.vascular_drug_fraction[tissue] == pytest.approx(
        v_p * r_b / (1 - steady.hematocrit), rel=1e-12)


def test_plasma_only_default_is_the_plasma_flow_bit_for_bit(well_mixed):
    """R_b not given computes exactly what the plasma-flow model computed: F_p = (1 − Hct) F."""
    case, domain, steady = well_mixed
    drug = resolve_drug(case)
    assert drug.blood_to_plasma is None
    problem = build_problem(domain, steady, drug, steady.hematocrit)
    plasma = (1 - steady.hematocrit) * steady.perfusion
    assert problem.effective_flow == problem.plasma_flow
    assert problem.catheter_effective_flow == problem.catheter_plasma_flow
    assert problem.vascular_drug_fraction is problem.plasma_fraction
    extraction = -np.expm1(-drug.permeability * 1e4 / np.where(plasma > 0, plasma, 1))
    assert np.array_equal(problem.exchange.clearance[domain.mask],
                          (plasma * extraction)[domain.mask])


def test_blood_to_plasma_is_resolved_from_the_case(well_mixed):
    drug = resolve_drug(_drug_case(blood_to_plasma=1.2))
    assert drug.blood_to_plasma == 1.2
    assert drug.sources["blood_to_plasma"] == "case file"


def _portal(raw):
    raw["supplies"][0]["name"] = raw["catheter"]["supply"] = "portal_vein"
    return raw


@pytest.mark.parametrize("supply, kind, route, fix", [
    ("artery", None, "portal-venous", "give route = 'intra-arterial'"),
    ("portal_vein", None, "intra-arterial", "give route = 'portal-venous'"),
    ("artery", "portal", "intra-arterial", "give route = 'portal-venous'"),
])
def test_route_must_match_the_catheter_supply(supply, kind, route, fix):
    raw = copy.deepcopy(WELL_MIXED)
    raw["supplies"][0]["name"] = raw["catheter"]["supply"] = supply
    if kind is not None:
        raw["supplies"][0]["kind"] = kind
    with pytest.raises(CaseError) as error:
        _drug_case(raw, route=route)
    message = str(error.value)
    assert "<case>: infusion.0.route:" in message
    assert fix in message and f"catheter.supply = {supply!r}" in message


def test_supply_kind_overrides_the_name():
    raw = copy.deepcopy(WELL_MIXED)
    raw["supplies"][0]["kind"] = "portal"      # a portal supply whose name does not say so
    case = _drug_case(raw, route="portal-venous")
    assert case.supplies[0].vessel_kind == "portal"
    assert _drug_case(_portal(copy.deepcopy(WELL_MIXED)), route="portal-venous")


TWO_INLETS = {"name": "artery", "inlets": [
    {"name": "a", "voxel": [2, 4, 4], "flow": "54 mL/min", "radius": "1 cm"},
    {"name": "b", "voxel": [6, 4, 4], "flow": "162 mL/min", "radius": "1 cm"}]}


def _two_inlet_steady(exponent):
    raw = copy.deepcopy(WELL_MIXED)
    raw["supplies"] = [copy.deepcopy(TWO_INLETS)]
    raw["catheter"] = {"supply": "artery", "inlets": ["a", "b"], "streaming_exponent": exponent}
    case = case_from_dict(raw)
    domain = build_domain(case, make_backend("numpy", "float64"))
    return case, domain, solve_steady(case, domain)


def test_point_inlet_split_closed_form():
    weights = point_inlet_split({"a": 1.0, "b": 3.0}, 2.0)
    drug = {k: weights[k] * q for k, q in {"a": 1.0, "b": 3.0}.items()}   # Q_t a_t = d_t Q_cath
    assert drug["b"] / drug["a"] == pytest.approx(9.0, rel=1e-14)
    assert sum(drug.values()) == pytest.approx(4.0, rel=1e-14)
    assert point_inlet_split({"a": 1.0, "b": 3.0}, 1.0) == pytest.approx({"a": 1.0, "b": 1.0})


def test_streaming_on_point_inlets():
    """σ = 1 is today's territory exactly; σ = 2 with flows 1:3 divides the drug 1:9, measured
    from the territory each inlet's weighted source carries (∫F_s w dV = Q_t a_t)."""
    _, _, mixed = _two_inlet_steady(1.0)
    case, domain, streaming = _two_inlet_steady(2.0)
    assert mixed.catheter.weights is None
    unweighted = solve_territory(mixed.supplies["artery"], {"a": 1.0, "b": 1.0}, domain.backend,
                                 domain.voxel_volume)
    assert np.array_equal(mixed.catheter_territory.fraction, unweighted.fraction)
    supply = streaming.supplies["artery"]
    weights = streaming.catheter.inlet_weights
    carried = {}
    for name in ("a", "b"):
        alone = solve_territory(supply, {name: weights[name]}, domain.backend, domain.voxel_volume)
        carried[name] = float(np.sum(supply.perfusion * alone.fraction)) * domain.voxel_volume
    assert carried["b"] / carried["a"] == pytest.approx(9.0, rel=1e-6)
    # the drug flux (the territory's flow-weighted total) is unchanged: Σ Q_t a_t = Q_cath
    total = float(np.sum(supply.perfusion * streaming.catheter_territory.fraction)) * domain.voxel_volume
    assert total == pytest.approx(Q_BLOOD, rel=1e-6)
    assert sum(carried.values()) == pytest.approx(Q_BLOOD, rel=1e-6)
    assert place_catheter(case, domain, streaming.supplies).weights == weights
