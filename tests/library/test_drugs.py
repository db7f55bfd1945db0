"""The drug library: complete, sourced, SI, plausible, and consistent two-compartment PK."""
from __future__ import annotations

import math
from dataclasses import fields

import pytest

from perfusion.library.drugs import ALIASES, DRUGS, Drug, Sourced, get_drug, swabb_diffusivity

LITRE, ML_PER_MIN = 1.0e-3, 1.0e-6 / 60.0
EXPECTED = {"doxorubicin", "cisplatin", "5-fluorouracil", "floxuridine", "melphalan",
            "carboplatin", "tracer"}
UPTAKE_FIELDS = {"linear": ("uptake_rate", "release_rate"),
                 "saturable": ("max_uptake_rate", "extracellular_affinity",
                               "intracellular_affinity")}
ALL_UPTAKE_FIELDS = {name for names in UPTAKE_FIELDS.values() for name in names}
# (low, high) in SI. Volumes reach 3000 L because doxorubicin's V_ss is 809–1214 L/m² (label),
# i.e. ~1800 L for 1.8 m²; every other drug stays below 1000 L.
RANGES = {
    "diffusivity": (1e-11, 1e-8),
    "permeability": (1e-8, 1e-4),
    "solvent_drag_reflection": (0.0, 1.0),
    "elimination_rate": (0.0, 10.0),
    "cell_elimination_rate": (0.0, 1.0),
    "uptake_rate": (0.0, 1.0),
    "release_rate": (0.0, 1.0),
    "max_uptake_rate": (1e-8, 1e-2),
    "extracellular_affinity": (1e-6, 1.0),
    "intracellular_affinity": (1e-5, 1.0),
    "clearance": (1.0 * ML_PER_MIN, 10.0 * LITRE / 60.0),
    "central_volume": (1.0 * LITRE, 3000.0 * LITRE),
    "peripheral_volume": (1.0 * LITRE, 3000.0 * LITRE),
    "k12": (1e-7, 1.0),
    "k21": (1e-7, 1.0),
}

drugs = pytest.mark.parametrize("drug", list(DRUGS.values()), ids=list(DRUGS))


def _sourced_fields(drug: Drug):
    return {f.name: getattr(drug, f.name) for f in fields(drug)
            if isinstance(getattr(drug, f.name), Sourced)}


def test_library_holds_the_expected_drugs():
    assert set(DRUGS) == EXPECTED
    assert all(DRUGS[name].name == name for name in DRUGS)


@drugs
def test_every_value_is_finite_sourced_and_in_range(drug):
    values = _sourced_fields(drug)
    required = set(RANGES) - ALL_UPTAKE_FIELDS | set(UPTAKE_FIELDS.get(drug.uptake, ()))
    assert required <= set(values), required - set(values)
    for name, item in values.items():
        assert math.isfinite(item.value), name
        assert isinstance(item.source, str) and item.source.strip(), name
        assert isinstance(item.confirmed, bool), name
        low, high = RANGES[name]
        assert low <= item.value <= high, f"{drug.name}.{name} = {item.value:g} not in " \
                                          f"[{low:g}, {high:g}]"
    assert 50.0 < drug.molecular_weight < 1000.0


@drugs
def test_uptake_model_has_exactly_its_parameters(drug):
    assert drug.uptake in ("none", "linear", "saturable")
    own = set(UPTAKE_FIELDS.get(drug.uptake, ()))
    for name in ALL_UPTAKE_FIELDS:
        assert (getattr(drug, name) is not None) == (name in own), name


@drugs
def test_two_compartment_pk_is_consistent(drug):
    flow_12 = drug.k12.value * drug.central_volume.value
    flow_21 = drug.k21.value * drug.peripheral_volume.value
    assert flow_12 == pytest.approx(flow_21, rel=1e-6)


@drugs
def test_diffusivity_follows_swabb_within_factor_two(drug):
    ratio = drug.diffusivity.value / swabb_diffusivity(drug.molecular_weight)
    assert 0.5 <= ratio <= 2.0


def test_swabb_values_match_design_table():
    """DESIGN §2.7 lists D for cisplatin, 5-FU and FUDR from the same correlation."""
    assert swabb_diffusivity(300.1) == pytest.approx(2.5e-10, rel=0.02)
    assert swabb_diffusivity(130.1) == pytest.approx(4.6e-10, rel=0.02)
    assert swabb_diffusivity(246.2) == pytest.approx(2.9e-10, rel=0.02)
    assert 1.2e-10 <= get_drug("doxorubicin").diffusivity.value <= 1.6e-10


def test_doxorubicin_uptake_conversions():
    """0.28 ng/(1e5 cells·min), 0.219 µg/mL, 1.37 ng/1e5 cells at 6e8 cells/mL, in SI."""
    dox = get_drug("doxorubicin")
    cells_per_m3 = 6e8 / 1e-6
    assert dox.max_uptake_rate.value == pytest.approx(0.28e-12 / 1e5 / 60 * cells_per_m3)
    assert dox.extracellular_affinity.value == pytest.approx(2.19e-4)
    assert dox.intracellular_affinity.value == pytest.approx(1.37e-12 / 1e5 * cells_per_m3)


def test_quoted_clearances():
    assert get_drug("5-FU").clearance.value == pytest.approx(1.44 * LITRE / 60, rel=0.01)
    assert get_drug("carboplatin").clearance.value == pytest.approx(125 * ML_PER_MIN)
    assert get_drug("tracer").clearance.value == pytest.approx(120 * ML_PER_MIN)


@pytest.mark.parametrize("name,t_half_min,tolerance", [
    ("doxorubicin", 31 * 60, 0.01), ("melphalan", 70, 0.01), ("5-fluorouracil", 15, 0.15),
    ("cisplatin", 30, 0.2), ("tracer", 1.6 * 60, 0.25)])
def test_terminal_half_life_matches_source(name, t_half_min, tolerance):
    """The slow eigenvalue of the two-compartment body reproduces the reported t½."""
    d = get_drug(name)
    k10 = d.clearance.value / d.central_volume.value
    total, product = k10 + d.k12.value + d.k21.value, k10 * d.k21.value
    beta = (total - math.sqrt(total * total - 4.0 * product)) / 2.0
    assert math.log(2.0) / beta / 60.0 == pytest.approx(t_half_min, rel=tolerance)


def test_floxuridine_extraction_is_high():
    """k_e reproduces first-pass extraction 0.95 in flow-limited liver (F_p 0.55/60 s⁻¹)."""
    k_e, v_e, plasma_flow = get_drug("FUDR").elimination_rate.value, 0.25, 0.55 / 60.0
    assert v_e * k_e / (plasma_flow + v_e * k_e) == pytest.approx(0.95)


@pytest.mark.parametrize("alias", list(ALIASES))
def test_aliases_resolve(alias):
    assert get_drug(alias) is DRUGS[ALIASES[alias]]
    assert get_drug(alias.upper()) is DRUGS[ALIASES[alias]]


def test_names_are_case_insensitive():
    assert get_drug("  Doxorubicin ").name == "doxorubicin"
    assert get_drug("5-FU").name == "5-fluorouracil"
    assert get_drug("FUDR").name == "floxuridine"


def test_unknown_drug_names_the_available_ones():
    with pytest.raises(KeyError) as info:
        get_drug("aspirin")
    message = str(info.value)
    assert "aspirin" in message
    for name in EXPECTED:
        assert name in message


def test_sourced_and_drug_are_frozen():
    with pytest.raises(AttributeError):
        get_drug("tracer").clearance.value = 1.0
    with pytest.raises(AttributeError):
        get_drug("tracer").name = "x"
