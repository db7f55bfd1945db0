"""Where a generated tree may go: checked inputs, demand-weighted points, segments in tissue.

Grid frame (docs/model.md §1.1): voxel ``[i, j, k]`` covers ``[i h_x, (i+1) h_x) × …``, positions
in metres from the corner of voxel ``[0, 0, 0]``. A point is in the tissue when the voxel
containing it is in ``mask``; a segment is in the tissue when every voxel it passes through
is (checked exactly: its ends and one point inside each voxel it crosses, the midpoint of
its chord there, which is stricter than sampling it every half voxel). A root outside the
tissue (on its surface, at most one voxel away) is allowed: points within one voxel
diagonal ``|h|`` of it are not checked, so the first segments can enter the tissue there.
"""
from __future__ import annotations

import numpy as np

from ..tree import TreeError
from ...library.units import format_mm

_WHERE = "generate_tree"


def check_inputs(mask, demand, spacing, root, flow, root_pressure, terminal_pressure,
                 terminals, murray_exponent, viscosity):
    """Arrays and numbers as the generator needs them; :class:`TreeError` saying the fix."""
    mask = np.asarray(mask)
    if mask.ndim != 3:
        raise TreeError(f"{_WHERE}: mask must be a 3D array (nx, ny, nz), got shape "
                        f"{mask.shape}")
    mask = mask.astype(bool)
    demand = np.asarray(demand, dtype=np.float64)
    if demand.shape != mask.shape:
        raise TreeError(f"{_WHERE}: demand has shape {demand.shape} but mask {mask.shape}; "
                        "give one demand value per voxel of the mask")
    if not np.isfinite(demand).all() or (demand < 0).any():
        raise TreeError(f"{_WHERE}: demand must be finite and ≥ 0 in every voxel")
    h = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (3,)).copy()
    if not (np.isfinite(h).all() and (h > 0).all()):
        raise TreeError(f"{_WHERE}: spacing must be three positive lengths in metres, got "
                        f"{spacing!r}")
    try:
        whole = not isinstance(terminals, bool) and int(terminals) == terminals
    except (TypeError, ValueError):
        whole = False
    if not whole or terminals < 1:
        raise TreeError(f"{_WHERE}: terminals must be a whole number ≥ 1, got {terminals!r}")
    for label, value in (("flow", flow), ("viscosity", viscosity),
                         ("murray_exponent", murray_exponent)):
        if not (np.isfinite(value) and value > 0):
            raise TreeError(f"{_WHERE}: {label} must be positive, got {value!r}")
    if not root_pressure > terminal_pressure:
        raise TreeError(f"{_WHERE}: root_pressure ({root_pressure!r} Pa) must exceed "
                        f"terminal_pressure ({terminal_pressure!r} Pa) for blood to flow "
                        "from the root to the terminals")
    supplied = mask & (demand > 0)
    count = int(supplied.sum())
    if count == 0:
        raise TreeError(f"{_WHERE}: no voxel of the mask has demand > 0 ({int(mask.sum())} "
                        "tissue voxels); give the tissue a positive demand (e.g. its target "
                        "perfusion) or check that mask and demand cover the same voxels")
    if terminals > count:
        raise TreeError(f"{_WHERE}: {terminals} terminals for {count} tissue voxels with "
                        "demand > 0; ask for at most one terminal per voxel (fewer terminals "
                        "or a finer grid)")
    root = np.asarray(root, dtype=np.float64).reshape(-1)
    if root.shape != (3,) or not np.isfinite(root).all():
        raise TreeError(f"{_WHERE}: root must be one position (x, y, z) in metres, got "
                        f"{root!r}")
    extent = np.asarray(mask.shape) * h
    if (root < 0).any() or (root > extent).any():
        raise TreeError(f"{_WHERE}: root {format_mm(root)} lies outside the grid [0, 0, 0]…"
                        f"{format_mm(extent)}; positions are metres from the corner of voxel "
                        "[0, 0, 0] — check the root's units and origin")
    gap = _distance_to_tissue(mask, h, root)
    if gap > h.max():
        raise TreeError(f"{_WHERE}: root {format_mm(root)} is {gap * 1e3:.3g} mm from the nearest "
                        f"tissue voxel, more than a voxel ({h.max() * 1e3:.3g} mm); put the "
                        "root on the tissue surface or inside it")
    return mask, demand, h, root


def _distance_to_tissue(mask, h, root) -> float:
    """Distance [m] from ``root`` to the nearest voxel box in ``mask`` (searched within 2
    voxels; ∞ where none is that close)."""
    centre = np.floor(root / h).astype(np.int64)
    lo = np.maximum(centre - 2, 0)
    hi = np.minimum(centre + 3, mask.shape)
    cells = np.argwhere(mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]) + lo
    if cells.size == 0:
        return np.inf
    gap = np.maximum(np.maximum(cells * h - root, root - (cells + 1) * h), 0.0)
    return float(np.linalg.norm(gap, axis=1).min())


class TissueCheck:
    """The tissue of one generation: demand-weighted sampling and segment checks."""

    def __init__(self, mask, demand, h, root):
        self.mask, self.h, self.root = mask, h, root
        supplied = np.flatnonzero(mask & (demand > 0))
        self.cells = np.stack(np.unravel_index(supplied, mask.shape), axis=1)
        self.demand = demand.ravel()[supplied]
        self.cumulative = np.cumsum(self.demand)
        self.weighted_volume = float(self.cumulative[-1] * h.prod())   # D = Σ d_v h³
        self.min_length = 1e-3 * h.min()
        inside = self.contains(root[None])[0]
        self.exempt = 0.0 if inside else float(np.linalg.norm(h))

    def draw(self, rng, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` points drawn with density ∝ demand, and the demand at each."""
        pick = np.searchsorted(self.cumulative, rng.random(count) * self.cumulative[-1],
                               side="right")
        pick = np.minimum(pick, len(self.cumulative) - 1)
        points = (self.cells[pick] + rng.random((count, 3))) * self.h
        return points, self.demand[pick]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each point (P, 3) lies in a tissue voxel."""
        cells = np.floor(points / self.h).astype(np.int64)
        ok = ((cells >= 0) & (cells < np.asarray(self.mask.shape))).all(axis=1)
        ok[ok] = self.mask[tuple(cells[ok].T)]
        return ok

    def segments_inside(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Whether each segment ``starts[s] → stops[s]`` stays in the tissue: its ends and
        the midpoint of its chord through every voxel it crosses (exact voxel traversal,
        so no sampling step can skip a corner) lie in tissue voxels."""
        count = len(starts)
        delta = stops - starts
        first = np.floor(starts / self.h).astype(np.int64)
        last = np.floor(stops / self.h).astype(np.int64)
        owners, params = [np.arange(count)] * 2, [np.zeros(count), np.ones(count)]
        for axis in range(3):
            low = np.minimum(first[:, axis], last[:, axis])
            crossings = np.abs(last[:, axis] - first[:, axis])
            owner = np.repeat(np.arange(count), crossings)
            offsets = np.cumsum(crossings) - crossings
            plane = low[owner] + 1 + np.arange(crossings.sum()) - offsets[owner]
            owners.append(owner)
            params.append((plane * self.h[axis] - starts[owner, axis]) / delta[owner, axis])
        owner, param = np.concatenate(owners), np.concatenate(params)
        order = np.lexsort((param, owner))
        owner, param = owner[order], param[order]
        same = owner[1:] == owner[:-1]
        owner = np.concatenate([owner, owner[:-1][same]])
        param = np.concatenate([param, 0.5 * (param[1:] + param[:-1])[same]])
        points = starts[owner] + param[:, None] * delta[owner]
        ok = self.contains(points)
        if self.exempt > 0:
            ok |= np.linalg.norm(points - self.root, axis=1) <= self.exempt
        return np.bincount(owner[~ok], minlength=count) == 0
