"""Cross-field rules of a case: names that must exist, tables that must be complete.

Raised as :class:`KeyedCaseError` carrying the dotted key, so the loader can prefix the
file name; pydantic lets non-``ValueError`` exceptions through unchanged.
"""
from __future__ import annotations

from ..errors import CaseError
from ..library import TISSUE_DEFAULTS


class KeyedCaseError(CaseError):
    """A case error that knows the dotted key it is about."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def check_case(case) -> None:
    """Check the cross references of a validated case; raise :class:`KeyedCaseError`."""
    _check_grid(case)
    supply_names = [s.name for s in case.supplies]
    repeated = sorted({n for n in supply_names if supply_names.count(n) > 1})
    if repeated:
        raise KeyedCaseError("supplies", f"supply names must be unique: {repeated} repeated")
    _check_catheter(case, supply_names)
    _check_tissue(case, supply_names)


def _check_grid(case) -> None:
    if case.geometry.kind != "phantom":
        return
    if case.grid.shape is None:
        raise KeyedCaseError("grid.shape", "a phantom needs the grid shape, e.g. shape = [64, 64, 48]")
    if case.grid.spacing is None:
        raise KeyedCaseError("grid.spacing", 'a phantom needs the voxel size, e.g. spacing = "2 mm"')


def _check_catheter(case, supply_names: list[str]) -> None:
    catheter = case.catheter
    if catheter is None:
        return
    if catheter.supply not in supply_names:
        raise KeyedCaseError(
            "catheter.supply", f"unknown supply {catheter.supply!r}; the case has {supply_names}")
    supply = case.supplies[supply_names.index(catheter.supply)]
    inlet_names = [inlet.name for inlet in supply.inlets]
    for name in catheter.inlets:
        if name not in inlet_names:
            raise KeyedCaseError(
                "catheter.inlets",
                f"unknown inlet {name!r} of supply {supply.name!r}; its inlets are {inlet_names}")


def _check_tissue(case, supply_names: list[str]) -> None:
    geometry_classes = case.geometry.class_names()
    known = list(dict.fromkeys([*geometry_classes, *TISSUE_DEFAULTS]))
    for class_name, spec in case.tissue.items():
        key = f"tissue.{class_name}"
        if class_name not in known:
            raise KeyedCaseError(key, f"unknown tissue class {class_name!r}; classes in this case: "
                                 f"{geometry_classes} (image classes are named in geometry.labels)")
        for field in ("supply_fractions", "capillary_conductance"):
            for supply in (getattr(spec, field) or {}):
                if supply not in supply_names:
                    raise KeyedCaseError(f"{key}.{field}.{supply}",
                                         f"unknown supply {supply!r}; the case has {supply_names}")
    if len(supply_names) < 2:
        return
    for class_name in geometry_classes:
        spec = case.tissue.get(class_name)
        if class_name == "necrotic" and (spec is None or spec.perfusion in (None, 0.0)):
            continue
        if spec is None or (spec.supply_fractions is None and spec.capillary_conductance is None):
            raise KeyedCaseError(
                f"tissue.{class_name}.supply_fractions",
                f"the case has several supplies {supply_names}: say how class {class_name!r} "
                f"divides its perfusion, e.g. supply_fractions = "
                f"{{ {supply_names[0]} = 0.25, {supply_names[1]} = 0.75 }}")
