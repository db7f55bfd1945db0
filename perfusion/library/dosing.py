"""Doses as clinicians write them: body surface area formulas and plausible supply flows.

A dose per kilogram (``"1.5 mg/kg"``) or per square metre (``"50 mg/m^2"``) is turned into a
mass with the ``[patient]`` of the case: its weight, or its body surface area (BSA) by a
named formula. Flows and doses far outside the usual ranges (``IMPLAUSIBLE_FACTOR`` beyond
them) are logged as warnings by ``perfusion.case.dosing``, with the range and its source.
"""
from __future__ import annotations

from dataclasses import dataclass

BSA_FORMULAS = {
    "mosteller": "Mosteller 1987 N Engl J Med 317:1098: BSA [m²] = √(height [cm] · weight "
                 "[kg] / 3600)",
    "dubois": "Du Bois & Du Bois 1916 Arch Intern Med 17:863: BSA [m²] = 0.007184 · weight "
              "[kg]^0.425 · height [cm]^0.725",
}
#: A dose or flow this many times above the top of its usual range is warned of.
IMPLAUSIBLE_FACTOR = 3.0
_L_MIN = 1e-3 / 60.0  # m³/s per L/min
_LIVER = "docs/model.md §9: total liver blood flow ≈ 1.5 L/min"


def body_surface_area(weight: float, height: float, formula: str) -> float:
    """BSA [m²] of a patient of ``weight`` [kg] and ``height`` [m] by ``formula``.

    Examples
    --------
    >>> round(body_surface_area(70.0, 1.70, "mosteller"), 3)
    1.818
    >>> round(body_surface_area(70.0, 1.70, "dubois"), 3)
    1.81
    """
    centimetres = 100.0 * height
    if formula == "mosteller":
        return (centimetres * weight / 3600.0) ** 0.5
    if formula == "dubois":
        return 0.007184 * weight**0.425 * centimetres**0.725
    raise ValueError(f"unknown BSA formula {formula!r}; known: {', '.join(BSA_FORMULAS)}")


@dataclass(frozen=True)
class FlowRange:
    """The usual total inflow [m³/s] of a supply, with its source."""

    low: float
    high: float
    source: str


#: By supply name; other supplies are compared with the resting cardiac output.
SUPPLY_FLOWS = {
    "hepatic_artery": FlowRange(0.3 * _L_MIN, 0.5 * _L_MIN, f"{_LIVER}, 20–33 % arterial"),
    "portal_vein": FlowRange(1.0 * _L_MIN, 1.2 * _L_MIN, f"{_LIVER}, 67–80 % portal"),
}
CARDIAC_OUTPUT = FlowRange(0.0, 5.0 * _L_MIN, "resting adult cardiac output ≈ 5 L/min (Guyton "
                           "& Hall, Textbook of Medical Physiology, ch. 20); no organ receives "
                           "more")
