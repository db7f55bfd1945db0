"""Vascular trees from binary vessel masks (segmented arteries).

Centre-lines are traced through the vessel voxels (``perfusion.vascular.sources.teasar``): nodes
are voxel centres, ``x = (index + 0.5) · spacing`` [m, grid frame], radii the ridge of the
distance transform. Short terminal spurs (bumps on the wall) are then pruned, pieces kept or
bridged, the root chosen, and unbranched runs thinned to about one node per
``node_spacing``.
"""
from __future__ import annotations

import logging
import os
from collections import defaultdict

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ...errors import GeometryError
from ...geometry.readers import read_image
from .teasar import centre_lines, ridge_radius
from ...library.units import format_mm
from ..tree import TreeError, VascularTree

log = logging.getLogger(__name__)

_ROOT_REACH = 3.0   # a root position may lie 3 radii + 2 voxels from the centre-line


def tree_from_mask(mask, spacing, *, root=None, min_branch_length: float | None = None,
                   bridge_gaps: float = 0.0, keep: str = "largest",
                   node_spacing: float | None = None, name: str = "tree",
                   source: str = "mask") -> VascularTree:
    """Trace the centre-lines of a 3-D vessel mask into a :class:`VascularTree`.

    Parameters
    ----------
    mask : array_like of bool, shape (nx, ny, nz)
        True in vessel voxels, indexed ``[i, j, k]``.
    spacing : float or sequence of 3 floats
        Voxel size [m].
    root : sequence of 3 floats or None
        Inlet position [m, grid frame]: the nearest centre-line node of the kept piece
        becomes the root. None: the centre-line end with the largest radius.
    min_branch_length : float, optional
        Terminal branches shorter than this [m] are pruned, repeatedly (a junction keeps
        two branches). Default: twice the radius at the junction plus 2 voxels.
    bridge_gaps : float
        With ``keep="all"``: join pieces whose ends' walls (spheres of the end radii) are
        less than this apart [m], smallest gap first, by a segment of the smaller radius.
    keep : {"largest", "all"}
        Keep the piece with the most vessel voxels, or first bridge the pieces (then keep
        the largest bridged piece; the voxels dropped are logged as a warning).
    node_spacing : float, optional
        Distance [m] between nodes along unbranched runs (branch points and ends kept; a
        segment's radius is the length-weighted mean along the run it replaces). Default:
        2 voxels (the largest spacing); 0 keeps every centre-line voxel.
    name, source : str
        Tree name; what the mask is (e.g. its file), to start messages with.

    Raises
    ------
    TreeError
        No vessel voxel, a kept piece that is a blob, a root far from it, or bad options.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((9, 9, 30), bool)
    >>> mask[3:6, 3:6, 2:28] = True
    >>> tree = tree_from_mask(mask, 1e-3)
    >>> len(tree.terminals), round(tree.lengths.sum() * 1e3)
    (1, 24)
    """
    mask = np.asarray(mask, dtype=bool)
    spacing = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (3,))
    if mask.ndim != 3 or not (spacing > 0).all():
        raise TreeError(f"{source}: need a 3-D mask and a positive voxel size, got shape "
                        f"{mask.shape} and spacing {spacing.tolist()} m")
    if keep not in ("largest", "all") or (keep == "all" and not bridge_gaps > 0):
        raise TreeError(f"{source}: keep={keep!r} with bridge_gaps={bridge_gaps!r}; use "
                        "keep='largest', or keep='all' with bridge_gaps > 0 [m]")
    if not mask.any():
        raise TreeError(f"{source}: the vessel mask has no vessel voxel; check the label "
                        "value and that the segmentation is not empty")
    low = np.maximum(np.argwhere(mask).min(axis=0) - 1, 0)   # one background layer kept:
    high = np.argwhere(mask).max(axis=0) + 2                  # the EDT is unchanged
    crop = mask[tuple(slice(a, b) for a, b in zip(low, high))]
    distance = ndimage.distance_transform_edt(crop, sampling=spacing)
    voxels = np.argwhere(crop)
    nodes, edges, voxel_piece = centre_lines(voxels, crop.shape, distance, spacing)
    coords = voxels[nodes]
    graph = _Graph((coords + low + 0.5) * spacing, ridge_radius(distance, coords), edges)
    graph.prune(min_branch_length, 2 * spacing.min())
    if keep == "all":
        graph.bridge(bridge_gaps)
    pieces, piece = graph.components()
    sizes = np.bincount(voxel_piece)
    voxels_in = [sizes[np.unique(voxel_piece[nodes[piece == p]])].sum() for p in range(pieces)]
    kept = int(np.argmax(voxels_in))
    if len(voxels) > voxels_in[kept]:
        (log.warning if keep == "all" else log.info)(
            "%s: dropped %d vessel voxels in %d pieces not connected to the kept tree", source,
            len(voxels) - voxels_in[kept], pieces - 1)
    nodes = np.flatnonzero(piece == kept)
    step = 2 * spacing.max() if node_spacing is None else node_spacing
    points, edges, radii = graph.simplified(_root(graph, nodes, root, spacing, source), step)
    length = np.linalg.norm(points[edges[:, 1]] - points[edges[:, 0]], axis=1).sum()
    if not length > 2 * graph.radius[nodes].max():
        raise TreeError(f"{source}: the largest vessel piece is a blob, not a vessel (centre-"
                        f"line {1e3 * length:.3g} mm long, {1e3 * graph.radius[nodes].max():.3g}"
                        " mm radius); check the mask and its label")
    return VascularTree.from_edges(points, edges, radii, 0, name=name)


def load_vessel_mask(path: str | os.PathLike, *, label=None, spacing=None,
                     **options) -> VascularTree:
    """Read a vessel segmentation and trace it with :func:`tree_from_mask`.

    ``path``: any image :func:`perfusion.geometry.readers.read_image` reads; ``label``: the
    vessel value(s) (None: every non-zero voxel); ``spacing`` [m] overrides the file's
    (required when it stores none); ``options`` go to :func:`tree_from_mask`. Positions are
    in this image's grid frame. Every error is a :class:`TreeError` naming the file.
    """
    try:
        image = read_image(path)
    except GeometryError as exc:
        raise TreeError(str(exc)) from exc
    spacing = image.spacing if spacing is None else spacing
    if spacing is None:
        raise TreeError(f"{image.path}: the file stores no voxel size; pass spacing= [m]")
    mask = image.data != 0 if label is None else np.isin(image.data, np.atleast_1d(label))
    if label is not None and not mask.any():
        raise TreeError(f"{image.path}: no voxel has label {label!r}; the image holds "
                        f"{np.unique(image.data)[:20].tolist()}; pass the vessel label")
    options.setdefault("name", image.path.name.split(".")[0])
    return tree_from_mask(mask, spacing, source=str(image.path), **options)


def _root(graph, nodes, root, spacing, source) -> int:
    """The root node among ``nodes``: the widest end, or the one nearest ``root``."""
    if root is None:
        ends = nodes[graph.degree(nodes) == 1]
        ends = ends if ends.size else nodes   # a single node: the blob check says so
        return int(ends[np.argmax(graph.radius[ends])])
    position = np.asarray(root, dtype=np.float64).reshape(3)
    distance, nearest = cKDTree(graph.positions[nodes]).query(position)
    node = int(nodes[nearest])
    if distance > _ROOT_REACH * graph.radius[node] + 2 * spacing.max():
        raise TreeError(f"{source}: root {format_mm(position)} is {1e3 * distance:.3g} mm from the "
                        f"nearest vessel centre-line point {format_mm(graph.positions[node])} "
                        f"(radius {1e3 * graph.radius[node]:.3g} mm); give a position on the "
                        "inlet vessel, in metres in the grid frame")
    return node


class _Graph:
    """The undirected centre-line forest: node ``positions`` [m], ``radius`` [m], neighbours."""

    def __init__(self, positions, radius, edges):
        self.positions, self.radius = positions, radius
        self.neighbours: list[set[int]] = [set() for _ in range(len(positions))]
        for a, b in edges:
            self.neighbours[a].add(int(b))
            self.neighbours[b].add(int(a))
        self.bridges: dict[tuple[int, int], float] = {}   # added segments: their radius
        self.alive = np.ones(len(positions), dtype=bool)    # false: pruned

    def degree(self, nodes) -> np.ndarray:
        return np.array([len(self.neighbours[n]) for n in nodes], dtype=np.int64)

    def _distance(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.positions[a] - self.positions[b]))

    def _run(self, start: int, first: int, stop) -> list[int]:
        """The nodes from ``start`` through ``first`` on to the first node where ``stop``."""
        run = [start, first]
        while not stop(run[-1]):
            (following,) = self.neighbours[run[-1]] - {run[-2]}
            run.append(following)
        return run

    def prune(self, min_length: float | None, slack: float) -> None:
        """Remove terminal branches shorter than ``min_length`` (default: 2 junction radii
        + ``slack``) until none is left; a junction keeps at least two branches."""
        while True:
            spurs = defaultdict(list)   # junction -> [(length, nodes before the junction)]
            for end in np.flatnonzero(self.degree(range(len(self.positions))) == 1):
                (first,) = self.neighbours[end]
                run = self._run(int(end), first, lambda n: len(self.neighbours[n]) != 2)
                if len(self.neighbours[run[-1]]) >= 3:
                    spurs[run[-1]].append((sum(map(self._distance, run, run[1:])), run[:-1]))
            removed = False
            for junction, branches in spurs.items():
                limit = 2 * self.radius[junction] + slack if min_length is None else min_length
                branches.sort(key=lambda branch: -branch[0])
                protected = max(0, 2 - (len(self.neighbours[junction]) - len(branches)))
                for length, path in branches[protected:]:
                    if length < limit:
                        removed = True
                        for node in path:
                            for other in self.neighbours[node]:
                                self.neighbours[other].discard(node)
                            self.neighbours[node] = set()
                            self.alive[node] = False
            if not removed:
                return

    def components(self) -> tuple[int, np.ndarray]:
        """Number of pieces, piece of each node (−1: pruned)."""
        edges = np.array([(a, b) for a, others in enumerate(self.neighbours) for b in others
                          if a < b], dtype=np.int64).reshape(-1, 2)
        size = len(self.positions)
        _, piece = connected_components(coo_matrix((np.ones(len(edges)), edges.T),
                                                   shape=(size, size)), directed=False)
        labels, piece[self.alive] = np.unique(piece[self.alive], return_inverse=True)
        piece[~self.alive] = -1
        return len(labels), piece

    def bridge(self, gap: float) -> None:
        """Join the ends (degree ≤ 1) of different pieces whose walls (spheres of the end
        radii) are less than ``gap`` [m] apart, smallest gap first, each pair of pieces once."""
        _, piece = self.components()
        ends = np.flatnonzero((self.degree(range(len(self.positions))) <= 1) & self.alive)
        reach = gap + 2 * self.radius[ends].max(initial=0.0)
        pairs = ends[cKDTree(self.positions[ends]).query_pairs(reach, output_type="ndarray")]
        gaps = (np.linalg.norm(self.positions[pairs[:, 0]] - self.positions[pairs[:, 1]], axis=1)
                - self.radius[pairs].sum(axis=1))
        near = (gaps < gap) & (piece[pairs[:, 0]] != piece[pairs[:, 1]])
        group = np.arange(piece.max() + 1)   # which joined group each piece is in
        for a, b in pairs[near][np.argsort(gaps[near], kind="stable")]:
            if group[piece[a]] != group[piece[b]]:
                group[group == group[piece[a]]] = group[piece[b]]
                self.neighbours[a].add(int(b))
                self.neighbours[b].add(int(a))
                self.bridges[(min(a, b), max(a, b))] = min(self.radius[a], self.radius[b])

    def simplified(self, root: int, step: float):
        """(points, edges, radii) of the piece of ``root`` (node 0), unbranched runs cut
        into pieces about ``step`` [m] long (every node kept when ``step`` is 0)."""
        new, edges, radii, stack = {root: 0}, [], [], [root]
        while stack:
            start = stack.pop()
            for first in sorted(self.neighbours[start]):
                run = self._run(start, first,
                                lambda n: len(self.neighbours[n]) != 2 or n == root)
                if run[-1] in new:
                    continue   # the run this walk came along
                lengths = np.array(list(map(self._distance, run, run[1:])))
                run_radii = np.array([self.bridges.get((min(a, b), max(a, b)), 0.5 * (
                    self.radius[a] + self.radius[b])) for a, b in zip(run, run[1:])])
                reach = np.concatenate([[0.0], np.cumsum(lengths)])
                cuts = range(len(run))
                if step > 0:
                    pieces = max(1, round(reach[-1] / step))
                    inner = np.searchsorted(reach, reach[-1] * np.arange(1, pieces) / pieces)
                    cuts = [0, *(c for c in np.unique(inner) if 0 < c < len(run) - 1),
                            len(run) - 1]
                for a, b in zip(cuts, cuts[1:]):
                    new.setdefault(run[b], len(new))
                    edges.append((new[run[a]], new[run[b]]))
                    radii.append(np.average(run_radii[a:b], weights=lengths[a:b]))
                stack.append(run[-1])
        points = np.empty((len(new), 3))
        points[list(new.values())] = self.positions[list(new.keys())]
        return points, np.array(edges, dtype=np.int64).reshape(-1, 2), np.array(radii)
