"""The drug and body parameters of a run: library entry, overridden by the case (SI).

``resolve_drug`` merges ``perfusion.library.drugs`` with ``[drug]``; ``resolve_systemic`` merges
the drug's two-compartment PK (70 kg adult) with ``[systemic]``. A drug outside the library
gives everything itself (checked when the case is loaded).
"""
from __future__ import annotations

from dataclasses import dataclass

from .body.pk import SystemicPK

DRUG_FIELDS = ("diffusivity", "permeability", "solvent_drag_reflection", "elimination_rate",
               "uptake", "uptake_rate", "release_rate", "max_uptake_rate",
               "extracellular_affinity", "intracellular_affinity", "cell_elimination_rate")
SYSTEMIC_FIELDS = ("central_volume", "peripheral_volume", "clearance", "k12", "k21")


@dataclass(frozen=True)
class DrugParameters:
    """Resolved drug parameters (SI) and where each came from."""

    name: str
    diffusivity: float
    permeability: float
    solvent_drag_reflection: float
    elimination_rate: float
    uptake: str
    uptake_rate: float
    release_rate: float
    max_uptake_rate: float
    extracellular_affinity: float
    intracellular_affinity: float
    cell_elimination_rate: float
    sources: dict


def _library_entry(name: str):
    from ..library.drugs import get_drug

    try:
        return get_drug(name)
    except KeyError:
        return None


def _value(entry, key):
    """(value, source) of a library field (``Sourced`` or plain), or (None, None)."""
    item = getattr(entry, key, None) if entry is not None else None
    if item is None:
        return None, None
    if hasattr(item, "value"):
        return item.value, item.source + ("" if getattr(item, "confirmed", True) else " (unconfirmed)")
    return item, "drug library"


def resolve_drug(case) -> DrugParameters:
    """The case's drug: library values overridden by ``[drug]``."""
    spec = case.drug
    entry = _library_entry(spec.name)
    values, sources = {}, {}
    for key in DRUG_FIELDS:
        given = getattr(spec, key)
        if given is not None:
            values[key], sources[key] = given, "case file"
        else:
            values[key], sources[key] = _value(entry, key)
    values["uptake"] = values["uptake"] or "none"
    for key in DRUG_FIELDS:
        if values[key] is None:
            values[key] = 0.0
    return DrugParameters(name=spec.name, sources=sources, **values)


def resolve_systemic(case) -> tuple[SystemicPK, dict]:
    """The body's PK: the drug's library values overridden by ``[systemic]``."""
    entry = _library_entry(case.drug.name)
    values, sources = {}, {}
    for key in SYSTEMIC_FIELDS:
        given = getattr(case.systemic, key)
        if given is not None:
            values[key], sources[key] = given, "case file"
        else:
            values[key], sources[key] = _value(entry, key)
    return SystemicPK(**values), sources
