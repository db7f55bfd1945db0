"""The drug library: complete, sourced, SI, plausible, and consistent two-compartment PK."""
from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest

from perfusion.library.drugs import ALIASES, DRUGS, Drug, Sourced, get_drug

LITRE, ML_PER_MIN = 1.0e-3, 1.0e-6 / 60.0
EXPECTED = {"doxorubicin", "cisplatin", "5-fluorouracil", "floxuridine", "melphalan",
            "carboplatin", "tracer", "oxaliplatin"}
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
    # floxuridine's published total-body (plasma) clearance is 25 L/min
    "clearance": (1.0 * ML_PER_MIN, 30.0 * LITRE / 60.0),
    "central_volume": (1.0 * LITRE, 3000.0 * LITRE),
    "peripheral_volume": (1.0 * LITRE, 3000.0 * LITRE),
    # floxuridine's fast-exchange split of V = 361 L from a 3 L plasma gives k12 ≈ 1.4 1/s
    # (the body is integrated exactly, so a fast rate costs nothing)
    "k12": (1e-7, 3.0),
    "k21": (1e-7, 1.0),
    # regional pharmacology (drug_regional): R_b, f_u, E in their physical ranges; the
    # perfusion of E 10–300 mL/min/100 mL; 5-FU's V_max and K_m
    "blood_to_plasma": (0.5, 3.0),
    "unbound_fraction": (0.0, 1.0),
    "hepatic_extraction": (0.0, 1.0),
    "hepatic_extraction_perfusion": (10.0 / 6000, 300.0 / 6000),
    "metabolism_max_rate": (1e-7, 1e-2),
    "metabolism_affinity": (1e-6, 1.0),
}
REGIONAL_FIELDS = ("blood_to_plasma", "unbound_fraction", "hepatic_extraction",
                   "hepatic_extraction_perfusion", "metabolism_max_rate", "metabolism_affinity")

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
    required = (set(RANGES) - ALL_UPTAKE_FIELDS - set(REGIONAL_FIELDS)
                | set(UPTAKE_FIELDS.get(drug.uptake, ())))
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


MIN, HOUR, M2 = 60.0, 3600.0, 1.8  # BSA 1.8 m², 70 kg: the library's stated adult
L_PER_MIN = LITRE / 60.0
# What each cited source reports, typed here from the citation (not from the library's
# derivation): (low, high) in SI, or one value with its relative tolerance as (v·(1−r), v·(1+r)).
_about = lambda value, rel: (value * (1 - rel), value * (1 + rel))  # noqa: E731
PUBLISHED_PK = {
    # doxorubicin label §12.3: CL 324–809 mL/min/m², V_ss 809–1214 L/m², distribution t½
    # "≈ 5 min", terminal t½ 20–48 h. "≈": 5 %.
    "doxorubicin": dict(clearance=(324e-3 * M2 * L_PER_MIN, 809e-3 * M2 * L_PER_MIN),
                        vss=(809 * M2 * LITRE, 1214 * M2 * LITRE),
                        t_alpha=_about(5 * MIN, 0.05), t_beta=(20 * HOUR, 48 * HOUR)),
    # ALKERAN i.v. monograph: t½ ≈ 10 and 70 min, CL 7–9 mL/min/kg, V_ss 0.5 L/kg (70 kg).
    "melphalan": dict(clearance=(7 * 70 * ML_PER_MIN, 9 * 70 * ML_PER_MIN),
                      vss=_about(0.5 * 70 * LITRE, 0.05),
                      t_alpha=_about(10 * MIN, 0.05), t_beta=_about(70 * MIN, 0.05)),
    # cisplatin label: CL 15–16 L/h/m², V_ss 11–12 L/m², monoexponential t½ 20–30 min. The
    # source's decay is one-compartment; the library's fast-exchange split lengthens the
    # terminal t½ by up to ~10 % and ln2·V/CL of the mid values is already 30.8 min, so the
    # upper end is widened by 15 %.
    "cisplatin": dict(clearance=(15 * M2 * LITRE / HOUR, 16 * M2 * LITRE / HOUR),
                      vss=(11 * M2 * LITRE, 12 * M2 * LITRE), t_beta=(20 * MIN, 30 * MIN * 1.15)),
    # Clin Cancer Res Table 3 (5-FU, no-recurrence group): mean CL 48.0 L/h/m², Vd 17.3 L/m²,
    # t½ 0.25 h. Means of three-figure values: 1 %; t½ is a mean of per-patient t½ and the
    # split lengthens it by up to ~10 %: 15 %.
    "5-fluorouracil": dict(clearance=_about(48.0 * M2 * LITRE / HOUR, 0.01),
                           vss=_about(17.3 * M2 * LITRE, 0.01), t_beta=_about(15 * MIN, 0.15)),
    # FUDR: total-body CL 25 L/min (Ensminger 1978 as tabulated by Ensminger & Gyves 1983 /
    # Collins 1984), t½ ≈ 10 min (Intera Oncology HAI page). ≈ and the split's ≤ ~10 %: 10 %.
    "floxuridine": dict(clearance=_about(25 * L_PER_MIN, 1e-9), t_beta=_about(10 * MIN, 0.10)),
    # oxaliplatin (Ehrsson et al. 2002 Med Oncol 19:261, intact drug): CL 32.1 ± 4.2 L/h/m²,
    # V_ss 0.26 ± 0.06 L/kg, t½ 14.1 min (range 10.2–24.5).
    "oxaliplatin": dict(clearance=_about(32.1 * M2 * LITRE / HOUR, 1e-9),
                        vss=_about(0.26 * 70 * LITRE, 1e-9), t_beta=(10.2 * MIN, 24.5 * MIN)),
    # carboplatin: Calvert CL = GFR + 25 mL/min (GFR 100 assumed), V 16 L (label). The label's
    # t½β (2.6–5.9 h) is for lower GFR, so the terminal t½ is checked against the
    # one-compartment decay of those CL and V, ln2·16 L/125 mL/min = 88.7 min, 10 % (split).
    "carboplatin": dict(clearance=_about(125 * ML_PER_MIN, 1e-9), vss=_about(16 * LITRE, 1e-9),
                        t_beta=_about(math.log(2) * 16 * LITRE / (125 * ML_PER_MIN), 0.10)),
    # Magnevist label: Vd 266 mL/kg (70 kg), CL = GFR 120 mL/min (assumed), t½β 1.6 h. The
    # label's own plasma CL is 1.94 mL/min/kg ≈ 136 mL/min (13 % above the GFR used) and the
    # split adds up to ~10 %: 25 %. (t½α 0.2 h is not kept: the split is assumed fast.)
    "tracer": dict(clearance=_about(120 * ML_PER_MIN, 1e-9), vss=_about(0.266 * 70 * LITRE, 1e-9),
                   t_beta=_about(1.6 * HOUR, 0.25)),
}


def _within(value, bounds):
    low, high = bounds
    return low <= value <= high


@drugs
def test_two_compartment_pk_reproduces_published_values(drug):
    """CL, V_ss and the half-lives the cited source reports, from (V_1, V_2, CL, k12, k21).

    Half-lives from the eigenvalues of the amounts' 2×2 system
    ``d(A_1, A_2)/dt = [[−(k10 + k12), k21], [k12, −k21]] (A_1, A_2)``, ``k10 = CL/V_1``
    (computed here with numpy, independent of the library's reduction formulas); V_ss both
    as ``V_1 + V_2`` and as ``V_1 (1 + k12/k21)`` (equal only when the peripheral
    concentration is plasma-equivalent, ``k12 V_1 = k21 V_2``).
    """
    published = PUBLISHED_PK[drug.name]
    v1, v2 = drug.central_volume.value, drug.peripheral_volume.value
    k12, k21, cl = drug.k12.value, drug.k21.value, drug.clearance.value
    rates = -np.linalg.eigvals(np.array([[-(cl / v1 + k12), k21], [k12, -k21]]))
    assert np.all(np.isreal(rates)) and np.all(rates.real > 0)
    t_beta, t_alpha = sorted(math.log(2.0) / rates.real, reverse=True)
    report = (f"{drug.name}: CL {cl / ML_PER_MIN:.4g} mL/min, V_ss {(v1 + v2) / LITRE:.4g} L, "
              f"t½ {t_alpha / 60:.3g} / {t_beta / 60:.4g} min")
    if "clearance" in published:
        assert _within(cl, published["clearance"]), report
    if "vss" in published:
        assert _within(v1 + v2, published["vss"]), report
        assert _within(v1 * (1 + k12 / k21), published["vss"]), report
    if "t_alpha" in published:
        assert _within(t_alpha, published["t_alpha"]), report
    assert _within(t_beta, published["t_beta"]), report


# docs/model.md §9.3's table of tissue diffusivities (quoted from Swabb et al. 1974, two significant
# figures; doxorubicin as a range).
QUOTED_DIFFUSIVITY = {"cisplatin": 2.5e-10, "5-fluorouracil": 4.6e-10, "floxuridine": 2.9e-10}


@pytest.mark.parametrize("name", list(QUOTED_DIFFUSIVITY))
def test_diffusivity_matches_quoted_value(name):
    """Library D vs the quoted value to its rounding: half a unit of the last quoted digit,
    ±0.05e-10 m²/s (2 %, 1.1 %, 1.7 %)."""
    assert get_drug(name).diffusivity.value == pytest.approx(QUOTED_DIFFUSIVITY[name],
                                                             abs=0.05e-10)


def test_doxorubicin_diffusivity_in_quoted_range():
    """docs/model.md §9.3: 1.2–1.6e-10 m²/s (the range quoted for doxorubicin)."""
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


# Floxuridine's k_e against its published extraction: tests/library/test_fudr_extraction.py
# (measured from a model run, not from the derivation that produced k_e).


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


@pytest.mark.parametrize("name, closest", [("doxorubicine", "doxorubicin"),
                                           ("Cisplatine", "cisplatin"),
                                           ("5-fluoruracil", "5-fluorouracil"),
                                           ("adriamicin", "doxorubicin")])  # close to an alias
def test_unknown_drug_lists_the_library_closest_first(name, closest):
    with pytest.raises(KeyError) as error:
        get_drug(name)
    message = str(error.value)
    assert f"did you mean {closest!r}?" in message
    listed = message.split("closest first: ")[1].split(" (aliases")[0].split(", ")
    assert listed[0] == closest and sorted(listed) == sorted(EXPECTED)


def test_unknown_drug_far_from_every_name_still_lists_them_all():
    with pytest.raises(KeyError) as error:
        get_drug("aspirin")
    assert "did you mean" not in str(error.value)
    assert all(name in str(error.value) for name in EXPECTED)


SYMBOLS = {"blood_to_plasma": "R_b", "unbound_fraction": "f_u", "hepatic_extraction": "E"}


@drugs
def test_regional_fields_are_given_or_explained(drug):
    """R_b, f_u and E are each a sourced value or None with "<symbol> not given: why" in notes;
    E comes with the perfusion it holds at, and V_max with K_m."""
    for name, symbol in SYMBOLS.items():
        item = getattr(drug, name)
        if item is None:
            assert f"{symbol} not given: " in drug.notes, (drug.name, name)
        else:
            assert isinstance(item, Sourced) and item.source.strip(), (drug.name, name)
    assert (drug.hepatic_extraction is None) == (drug.hepatic_extraction_perfusion is None)
    assert (drug.metabolism_max_rate is None) == (drug.metabolism_affinity is None)


def test_published_hepatic_extractions():
    """FUDR 0.94–0.99, 5-FU ≈ 0.5, doxorubicin 0.45–0.50 (Ensminger & Gyves 1983; Collins 1984)."""
    assert 0.94 <= get_drug("FUDR").hepatic_extraction.value <= 0.99
    assert get_drug("5-FU").hepatic_extraction.value == pytest.approx(0.5)
    assert 0.45 <= get_drug("doxorubicin").hepatic_extraction.value <= 0.50


def test_fluorouracil_saturable_metabolism_conversion():
    """Robinson et al. 1988: V_max/Q 41.0 µM, K_m 8.4 µM; MW 130.08 g/mol, F = 1/60 1/s."""
    fu = get_drug("5-FU")
    assert fu.metabolism_affinity.value == pytest.approx(8.4e-6 * 130.08)        # kg/m³
    assert fu.metabolism_max_rate.value == pytest.approx(41.0e-6 * 130.08 / 60)  # kg/(m³·s)


def test_melphalan_unbound_fraction_from_clearances():
    """f_u = CL_total / CL_unbound = 27.8 / 128 (Nath et al. 2010)."""
    assert get_drug("melphalan").unbound_fraction.value == pytest.approx(27.8 / 128)


def test_floxuridine_trapping_from_bading_1994():
    """FUDR's bound pool (issue 14 item 4) from Bading et al. 1994 (abstract read): mean
    tumour blood-into-cell extraction 0.78 ± 0.08 (range 0.56–0.96), < 10 % of the label left
    in tumour or liver by 3.5 h. k_in is the loss rate that extracts E in the library tumour's
    well-mixed voxel; there (no lymph, filtration balanced, E_RC = 1 − exp(−PS/F_p)) the
    closed form is k_in = E F_p E_RC / (v_e (E_RC − E)). k_c = ln 10 / 3.5 h."""
    from perfusion.library.drug_model import WellMixedLiver
    from perfusion.library.tissues import BLOOD_DEFAULTS, TISSUE_DEFAULTS

    fudr = get_drug("floxuridine")
    assert fudr.uptake == "linear"
    published_tumour_extraction, published_fraction_left, published_time = 0.78, 0.10, 3.5 * 3600
    tumour = {k: v.value for k, v in TISSUE_DEFAULTS["tumor"].items()}
    plasma_flow = (1 - BLOOD_DEFAULTS["hematocrit"].value) * tumour["perfusion"]
    e_rc = -math.expm1(-fudr.permeability.value * tumour["vascular_surface_density"]
                       / plasma_flow)
    e = published_tumour_extraction
    closed_form = e * plasma_flow * e_rc / (tumour["extracellular_fraction"] * (e_rc - e))
    assert fudr.uptake_rate.value == pytest.approx(closed_form, rel=1e-9)
    voxel = WellMixedLiver.of(fudr.permeability.value, 0.0, "tumor")
    assert voxel.extraction(fudr.uptake_rate.value) == pytest.approx(e, rel=1e-12)
    assert "0.78 ± 0.08" in fudr.uptake_rate.source and not fudr.uptake_rate.confirmed
    assert fudr.release_rate.value == 0.0
    k_c = fudr.cell_elimination_rate.value
    assert math.exp(-k_c * published_time) == pytest.approx(published_fraction_left, rel=1e-12)
    assert math.log(2) / k_c / 60 == pytest.approx(63.2, abs=0.05)  # t½ = 3.5 h · ln2/ln10
    assert "< 10 % left by 3.5 h" in fudr.cell_elimination_rate.source


def test_fluorouracil_trapping_and_blood_partition_explained():
    """5-FU's tumour half-life is recorded (Wolf, Presant et al. 1990 PNAS 87:492, abstract:
    t½ 0.4–2.1 h) but no uptake rate exists, so the pool stays off; no R_b was found."""
    fu = get_drug("5-fluorouracil")
    assert fu.uptake == "none" and "0.4–2.1 h" in fu.notes and "k_in cannot be set" in fu.notes
    for name in ("5-fluorouracil", "floxuridine", "cisplatin", "carboplatin", "melphalan"):
        drug = get_drug(name)
        assert drug.blood_to_plasma is None and "R_b not given:" in drug.notes
