"""Inlets: where a supply's blood enters the tissue (docs/model.md §2.2).

An inlet at position ``x₀`` with flow ``Q`` [m³/s] is spread over voxels ``v`` with weights
``w_v`` (``Σ w_v = 1``) as the source density ``q_v = Q w_v / V_voxel`` [1/s]. A point inlet
of the case spreads uniformly over the supply's vascularised voxels whose centres lie within
its radius ``r`` of ``x₀`` (by default ``r = max(3 mm, 3Q/(8πK_sΔp_s))``, which keeps the
pressure the inlet adds at its centre to about the supply's drop ``Δp_s``:
``perfusion.library.tissues.default_inlet_radius``); when no voxel centre is that close, the voxel containing ``x₀``
takes it all; an inlet whose position is outside the grid or not in vascularised tissue is
an error that names it. The terminals of an arterial tree are inlets with smooth weights
(``perfusion.vascular.flow.terminals``). Inlets store flat voxel indices and weights, not masks,
so thousands of terminals cost little memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GeometryError
from ..geometry.phantom import ball
from ..library.tissues import SUPPLY_DEFAULTS, default_inlet_radius
from ..library.units import format_mm


@dataclass(frozen=True)
class Inlet:
    """One resolved inlet: its flow and the voxels (flat indices, weights) it feeds."""

    supply: str
    name: str
    position: tuple[float, float, float]
    flow: float
    index: np.ndarray   # flat voxel indices (host)
    weight: np.ndarray  # share of the flow entering each voxel (sums to 1)


def resolve_inlets(supply_index: int, spec, spacing, vascular: np.ndarray) -> list[Inlet]:
    """Resolve the inlets of supply ``spec`` on the vascularised mask ``vascular`` (host)."""
    shape = vascular.shape
    conductivity = spec.conductivity or SUPPLY_DEFAULTS["conductivity"].value
    drop = spec.pressure_drop or SUPPLY_DEFAULTS["pressure_drop"].value
    inlets = []
    for n, inlet in enumerate(spec.inlets):
        key = f"supplies.{supply_index}.inlets.{n} ({inlet.name!r})"
        if inlet.voxel is not None:
            if any(not 0 <= v < s for v, s in zip(inlet.voxel, shape)):
                raise GeometryError(f"{key}: voxel {list(inlet.voxel)} is outside the grid "
                                    f"{list(shape)}")
            position = tuple((np.asarray(inlet.voxel) + 0.5) * np.asarray(spacing))
        else:
            position = tuple(inlet.position)
        cell = tuple(int(np.floor(p / h)) for p, h in zip(position, spacing))
        if any(not 0 <= c < s for c, s in zip(cell, shape)):
            extent = [round(s * h * 1e3, 3) for s, h in zip(shape, spacing)]
            raise GeometryError(f"{key}: position {format_mm(position)} is outside the grid, which "
                                f"spans [0, 0, 0]…{extent} mm")
        radius = inlet.radius if inlet.radius is not None else default_inlet_radius(
            inlet.flow, conductivity, drop)
        voxels = ball(position, radius, shape, spacing) & vascular
        if not voxels.any():
            if not vascular[cell]:
                raise GeometryError(
                    f"{key}: position {format_mm(position)} is outside the tissue this supply "
                    f"perfuses (nearest such voxel centre: {_nearest(vascular, position, spacing)}); "
                    "move the inlet into the organ")
            voxels = np.zeros(shape, dtype=bool)
            voxels[cell] = True
        index = np.flatnonzero(voxels)
        inlets.append(Inlet(spec.name, inlet.name, position, inlet.flow, index,
                            np.full(index.size, 1.0 / index.size)))
    return inlets


def source_density(inlets, shape, voxel_volume: float) -> np.ndarray:
    """Sum of the ``inlets``' source densities ``q`` [1/s] on a grid of ``shape`` (host)."""
    q = np.zeros(int(np.prod(shape)))
    if inlets:
        index = np.concatenate([inlet.index for inlet in inlets])
        amount = np.concatenate([inlet.flow * inlet.weight for inlet in inlets])
        q += np.bincount(index, weights=amount, minlength=q.size)
    return q.reshape(shape) / voxel_volume




def _nearest(mask: np.ndarray, position, spacing) -> str:
    idx = np.argwhere(mask)
    if idx.size == 0:
        return "none"
    centres = (idx + 0.5) * np.asarray(spacing)
    best = centres[np.argmin(((centres - np.asarray(position)) ** 2).sum(axis=1))]
    return format_mm(best)
