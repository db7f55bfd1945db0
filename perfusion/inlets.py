"""Inlets: where a supply's blood enters the tissue (DESIGN §2.2).

An inlet at position ``x₀`` with flow ``Q`` [m³/s] is spread uniformly over the supply's
vascularised voxels whose centres lie within its radius ``r`` of ``x₀``, as a source
density ``q = Q / (n V_voxel)`` [1/s]. When no voxel centre is that close, the voxel
containing ``x₀`` takes it all; an inlet whose position is outside the grid or not in
vascularised tissue is an error that names it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GeometryError
from .geometry.phantom import ball
from .library import SUPPLY_DEFAULTS


@dataclass(frozen=True)
class Inlet:
    """One resolved inlet: its voxels and flow."""

    supply: str
    name: str
    position: tuple[float, float, float]
    flow: float
    voxels: np.ndarray  # boolean, grid shape (host)

    @property
    def voxel_count(self) -> int:
        return int(self.voxels.sum())


def resolve_inlets(supply_index: int, spec, spacing, vascular: np.ndarray) -> list[Inlet]:
    """Resolve the inlets of supply ``spec`` on the vascularised mask ``vascular`` (host)."""
    shape = vascular.shape
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
            raise GeometryError(f"{key}: position {_mm(position)} is outside the grid, which "
                                f"spans [0, 0, 0]…{extent} mm")
        radius = inlet.radius if inlet.radius is not None else SUPPLY_DEFAULTS["inlet_radius"].value
        voxels = ball(position, radius, shape, spacing) & vascular
        if not voxels.any():
            if not vascular[cell]:
                raise GeometryError(
                    f"{key}: position {_mm(position)} is outside the tissue this supply "
                    f"perfuses (nearest such voxel centre: {_nearest(vascular, position, spacing)}); "
                    "move the inlet into the organ")
            voxels = np.zeros(shape, dtype=bool)
            voxels[cell] = True
        inlets.append(Inlet(spec.name, inlet.name, position, inlet.flow, voxels))
    return inlets


def source_density(inlets: list[Inlet], voxel_volume: float) -> np.ndarray:
    """Sum of the inlets' source densities ``q`` [1/s] on the grid (host)."""
    q = np.zeros(inlets[0].voxels.shape)
    for inlet in inlets:
        q[inlet.voxels] += inlet.flow / (inlet.voxel_count * voxel_volume)
    return q


def _mm(position) -> str:
    return "[" + ", ".join(f"{1e3 * p:.4g}" for p in position) + "] mm"


def _nearest(mask: np.ndarray, position, spacing) -> str:
    idx = np.argwhere(mask)
    if idx.size == 0:
        return "none"
    centres = (idx + 0.5) * np.asarray(spacing)
    best = centres[np.argmin(((centres - np.asarray(position)) ** 2).sum(axis=1))]
    return _mm(best)
