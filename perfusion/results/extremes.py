"""Extremes of the steady fields against physiological bounds (``extremes`` of metrics.json).

A point inlet pours its flow ``Q`` into a few voxels; in a compartment of conductivity
``K_s`` the pressure it adds at a kernel of radius ``r`` is about ``3Q/(8πK_s r)`` (docs/model.md
§2.2), so a narrow kernel gives supply pressures ``p_s`` and perfusion ``F = Σ_s β_s (p_s −
p_ven)`` no vessel could deliver, while the class means stay on target. Recorded, and
warned about when out of bounds (logged, and listed under ``warnings``):

- per supply ``s``: ``pressure_max_mmhg`` = ``max p_s``, ``pressure_bound_mmhg`` =
  ``p_phys,s = p_ven + 2Δp_s`` and ``voxels_above_bound`` (voxels with ``p_s > p_phys,s``);
- per class ``c``: ``perfusion_p99`` and ``perfusion_max`` of ``F`` over the class's voxels
  and ``perfusion_bound`` = ``5 F_c`` (``F_c`` the class's target perfusion), all in
  mL/min/100 mL (``None`` when ``F_c = 0``: no bound).

The bounds. ``Δp_s`` (``pressure_drop``) is the calibrated mean of ``p_s − p_ven`` (§2.3), so
the vessels feeding the compartment sit above ``p_ven + Δp_s``; the bound allows them twice
the mean drop (``PRESSURE_BOUND_DROPS``). With the defaults (Δp_s 50 mmHg, p_ven 5 mmHg) it
is 105 mmHg, a mean arterial pressure (hepatic artery ≈ 90 mmHg, §9); for the demo's portal
vein (Δp_s 8 mmHg) 21 mmHg, above the portal vein's 5–10 mmHg over the hepatic veins (§9) by
what a compartment fed at two points needs to spread the portal flow over the liver. Local
perfusion is allowed ``PERFUSION_BOUND_TARGETS`` = 5 × the class target: the spread of
perfusion within an organ (liver, brain grey matter) is a factor of a few around its mean
(docs/model.md §9: grey matter 56, white matter 21 mL/min/100 mL). The default inlet kernel
(``perfusion.library.tissues.default_inlet_radius``) is sized to stay inside these bounds.
"""
from __future__ import annotations

import logging

import numpy as np

from ..case import case_source
from ..domain import Domain
from ..library.tissues import SUPPLY_DEFAULTS
from ..library.units import MMHG, PER_S_TO_ML_MIN_100ML
from ..steady.solve import SteadyState

log = logging.getLogger(__name__)

#: ``p_phys,s = p_ven + PRESSURE_BOUND_DROPS × Δp_s`` (module docstring).
PRESSURE_BOUND_DROPS = 2.0
#: Local perfusion bound, in multiples of the class's target perfusion (module docstring).
PERFUSION_BOUND_TARGETS = 5.0
PERFUSION_PERCENTILE = 99.0


def steady_extremes(case, domain: Domain, steady: SteadyState) -> dict:
    """Supply pressure and perfusion extremes, their bounds and the warnings (module docstring)."""
    xp = domain.backend.xp
    supplies, warnings = {}, []
    for index, spec in enumerate(case.supplies):
        pressure = steady.supplies[spec.name].pressure
        drop = spec.pressure_drop or SUPPLY_DEFAULTS["pressure_drop"].value
        bound = steady.venous_pressure + PRESSURE_BOUND_DROPS * drop
        highest = float(xp.max(pressure))
        above = int(xp.count_nonzero(pressure > bound))
        supplies[spec.name] = {"pressure_max_mmhg": highest / MMHG,
                               "pressure_bound_mmhg": bound / MMHG, "voxels_above_bound": above}
        if above:
            warnings.append(
                f"{case_source(case)}: supply {spec.name} reaches {highest / MMHG:.0f} mmHg in its "
                f"compartment ({above} voxels above the physiological bound {bound / MMHG:.0f} "
                f"mmHg = p_ven + {PRESSURE_BOUND_DROPS:g} × pressure_drop): its flow piles up "
                f"around {_where(domain, steady, spec.name, pressure)}. To change: "
                f"{_fix(index, spec)}.")
    classes = {}
    for name in domain.present_classes:
        values = steady.perfusion[domain.class_mask(name)] * PER_S_TO_ML_MIN_100ML
        target = domain.tissue[name]["perfusion"] * PER_S_TO_ML_MIN_100ML
        bound = PERFUSION_BOUND_TARGETS * target if target > 0 else None
        highest = float(xp.max(values))
        classes[name] = {"perfusion_p99": float(xp.percentile(values, PERFUSION_PERCENTILE)),
                         "perfusion_max": highest, "perfusion_bound": bound}
        if bound is not None and highest > bound:
            fixes = "; or ".join(f"for {s.name}: {_fix(i, s)}" for i, s in enumerate(case.supplies))
            warnings.append(
                f"{case_source(case)}: perfusion of {name} reaches {highest:.0f} mL/min/100 mL "
                f"(99th percentile {classes[name]['perfusion_p99']:.0f}), above "
                f"{PERFUSION_BOUND_TARGETS:g} × its target {target:.0f} = {bound:.0f} "
                f"mL/min/100 mL. To change: {fixes}.")
    for line in warnings:
        log.warning("%s", line)
    return {"bounds": {"pressure": f"p_ven + {PRESSURE_BOUND_DROPS:g} × pressure_drop",
                       "perfusion": f"{PERFUSION_BOUND_TARGETS:g} × class target perfusion",
                       "perfusion_percentile": PERFUSION_PERCENTILE},
            "supplies": supplies, "classes": classes, "warnings": warnings}


def _fix(index: int, spec) -> str:
    """What widens the supply's kernels: its inlets' radius, or its tree's kernel."""
    if spec.tree is not None:
        return (f"a wider terminal kernel (supplies.{index}.tree.kernel_radius) or more "
                f"terminals (supplies.{index}.tree)")
    return (f"a wider inlet kernel (supplies.{index}.inlets.N.radius, or leave it out for the "
            "default that grows with the flow), more inlets, or an arterial tree "
            f"(supplies.{index}.tree)")


def _where(domain: Domain, steady: SteadyState, supply: str, pressure) -> str:
    """The voxel of the highest pressure, and the nearest inlet of the supply to it."""
    xp = domain.backend.xp
    voxel = np.unravel_index(int(xp.argmax(pressure)), domain.shape)
    centre = (np.asarray(voxel) + 0.5) * np.asarray(domain.spacing)
    at = "[" + ", ".join(f"{1e3 * x:.0f}" for x in centre) + "] mm"
    inlets = steady.supplies[supply].inlets
    if not inlets:
        return at
    nearest = min(inlets, key=lambda i: float(np.sum((np.asarray(i.position) - centre) ** 2)))
    return f"{at} (nearest inlet {nearest.name!r}, {nearest.index.size} voxels)"
