"""The resolved case: everything a run used, in SI, written beside its results.

Every quantity is written as a string in its coherent SI unit (``"3.1e-14 m^2/(Pa*s)"``),
every default is filled in (tissue properties of each present class, blood, supplies,
inlet radii, the patient's body surface area; doses per kg or m² are masses here), and a
``[provenance]`` table records version, backend and device. The file is itself a valid
case: ``perfusion run case.resolved.toml`` repeats the run.
"""
from __future__ import annotations

import pydantic

from ..library.tissues import BLOOD_DEFAULTS, SUPPLY_DEFAULTS, default_inlet_radius
from .introspect import unit_of
from .quantity import Unit


def _encode(value, unit: Unit | None):
    if isinstance(value, pydantic.BaseModel):
        return encode_model(value)
    if isinstance(value, dict):
        return {str(k): _encode(v, unit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, unit) for v in value]
    if isinstance(value, float) and unit is not None and unit.text:
        return f"{value!r} {unit.text}"
    return value


def encode_model(model: pydantic.BaseModel) -> dict:
    """A model as a TOML-ready dict: quantities as SI strings, ``None`` left out."""
    out = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or value == {} or value == []:
            continue
        out[name] = _encode(value, unit_of(info.annotation, info.metadata))
    return out


def resolved_case(case, domain, provenance: dict[str, str]) -> dict:
    """The case with every default filled in, as a TOML-ready dict."""
    from .schema import BloodSpec, SupplySpec, TissueSpec

    raw = encode_model(case)
    raw["tissue"] = {}
    for name, props in domain.tissue.items():
        given = case.tissue.get(name)
        spec = TissueSpec.model_validate({**_si_strings(TissueSpec, props),
                                          **(encode_model(given) if given else {})})
        raw["tissue"][name] = encode_model(spec)
    blood = {k: getattr(case.blood, k) if getattr(case.blood, k) is not None else d.value
             for k, d in BLOOD_DEFAULTS.items()}
    raw["blood"] = encode_model(BloodSpec.model_validate(_si_strings(BloodSpec, blood)))
    supplies = []
    for spec in case.supplies:
        filled = encode_model(spec)
        for key in ("conductivity", "pressure_drop"):
            filled.setdefault(key, _si_string(SupplySpec, key, SUPPLY_DEFAULTS[key].value))
        radius = SUPPLY_DEFAULTS["inlet_radius"].value
        conductivity = spec.conductivity or SUPPLY_DEFAULTS["conductivity"].value
        drop = spec.pressure_drop or SUPPLY_DEFAULTS["pressure_drop"].value
        for inlet, given in zip(filled.get("inlets", []), spec.inlets):
            default = default_inlet_radius(given.flow, conductivity, drop)
            inlet.setdefault("radius", f"{default!r} m")
        if "tree" in filled:
            filled["tree"].setdefault("kernel_radius", f"{radius!r} m")
        supplies.append(filled)
    raw["supplies"] = supplies
    if case.patient is not None and case.patient.bsa() is not None:  # doses per m² used it
        raw["patient"]["body_surface_area"] = f"{case.patient.bsa()!r} m^2"
    raw["provenance"] = dict(provenance)
    return raw


def _si_string(model, key: str, value: float) -> str | float:
    info = model.model_fields[key]
    unit = unit_of(info.annotation, info.metadata)
    return f"{value!r} {unit.text}" if unit is not None and unit.text else value


def _si_strings(model, values: dict) -> dict:
    return {k: _si_string(model, k, v) for k, v in values.items()}
