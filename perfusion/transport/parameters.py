"""The drug and body parameters of a run: library entry, overridden by the case (SI).

``resolve_drug`` merges ``perfusion.library.drugs`` with ``[drug]``; ``resolve_systemic`` merges
the drug's two-compartment PK (70 kg adult) with ``[systemic]``. A drug outside the library
gives everything itself (checked when the case is loaded).

``blood_to_plasma`` ``R_b = C_blood/C_plasma`` (docs/model.md §6.1): ``[drug]``, else the
library drug's, else ``None`` — plasma-only, ``R_b = 1 − Hct``, resolved with the hematocrit
where the flows are built (``perfusion.transport.problem``).
"""
from __future__ import annotations

from dataclasses import dataclass

import logging

from .body.pk import SystemicPK

log = logging.getLogger(__name__)

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
    blood_to_plasma: float | None = None   # R_b [-]; None: plasma-only (R_b = 1 − Hct)


def library_entry(name: str):
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
    entry = library_entry(spec.name)
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
    blood_to_plasma, sources["blood_to_plasma"] = (
        (spec.blood_to_plasma, "case file") if spec.blood_to_plasma is not None
        else _value(entry, "blood_to_plasma"))
    if blood_to_plasma is None:
        sources["blood_to_plasma"] = "plasma-only default (R_b = 1 − Hct)"
    return DrugParameters(name=spec.name, sources=sources, blood_to_plasma=blood_to_plasma,
                          **values)


def resolve_systemic(case, split: dict | None = None) -> tuple[SystemicPK, dict]:
    """The body's PK: the drug's library values overridden by ``[systemic]``; ``split`` (from
    :func:`split_clearance`) replaces the library's total-body clearance by ``CL_rest``."""
    entry = library_entry(case.drug.name)
    values, sources = {}, {}
    for key in SYSTEMIC_FIELDS:
        given = getattr(case.systemic, key)
        if given is not None:
            values[key], sources[key] = given, "case file"
        else:
            values[key], sources[key] = _value(entry, key)
    if split is not None and split["derived"]:
        values["clearance"], sources["clearance"] = split["rest"], split["sources"]["rest"]
    return SystemicPK(**values), sources


def split_clearance(case, organ_clearance: float) -> dict:
    """CL_TB, CL_organ and CL_rest [m³/s] with sources (docs/model.md §7).

    Without ``[systemic] clearance`` the library's (total-body) clearance is split:
    ``CL_rest = CL_TB − CL_organ`` (``derived``), floored at 0 with a warning. An explicit
    ``[systemic] clearance`` is ``CL_rest`` itself and ``CL_TB = CL_rest + CL_organ``.
    """
    organ = "model: Σ V F_p E of the steady fields under IV dosing (transport.metabolism)"
    given = case.systemic.clearance
    if given is not None:
        return {"total_body": given + organ_clearance, "organ": organ_clearance, "rest": given,
                "derived": False, "sources": {"total_body": "CL_rest + CL_organ",
                                              "organ": organ, "rest": "case file"}}
    total, source = _value(library_entry(case.drug.name), "clearance")
    rest = total - organ_clearance
    if rest < 0:
        log.warning("the organ's own clearance %.4g mL/min exceeds the library total-body "
                    "clearance %.4g mL/min of %s: CL outside the organ set to 0 (give "
                    "[systemic] clearance to override)", organ_clearance * 6e7, total * 6e7,
                    case.drug.name)
        rest = 0.0
    return {"total_body": total, "organ": organ_clearance, "rest": rest, "derived": True,
            "sources": {"total_body": source, "organ": organ,
                        "rest": f"derived: CL_TB − CL_organ (CL_TB: {source})"}}
