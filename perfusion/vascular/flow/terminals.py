"""Terminal source kernels: where a tree terminal's blood enters the supply compartment.

Terminal ``t`` at ``x_t`` spreads its flow ``Q_t`` over the vascularised voxels ``v`` whose
centres ``x_v`` lie within the kernel radius ``a`` with the smooth weights

    w_tv ∝ (1 − |x_v − x_t|²/a²)²,      Σ_v w_tv = 1,

so the source density is ``q_v = Σ_t Q_t w_tv / V_voxel`` (a smooth source, not a point:
the 3D pressure stays bounded however fine the grid). A kernel that catches no voxel
centre falls back to the vascularised voxel nearest to ``x_t`` within ``a`` (or the
voxel containing ``x_t``); a terminal with no vascularised voxel that close is an error.
The kernels are stored as one flat list of (terminal, voxel index, weight) entries.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tree import TreeError
from ...library.units import format_mm


@dataclass(frozen=True)
class TerminalKernels:
    """Flattened kernel entries: ``terminal[e]`` feeds voxel ``index[e]`` with ``weight[e]``."""

    terminal: np.ndarray
    index: np.ndarray
    weight: np.ndarray
    count: int

    def of(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(flat voxel indices, weights) of terminal ``t``."""
        pick = self.terminal == t
        return self.index[pick], self.weight[pick]

    def share(self, voxel_mask: np.ndarray) -> np.ndarray:
        """Per terminal, the weight falling on voxels where the flat ``voxel_mask`` is true."""
        return np.bincount(self.terminal, weights=self.weight * voxel_mask[self.index],
                           minlength=self.count)


def terminal_kernels(positions: np.ndarray, radius: float, vascular: np.ndarray, spacing,
                     *, key: str) -> TerminalKernels:
    """Kernels of the terminals at ``positions`` (n, 3) [m] on the ``vascular`` mask (host)."""
    spacing = np.asarray(spacing, dtype=np.float64)
    shape = np.asarray(vascular.shape)
    reach = np.ceil(radius / spacing).astype(int)
    offsets = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"),
                       axis=-1).reshape(-1, 3)
    terminals, indices, weights = [], [], []
    for t, x in enumerate(np.asarray(positions, dtype=np.float64)):
        cell = np.floor(x / spacing).astype(int)
        cells = cell + offsets
        inside = ((cells >= 0) & (cells < shape)).all(axis=1)
        cells = cells[inside]
        cells = cells[vascular[tuple(cells.T)]]
        distance2 = (((cells + 0.5) * spacing - x) ** 2).sum(axis=1) / radius ** 2
        near = distance2 < 1
        if near.any():
            cells, w = cells[near], (1 - distance2[near]) ** 2
        elif cells.size:
            cells, w = cells[[np.argmin(distance2)]], np.ones(1)
        else:
            raise TreeError(f"{key}: terminal {t} at {format_mm(x)} has no perfused voxel within "
                            f"{radius * 1e3:g} mm; the tree leaves the tissue this supply "
                            "perfuses — check the tree's position and units, or raise the "
                            "terminal kernel radius")
        terminals.append(np.full(len(cells), t))
        indices.append(np.ravel_multi_index(tuple(cells.T), vascular.shape))
        weights.append(w / w.sum())
    return TerminalKernels(np.concatenate(terminals), np.concatenate(indices),
                           np.concatenate(weights), len(positions))
