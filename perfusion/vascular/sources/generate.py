"""Arterial trees grown in the tissue by constrained constructive optimisation (CCO).

After Schreiner & Buxbaum 1993 (IEEE TBME 40:482) and Karch et al. 1999 (Comput. Biol.
Med. 29:19). Terminals are added one at a time:

1. Toss a point ``x`` with probability ∝ demand (a voxel drawn with weight ``d_v h³``, the
   point uniform inside it). Reject it if it is closer than ``d_thresh(x)`` to a segment.
   Karch's ``d_thresh = (V_perf / k)^{1/3}`` (``k`` terminals so far) is generalised to a
   non-uniform demand ``d``: ``d_thresh(x) = f (D / (k d(x)))^{1/3}`` with
   ``D = Σ_v d_v h³``, the local spacing of ``k`` terminals placed with density ∝ ``d``.
   ``f`` starts at 1 for each terminal and shrinks ×0.9 after each batch of
   ``_BATCH`` rejected tosses.
2. Join ``x`` to each of the ``_CANDIDATES`` nearest segments ``(u, d)`` through a new
   bifurcation ``b`` in the triangle ``(x_u, x_d, x)``, placed by geometric optimisation
   (Kamiya & Togawa 1972: the weighted Fermat point minimising ``Σ r_i² L_i`` of the three
   new segments, radii from the current site, ``_KAMIYA`` Weiszfeld steps). Radii follow
   from Poiseuille, the bifurcation ratios and Murray's law (see
   :mod:`perfusion.vascular.sources.cco`, which states the equations); the connection with the
   smallest total tree volume ``V = Σ π r² L`` (exact, evaluated along the path to the
   root) that keeps every new segment in the tissue wins. Where no optimised site is
   valid (non-convex tissue), the interior points of a barycentric lattice on each
   triangle are tried the same way.

Constraints: every voxel each new segment passes through is in ``mask`` (an exact voxel
traversal, stricter than sampling it every half voxel; near a root outside the tissue,
points within one voxel diagonal of it are not checked); no segment shorter than
``_MIN_LENGTH`` voxels. Same inputs and ``seed`` give the same tree
(``numpy.random.default_rng``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .cco import GrowingTree
from ..tree import TreeError, VascularTree
from .placement import TissueCheck, check_inputs
from ...library.units import format_mm

logger = logging.getLogger(__name__)

_CANDIDATES = 16          # nearest segments tried per terminal
_BATCH = 8                # tosses drawn at once; d_thresh shrinks after each failed batch
_SHRINK = 0.9
_MAX_BATCHES = 250        # per terminal (f reaches 0.9^250 ≈ 4e-12)
_CHECKS = 24              # connections checked against the mask per tossed point
_KAMIYA = 16              # Weiszfeld steps of the geometric bifurcation optimisation
_LATTICE = 6              # barycentric denominator of the fallback bifurcation sites
_MIN_LENGTH = 1e-3        # shortest segment, in units of the smallest voxel spacing


def generate_tree(mask, demand, spacing, *, root, flow, root_pressure, terminal_pressure,
                  terminals, seed=0, murray_exponent=3.0, viscosity=3.6e-3,
                  name="tree") -> VascularTree:
    """Grow an arterial tree with ``terminals`` terminals into ``mask`` by CCO.

    Parameters
    ----------
    mask : (nx, ny, nz) bool array — the tissue the tree may run in (grid frame).
    demand : float array like ``mask``, ≥ 0 — perfusion demand; terminal density ∝ demand
        (ignored outside ``mask``; voxels with demand 0 get no terminal).
    spacing : voxel size (h_x, h_y, h_z) [m] (or one number).
    root : (x, y, z) [m] — the root node, inside or within a voxel of the tissue.
    flow : root flow Q [m³/s]; every terminal receives Q / terminals.
    root_pressure, terminal_pressure : [Pa], root above terminals.
    terminals : number of terminals N ≥ 1.
    seed : seed of ``numpy.random.default_rng``.
    murray_exponent : γ in r_parent^γ = r_1^γ + r_2^γ.
    viscosity : blood viscosity μ [Pa·s].
    name : the tree's name.

    Returns
    -------
    VascularTree whose Poiseuille flow at the given pressures is ``flow``, split equally.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.ones((10, 10, 10), dtype=bool)
    >>> tree = generate_tree(mask, mask * 1.0, 1e-3, root=(0.0, 5e-3, 5e-3), flow=1e-7,
    ...                      root_pressure=1e4, terminal_pressure=4e3, terminals=20)
    >>> len(tree.terminals)
    20
    """
    growth = grow_tree(mask, demand, spacing, root=root, flow=flow,
                       root_pressure=root_pressure, terminal_pressure=terminal_pressure,
                       terminals=terminals, seed=seed, murray_exponent=murray_exponent,
                       viscosity=viscosity)
    return growth.finish(flow, root_pressure - terminal_pressure, name)


@dataclass
class Growth:
    """A tree being grown with what its further terminals need: the tissue it grows in,
    the random generator (continued, so the same seed gives the same tree) and the shortest
    allowed segment [m]."""

    tree: GrowingTree
    tissue: TissueCheck
    rng: np.random.Generator
    min_length: float

    def finish(self, flow: float, pressure_drop: float, name: str) -> VascularTree:
        """The finished tree delivering ``flow`` at ``pressure_drop``."""
        logger.info("tree %r: %d terminals, %d segments, volume %.4g mL", name,
                    (self.tree.count + 1) // 2, self.tree.count,
                    self.tree.volume(flow, pressure_drop) * 1e6)
        return self.tree.to_tree(flow, pressure_drop, name)


def grow_tree(mask, demand, spacing, *, root, flow, root_pressure, terminal_pressure,
              terminals, seed=0, murray_exponent=3.0, viscosity=3.6e-3,
              spare=0) -> Growth:
    """The :class:`Growth` of :func:`generate_tree` (same parameters) before it is
    finished, with room for ``spare`` more terminals (tumour feeders)."""
    mask, demand, h, root = check_inputs(mask, demand, spacing, root, flow, root_pressure,
                                         terminal_pressure, terminals, murray_exponent,
                                         viscosity)
    terminals = int(terminals)
    tissue = TissueCheck(mask, demand, h, root)
    rng = np.random.default_rng(seed)
    first = _first_terminal(tissue, rng, root)
    tree = GrowingTree(root, first, terminals + spare, viscosity, murray_exponent)
    min_length = _MIN_LENGTH * h.min()
    for k in range(1, terminals):
        add_terminal(tree, tissue, rng, k, min_length)
    return Growth(tree, tissue, rng, min_length)


def fitted_murray_exponent(tree: VascularTree) -> float:
    """Least-squares γ over the branch points of ``tree``: minimises
    ``Σ_p (Σ_children (r_c / r_p)^γ − 1)²`` (Gauss–Newton from γ = 3)."""
    feeding = tree.parent[tree.segments[:, 0]]
    child = np.flatnonzero(feeding >= 0)
    parents = feeding[child]
    counts = np.bincount(parents, minlength=len(tree.segments))
    keep = counts[parents] >= 2
    child, parents = child[keep], parents[keep]
    if child.size == 0:
        raise TreeError(f"tree {tree.name!r} has no bifurcation; Murray's exponent needs "
                        "at least one branch point")
    _, group = np.unique(parents, return_inverse=True)
    log_ratio = np.log(tree.radii[child] / tree.radii[parents])
    gamma = 3.0
    for _ in range(100):
        powers = np.exp(gamma * log_ratio)
        residual = np.bincount(group, powers) - 1.0
        slope = np.bincount(group, powers * log_ratio)
        step = (slope @ residual) / (slope @ slope)
        gamma -= step
        if abs(step) <= 1e-13 * abs(gamma):
            break
    return float(gamma)


def _first_terminal(tissue: TissueCheck, rng, root) -> np.ndarray:
    """A demand-weighted point that a straight segment from the root reaches in the tissue."""
    for _ in range(_MAX_BATCHES):
        points, _ = tissue.draw(rng, _BATCH)
        far = np.linalg.norm(points - root, axis=1) > tissue.min_length
        ok = far & tissue.segments_inside(np.broadcast_to(root, points.shape), points)
        if ok.any():
            return points[np.argmax(ok)]
    raise TreeError(f"generate_tree: no straight segment from the root at {format_mm(root)} into "
                    f"the tissue found in {_MAX_BATCHES * _BATCH} tries; move the root to "
                    "where the tissue is reachable (inside or on its surface)")


def add_terminal(tree: GrowingTree, tissue: TissueCheck, rng, k: int, min_length: float,
                 allowed: np.ndarray | None = None, weight: float = 1.0) -> None:
    """Toss points until one can be joined to the tree in the tissue; join it.

    ``k``: terminals of this (sub-)tree so far (``k = 0``: no distance threshold);
    ``allowed``: bool per segment id, the segments it may join (default all) and keep its
    distance from; ``weight``: the new terminal's flow weight ``w_t``.
    """
    factor = 1.0
    for _ in range(_MAX_BATCHES):
        points, local = tissue.draw(rng, _BATCH)
        squared = tree.squared_distances(points)
        if allowed is not None:
            squared[:, ~allowed[:tree.count]] = np.inf
        spacing = (tissue.weighted_volume / (k * local)) ** (1 / 3) if k else 0.0
        threshold = np.maximum(factor * spacing, min_length)
        for b in np.flatnonzero(squared.min(axis=1) >= threshold**2):
            if _connect_best(tree, tissue, points[b], squared[b], min_length, weight):
                return
        factor *= _SHRINK
    raise TreeError(f"generate_tree: terminal {k + 1} could not be placed after "
                    f"{_MAX_BATCHES * _BATCH} tries (no connection stays in the tissue); "
                    "ask for fewer terminals, use a finer grid, or check that the tissue "
                    "mask is one connected piece reachable from the root")


def _connect_best(tree: GrowingTree, tissue: TissueCheck, terminal, squared,
                  min_length: float, weight: float = 1.0) -> bool:
    """Join ``terminal`` (flow weight ``weight``) by the cheapest connection that stays in
    the tissue, to one of the nearest segments with a finite entry in ``squared``: each
    candidate's geometrically optimised site first, a lattice on its triangle if none of
    those is valid. False when no connection is."""
    count = min(_CANDIDATES, int(np.isfinite(squared).sum()))
    candidates = np.argpartition(squared, count - 1)[:count]
    candidates = candidates[np.argsort(squared[candidates], kind="stable")]
    terms = tree.path_terms(candidates, weight)
    corners = np.stack([tree.points[tree.up[candidates]], tree.points[tree.down[candidates]],
                        np.broadcast_to(terminal, (count, 3))], axis=1)      # (C, 3, 3)
    fermat = tree.fermat_sites(candidates, terminal, _KAMIYA, min_length, weight)
    lattice = np.einsum("pk,ckx->cpx", _lattice(), corners)
    for sites in (fermat[:, None, :], lattice):
        cost = tree.cost(candidates, sites, terminal, terms, weight)
        shortest = np.min([np.linalg.norm(sites - corners[:, None, i], axis=2)
                           for i in range(3)], axis=0)
        cost = np.where(shortest >= min_length, cost, np.inf)
        flat = np.argsort(cost, axis=None, kind="stable")[:_CHECKS]
        flat = flat[np.isfinite(cost.ravel()[flat])]
        which, site_id = np.unravel_index(flat, cost.shape)
        chosen_sites = sites[which, site_id]
        ends = corners[which]
        starts = np.concatenate([ends[:, 0], chosen_sites, chosen_sites])
        stops = np.concatenate([chosen_sites, ends[:, 1], ends[:, 2]])
        inside = tissue.segments_inside(starts, stops).reshape(3, -1).all(axis=0)
        if inside.any():
            chosen = int(np.argmax(inside))
            tree.connect(int(candidates[which[chosen]]), chosen_sites[chosen], terminal, weight)
            return True
    return False


def _lattice() -> np.ndarray:
    """Interior points (P, 3) of the barycentric lattice with denominator ``_LATTICE``."""
    return np.array([(i, j, _LATTICE - i - j) for i in range(1, _LATTICE)
                     for j in range(1, _LATTICE - i)], dtype=float) / _LATTICE
