"""Tissue presets (``[tissue.<class>] preset``) and the per-class permeability factor.

Precedence: a key the case gives > the preset > the library class default. The permeability
factor ``f_P`` multiplies the drug's P in its class, so the exchange clearance is
``F_p (1 − exp(−f_P P S/V / F_p))`` (Renkin–Crone, docs/model.md §6.2).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from case_data import WELL_MIXED, tracer

from perfusion.case.loader import case_from_dict
from perfusion.compute.backend import make_backend
from perfusion.domain import build_domain, resolve_tissue
from perfusion.errors import CaseError
from perfusion.library.tissues import TISSUE_DEFAULTS, TISSUE_PRESETS
from perfusion.library.units import ML_MIN_100ML
from perfusion.steady.solve import solve_steady
from perfusion.transport.parameters import resolve_drug
from perfusion.transport.problem import build_problem


def _case(normal: dict):
    raw = copy.deepcopy(WELL_MIXED)
    raw["tissue"]["normal"] = {**raw["tissue"]["normal"], **normal}
    return case_from_dict(raw)


@pytest.mark.parametrize("name", list(TISSUE_PRESETS))
def test_every_preset_value_is_sourced_and_a_tissue_property(name):
    for field, default in TISSUE_PRESETS[name].items():
        assert field in TISSUE_DEFAULTS["normal"], field
        assert math.isfinite(default.value) and default.value >= 0
        assert default.source.strip()


def test_preset_fills_the_class_properties():
    case = _case({"preset": "grey-matter"})
    values, sources = resolve_tissue("normal", case.tissue["normal"])
    # perfusion is not given by WELL_MIXED's normal table: the preset's 56 mL/min/100 mL
    assert values["perfusion"] == pytest.approx(56.0 * ML_MIN_100ML)
    assert values["permeability_factor"] == TISSUE_PRESETS["grey-matter"]["permeability_factor"].value
    assert sources["perfusion"].startswith("preset grey-matter: ")
    # what the preset does not set stays the class default
    assert values["osmotic_reflection"] == TISSUE_DEFAULTS["normal"]["osmotic_reflection"].value


def test_explicit_key_overrides_the_preset():
    case = _case({"preset": "grey-matter", "perfusion": "30 mL/min/(100 mL)",
                  "extracellular_fraction": 0.3})
    values, sources = resolve_tissue("normal", case.tissue["normal"])
    assert values["perfusion"] == pytest.approx(30.0 * ML_MIN_100ML)
    assert values["extracellular_fraction"] == 0.3
    assert sources["perfusion"] == "case file"


def test_normal_liver_preset_is_the_class_default():
    values, _ = resolve_tissue("normal", _case({"preset": "normal-liver"}).tissue["normal"])
    plain, _ = resolve_tissue("normal", _case({}).tissue["normal"])
    assert values == plain


def test_unknown_preset_lists_the_presets_closest_first():
    with pytest.raises(CaseError) as error:
        _case({"preset": "hcc"})
    message = str(error.value)
    assert "tissue.normal.preset" in message and "'hcc'" in message
    listed = message.split("closest first: ")[1].split(", ")
    assert listed[0].startswith("hcc-hypervascular")
    assert all(name in message for name in TISSUE_PRESETS)


@pytest.mark.parametrize("factor", [1.0, 0.25, 1e-3])
def test_permeability_factor_scales_ps(factor):
    """Exchange clearance F_p E_RC with PS = f_P P S/V, against the closed form per voxel."""
    raw = copy.deepcopy(WELL_MIXED)
    raw["tissue"]["normal"]["permeability_factor"] = factor
    raw["drug"] = tracer()
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "1 min",
                        "rate": "1 mg/min"}]
    raw["simulation"] = {"duration": "1 min"}
    case = case_from_dict(raw)
    domain = build_domain(case, make_backend("numpy", "float64"))
    steady = solve_steady(case, domain)
    problem = build_problem(domain, steady, resolve_drug(case), steady.hematocrit)
    tissue = domain.mask
    plasma = (1 - steady.hematocrit) * steady.perfusion[tissue]
    ps = factor * 1e-6 * 1e4               # f_P · P (tracer 1e-6 m/s) · S/V (1e4 1/m)
    expected = plasma * -np.expm1(-ps / plasma)
    assert np.asarray(problem.exchange.clearance)[tissue] == pytest.approx(expected, rel=1e-12)
