"""Doses as clinicians write them (per kg, per m² of a [patient]) and warnings on
implausible doses and flows."""
from __future__ import annotations

import logging
import math

import pytest

from perfusion.case.loader import case_from_dict
from perfusion.case.resolved import resolved_case
from perfusion.errors import CaseError


def _drug_case(liver_dict, dose, patient=None, name="doxorubicin"):
    liver_dict["drug"] = {"name": name}
    liver_dict["infusion"] = [{"route": "intra-arterial", "start": "0 s", "duration": "10 min",
                               "dose": dose}]
    liver_dict["simulation"] = {"duration": "1 h"}
    if patient is not None:
        liver_dict["patient"] = patient
    return liver_dict


def test_dose_per_kg_uses_the_weight(liver_dict):
    case = case_from_dict(_drug_case(liver_dict, "1.5 mg/kg", {"weight": "70 kg"}))
    assert case.infusion[0].dose == pytest.approx(1.05e-4, rel=1e-12)   # 105 mg in kg


@pytest.mark.parametrize("formula, bsa", [
    ("mosteller", math.sqrt(170 * 70 / 3600)),                     # Mosteller 1987
    ("dubois", 0.007184 * 70**0.425 * 170**0.725)])                # Du Bois & Du Bois 1916
def test_dose_per_square_metre_uses_the_body_surface_area(liver_dict, formula, bsa):
    patient = {"weight": "70 kg", "height": "170 cm", "bsa_formula": formula}
    case = case_from_dict(_drug_case(liver_dict, "50 mg/m^2", patient))
    assert case.infusion[0].dose == pytest.approx(50e-6 * bsa, rel=1e-12)
    if formula == "mosteller":
        assert 50 * bsa == pytest.approx(90.9, abs=0.05)             # mg
    resolved = resolved_case(case, type("D", (), {"tissue": {}})(), {})
    assert float(resolved["patient"]["body_surface_area"].split()[0]) == pytest.approx(bsa)
    assert resolved["patient"]["bsa_formula"] == formula
    assert float(resolved["infusion"][0]["dose"].split()[0]) == pytest.approx(50e-6 * bsa)


def test_dose_per_kg_without_a_patient_is_an_error(liver_dict):
    with pytest.raises(CaseError) as error:
        case_from_dict(_drug_case(liver_dict, "1.5 mg/kg"))
    message = str(error.value)
    assert "infusion.0.dose" in message and "[patient]" in message and "weight" in message


def test_dose_per_square_metre_needs_a_height(liver_dict):
    with pytest.raises(CaseError, match="infusion.0.dose.*height"):
        case_from_dict(_drug_case(liver_dict, "50 mg/m^2", {"weight": "70 kg"}))


def test_implausible_doxorubicin_dose_warns_with_the_usual_range(liver_dict, caplog):
    with caplog.at_level(logging.WARNING, logger="perfusion"):
        case_from_dict(_drug_case(liver_dict, "50 g"))
    text = caplog.text
    assert "infusion.0.dose" in text and "60–75 mg/m^2" in text and "prescribing" in text, text


def test_usual_doxorubicin_dose_does_not_warn(liver_dict, caplog):
    patient = {"weight": "70 kg", "height": "170 cm"}
    with caplog.at_level(logging.WARNING, logger="perfusion"):
        case_from_dict(_drug_case(liver_dict, "60 mg/m^2", patient))
    assert "implausible" not in caplog.text


def test_implausible_arterial_inflow_warns(liver_dict, caplog):
    liver_dict["supplies"][0]["inlets"][0]["flow"] = "160 L/min"
    with caplog.at_level(logging.WARNING, logger="perfusion"):
        case_from_dict(liver_dict)
    assert "supplies.0 ('hepatic_artery')" in caplog.text and "implausible" in caplog.text
    assert "0.3–0.5 L/min" in caplog.text and "docs/model.md §9" in caplog.text
