"""Pydantic field types for physical quantities.

``Quantity("m^2/(Pa*s)", gt=0)`` is an annotated ``float`` field type: the case file
gives a string with units (any unit of the same dimension), validation converts it to
SI and checks its range, and the error names the value as the user wrote it. The
representative unit is kept as metadata so the README's case reference can show it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator

from ..library.units import parse_quantity


@dataclass(frozen=True)
class Unit:
    """Metadata: the representative unit of a quantity field ("" for dimensionless)."""

    text: str
    bounds: str


def _bounds_text(gt, ge, lt, le) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {gt:g}")
    if ge is not None:
        parts.append(f"≥ {ge:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    if le is not None:
        parts.append(f"≤ {le:g}")
    return ", ".join(parts)


def Quantity(unit: str, *, gt=None, ge=None, lt=None, le=None):  # noqa: N802 (a type factory)
    """A float field given with units (``unit`` shows the dimension), converted to SI."""
    bounds = _bounds_text(gt, ge, lt, le)

    def convert(value):
        si = parse_quantity(value, unit)
        ok = ((gt is None or si > gt) and (ge is None or si >= ge)
              and (lt is None or si < lt) and (le is None or si <= le))
        if not ok or math.isnan(si):
            raise ValueError(f"must be {bounds} (in SI), got {value!r}")
        return si

    return Annotated[float, BeforeValidator(convert), Unit(unit, bounds)]


Length = Quantity("m", gt=0)
Pressure = Quantity("Pa")
Position = tuple[Quantity("m"), Quantity("m"), Quantity("m")]
Fraction = Quantity("", ge=0, le=1)
