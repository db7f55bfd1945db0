"""Physical quantities at the edge: strings with units → SI floats.

Case files carry quantities as strings (``"0.5 mm"``, ``"15.6 mmHg"``,
``"20 mL/min/(100 mL)"``); they are parsed once, with pint, into floats in SI base units
(m, s, Pa, kg, m³ …). A bare number is accepted only where the quantity is dimensionless.
Inside the package every number is SI.
"""
from __future__ import annotations

import functools
import math

import pint

# The clinical units, once for every stage. In SI, one clinical unit is:
MMHG = 133.322387415            # Pa per mmHg
ML_MIN_100ML = 1.0 / 6000.0     # 1/s per mL/min/100 mL (perfusion)
# Multipliers from SI to the units figures, reports, exports and metrics show:
M3_S_TO_ML_MIN = 6.0e7          # m³/s → mL/min
PER_S_TO_ML_MIN_100ML = 6000.0  # 1/s → mL/min/100 mL
PA_TO_MMHG = 1 / 133.322387415  # Pa → mmHg
KG_M3_TO_UG_ML = 1e3            # kg/m³ → µg/mL
KG_S_M3_TO_UG_H_ML = 1 / 3.6    # kg·s/m³ → µg·h/mL
M3_TO_ML = 1e6                  # m³ → mL
# Lengths in every VTK and XDMF file perfusion writes (points, spacings, origins, radii,
# segment lengths) are in FILE_LENGTH_UNIT, the imaging convention, and each file says so in
# a one-string field-data array (XDMF: an Information element) named LENGTH_UNIT_FIELD.
# fields.npz and everything inside the package stay SI.
FILE_LENGTH_UNIT = "mm"
LENGTH_UNIT_FIELD = "length_unit"
M_TO_MM = 1e3                   # m → mm


@functools.cache
def registry() -> pint.UnitRegistry:
    """The package's unit registry (built on first use, never at import)."""
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    return ureg


def si_unit_text(unit: str) -> str:
    """The SI base units of ``unit`` as text, e.g. ``"mmHg"`` → ``"kilogram / meter / second ** 2"``."""
    ureg = registry()
    return str(ureg.Quantity(1.0, unit).to_base_units().units)


def parse_quantity(value: object, unit: str) -> float:
    """Parse ``value`` (a string with units, or a bare number when ``unit`` is ``""``) to SI.

    ``unit`` is a representative unit for the expected dimension (``"m^2/(Pa*s)"``); the
    value may use any unit of the same dimension. Raises ``ValueError`` with a message
    that says what was expected.

    Examples
    --------
    >>> round(parse_quantity("15.6 mmHg", "Pa"), 3)
    2079.829
    >>> parse_quantity("60 mL/min/(100 mL)", "1/s")
    0.01
    """
    ureg = registry()
    expected = ureg.Quantity(1.0, unit) if unit else ureg.Quantity(1.0)
    if isinstance(value, bool):
        raise ValueError(f"expected a quantity in {unit or 'no units'}, got a boolean")
    if isinstance(value, (int, float)):
        if unit and not expected.dimensionless:
            raise ValueError(
                f"a bare number is ambiguous here: give a string with units, e.g. \"{value} {unit}\"")
        quantity = ureg.Quantity(float(value))
    elif isinstance(value, str):
        try:
            quantity = ureg.Quantity(value)
        except (pint.errors.PintError, SyntaxError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"cannot read {value!r} as a quantity ({exc}); write a number and a unit, "
                f"e.g. \"1.5 {unit or ''}\"".rstrip()) from None
    else:
        raise ValueError(f"expected a string with units such as \"1 {unit}\", got {value!r}")
    if quantity.dimensionality != expected.dimensionality:
        raise ValueError(
            f"{value!r} has the wrong dimension: expected units like {unit or 'none'} "
            f"({expected.dimensionality}), got {quantity.dimensionality}")
    magnitude = float(quantity.to_base_units().magnitude)
    if not math.isfinite(magnitude):
        raise ValueError(f"{value!r} is not a finite number")
    return magnitude


def format_quantity(si_value: float, unit: str) -> str:
    """Express an SI value in ``unit`` as a case-file string (used in docs and messages)."""
    ureg = registry()
    base = ureg.Quantity(1.0, unit).to_base_units()
    return f"{si_value / base.magnitude:.6g} {unit}"


def file_length_metres(field_data: dict[str, str], default: float) -> float:
    """Metres per length unit of a VTK file: the unit its ``length_unit`` field data names
    (any length unit pint knows: ``"mm"``, ``"m"``, ``"um"``), else ``default`` (files
    without one: other tools' files, perfusion's results written before the field existed).

    Raises ``ValueError`` naming the unit when it is not a length.

    Examples
    --------
    >>> file_length_metres({"length_unit": "mm"}, 1.0), file_length_metres({}, 1.0)
    (0.001, 1.0)
    """
    unit = field_data.get(LENGTH_UNIT_FIELD)
    if unit is None:
        return default
    try:
        return parse_quantity(f"1 {unit}", "m")
    except ValueError as exc:
        raise ValueError(f"its {LENGTH_UNIT_FIELD} {unit!r} is not a length unit ({exc})") from None


def format_mm(position) -> str:
    """A position in metres as millimetre text for messages, e.g. ``"[12, 3.5, 40] mm"``."""
    return "[" + ", ".join(f"{1e3 * p:.4g}" for p in position) + "] mm"
