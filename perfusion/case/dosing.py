"""Doses per kg or per m² of the ``[patient]``, and warnings on implausible doses and flows.

:func:`absolute_doses` runs on the raw case before validation: an ``[[infusion]]`` ``dose`` or
``rate`` given per kg (``"1.5 mg/kg"``) or per m² (``"50 mg/m^2"``) becomes a mass (rate)
with the patient's weight or body surface area (``perfusion.library.dosing``), so every later
stage and the resolved case see masses in SI. :func:`warn_implausible` logs a warning, naming
the key, the usual range and its source, for a dose of a library drug or a supply's total
inflow more than ``IMPLAUSIBLE_FACTOR`` times the top of the usual range.
"""
from __future__ import annotations

import copy
import logging

import pydantic

from ..library.dosing import CARDIAC_OUTPUT, IMPLAUSIBLE_FACTOR, SUPPLY_FLOWS
from ..library.drug_model import BODY_MASS, BODY_SURFACE
from ..library.units import parse_quantity, registry
from .checks import KeyedCaseError

log = logging.getLogger(__name__)

_PER = {"kg": 'weight = "70 kg"', "m^2": 'weight = "70 kg" and height = "170 cm" (or '
        'body_surface_area = "1.8 m^2")'}


def absolute_doses(raw):
    """The raw case with per-kg and per-m² infusion doses and rates turned into masses."""
    if not isinstance(raw, dict) or not isinstance(raw.get("infusion"), list):
        return raw
    raw = {**raw, "infusion": copy.deepcopy(raw["infusion"])}
    for n, infusion in enumerate(raw["infusion"]):
        for key, unit in (("dose", "kg"), ("rate", "kg/s")):
            value = infusion.get(key) if isinstance(infusion, dict) else None
            per = _basis(value, unit)
            if per is not None:
                infusion[key] = _absolute(raw, f"infusion.{n}.{key}", value, unit, per)
    return raw


def _basis(value, unit: str) -> str | None:
    """``"kg"`` or ``"m^2"`` when ``value`` is a quantity of ``unit`` per kg or per m²."""
    try:
        if not isinstance(value, str) or str(registry().Quantity(value).units) == "dimensionless":
            return None  # a bare number is no dose per kg: the schema says what to write
    except Exception:  # noqa: BLE001  (unreadable: the schema's message says why)
        return None
    for per in _PER:
        try:
            parse_quantity(value, f"{unit}/{per}")
        except ValueError:
            continue
        return per
    return None


def _absolute(raw: dict, key: str, value: str, unit: str, per: str) -> str:
    from .protocol import PatientSpec

    fix = f"add a [patient] table with {_PER[per]}, or give the mass itself"
    if not isinstance(raw.get("patient"), dict):
        raise KeyedCaseError(key, f"{value!r} is a dose per {per} but the case has no "
                             f"[patient]; {fix}")
    try:
        patient = PatientSpec.model_validate(raw["patient"])
    except pydantic.ValidationError:
        return value  # the patient's own errors are reported with the case
    factor = patient.weight if per == "kg" else patient.bsa()
    if factor is None:
        raise KeyedCaseError(key, f"{value!r} is a dose per m² but [patient] gives no height "
                             f"or body_surface_area; {fix}")
    absolute = parse_quantity(value, f"{unit}/{per}") * factor
    basis = (f"weight {patient.weight:g} kg" if per == "kg" else
             f"BSA {factor:.3f} m² ({patient.bsa_formula})" if patient.body_surface_area is None
             else f"BSA {factor:.3f} m² (given)")
    log.info("%s: %s × %s = %.4g mg%s", key, value, basis, absolute * 1e6,
             "/s" if unit == "kg/s" else "")
    return f"{absolute!r} {unit}"


def warn_implausible(case, source) -> None:
    """Log a warning for each supply inflow and library-drug dose far above the usual range."""
    for n, supply in enumerate(case.supplies):
        flow = (sum(inlet.flow for inlet in supply.inlets) if supply.tree is None
                else supply.tree.inflow)
        usual = SUPPLY_FLOWS.get(supply.name, CARDIAC_OUTPUT)
        if flow is not None and _implausible(flow, usual.high):
            log.warning("%s: supplies.%d (%r): a total inflow of %.3g L/min is implausible; "
                        "the usual is %.3g–%.3g L/min (%s); check the flow and its units",
                        source, n, supply.name, flow * 6e4, usual.low * 6e4, usual.high * 6e4,
                        usual.source)
    typical = _typical_dose(case)
    if typical is None:
        return
    dimension = registry().Quantity(1.0, typical.unit).dimensionality
    weight, bsa = BODY_MASS, BODY_SURFACE
    if case.patient is not None:
        weight, bsa = case.patient.weight, case.patient.bsa() or BODY_SURFACE
    for n, infusion in enumerate(case.infusion):
        rate = dimension.get("[time]", 0) != 0
        amount = infusion.mass_rate * (1.0 if rate else infusion.duration)
        amount /= bsa if dimension.get("[length]", 0) == -2 else \
            weight if dimension.get("[mass]", 0) == 0 else 1.0
        value = amount / parse_quantity(f"1 {typical.unit}", typical.unit)
        if _implausible(value, typical.high):
            key = f"infusion.{n}.{'rate' if infusion.rate is not None else 'dose'}"
            log.warning("%s: %s: %s %.4g %s is implausible for %s; the usual is %g–%g %s (%s)"
                        "%s; check the dose and its units", source, key,
                        "a rate of" if rate else "a dose of", value, typical.unit,
                        case.drug.name, typical.low, typical.high, typical.unit, typical.source,
                        "" if case.patient else f" (for {BODY_MASS:g} kg, {BODY_SURFACE:g} m²: "
                        "give a [patient])")


def _implausible(value: float, high: float) -> bool:
    """Above the usual range by more than ``IMPLAUSIBLE_FACTOR`` (lower values are not warned
    of: a case may model part of an organ, or split a cycle's dose)."""
    return value > IMPLAUSIBLE_FACTOR * high


def _typical_dose(case):
    if case.drug is None or not case.infusion:
        return None
    from ..library.drugs import get_drug

    try:
        return get_drug(case.drug.name).typical_dose
    except KeyError:
        return None
