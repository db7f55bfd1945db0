"""Vascular trees: nodes, segments, radii (issue 6; docs/model.md §3).

A tree holds node positions ``x_n`` [m] (grid frame, as the inlets), directed segments
``(u, d)`` from the upstream node ``u`` to the downstream node ``d`` and one radius
``r_s`` [m] per segment. Every node has at most one incoming segment; nodes without one
are roots (blood enters there), nodes without outgoing segments are terminals (blood
leaves into the tissue there). Segment length ``L_s = |x_d − x_u|``. Segments are stored
in topological order (every segment after the one feeding it), so flows accumulate by one
reverse pass and pressures by one forward pass.

Derived arrays (lengths, roots, terminals, …) are computed once per tree. Loaders give
undirected edges; :meth:`VascularTree.from_edges` orients them away from
the chosen root(s) and rejects cycles and pieces not connected to a root.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import GeometryError
from ..library.units import format_mm


class TreeError(GeometryError):
    """A vascular tree is not a valid tree on this grid; says what and how to fix it."""


@dataclass(frozen=True, eq=False)
class VascularTree:
    """An arterial tree: ``points`` (n, 3) [m], ``segments`` (m, 2) node indices
    (upstream, downstream) in topological order, ``radii`` (m,) [m]."""

    points: np.ndarray
    segments: np.ndarray
    radii: np.ndarray
    name: str = "tree"
    parent: np.ndarray = field(init=False, repr=False)   # incoming segment per node (−1: root)

    def __post_init__(self):
        points = np.asarray(self.points, dtype=np.float64).reshape(-1, 3)
        segments = np.asarray(self.segments, dtype=np.int64).reshape(-1, 2)
        radii = np.asarray(self.radii, dtype=np.float64).reshape(-1)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "radii", radii)
        self._check_structure()
        parent = np.full(len(points), -1, dtype=np.int64)
        parent[segments[:, 1]] = np.arange(len(segments))
        object.__setattr__(self, "parent", parent)

    @classmethod
    def from_edges(cls, points, edges, radii, roots, name: str = "tree") -> "VascularTree":
        """Orient undirected ``edges`` (m, 2) away from the node indices ``roots``.

        With several roots each node is fed from the root nearest along the tree (breadth
        first); the edge where two roots' parts meet is dropped — a tree has one path from a
        root to each node (communicating arteries between inflows carry little flow).
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        radii = np.asarray(radii, dtype=np.float64).reshape(-1)
        if len(radii) != len(edges):
            raise TreeError(f"tree {name!r}: {len(radii)} radii for {len(edges)} segments")
        neighbours: list[list[tuple[int, int]]] = [[] for _ in range(len(points))]
        for s, (a, b) in enumerate(edges):
            neighbours[a].append((b, s))
            neighbours[b].append((a, s))
        owner = np.full(len(points), -1)
        order, oriented = [], []
        queue = deque()
        for n, root in enumerate(np.atleast_1d(roots)):
            if not 0 <= int(root) < len(points):
                raise TreeError(f"tree {name!r}: root node {int(root)} does not exist "
                                f"(the tree has {len(points)} nodes)")
            owner[root] = n
            queue.append(int(root))
        used = np.zeros(len(edges), dtype=bool)
        while queue:
            node = queue.popleft()
            for other, s in neighbours[node]:
                if used[s]:
                    continue
                used[s] = True
                if owner[other] == owner[node]:
                    raise TreeError(f"tree {name!r}: segments form a loop through node {other} "
                                    f"at {format_mm(points[other])}; a tree has none — remove one "
                                    "segment of the loop")
                if owner[other] >= 0:
                    continue                     # where two roots' parts meet
                owner[other] = owner[node]
                order.append(s)
                oriented.append((node, other))
                queue.append(other)
        if (owner < 0).any():
            lost = int((owner < 0).sum())
            raise TreeError(f"tree {name!r}: {lost} of {len(points)} nodes are not connected "
                            f"to a root (e.g. node {int(np.flatnonzero(owner < 0)[0])}); keep the "
                            "largest connected piece or name a root in each piece")
        return cls(points, np.array(oriented, dtype=np.int64).reshape(-1, 2), radii[order], name)

    def rooted_at(self, positions) -> "VascularTree":
        """The same vessels re-oriented from the nodes nearest to ``positions`` [m]."""
        nodes = [int(np.argmin(np.linalg.norm(self.points - np.asarray(x), axis=1)))
                 for x in positions]
        return VascularTree.from_edges(self.points, self.segments, self.radii, nodes, self.name)

    def _check_structure(self) -> None:
        n, segments, radii = len(self.points), self.segments, self.radii
        where = f"tree {self.name!r}"
        if len(segments) == 0:
            raise TreeError(f"{where} has no segments")
        if len(radii) != len(segments):
            raise TreeError(f"{where}: {len(radii)} radii for {len(segments)} segments")
        if segments.min() < 0 or segments.max() >= n:
            raise TreeError(f"{where}: a segment refers to a node that does not exist")
        bad = np.flatnonzero(~(radii > 0) | ~np.isfinite(radii))
        if bad.size:
            raise TreeError(f"{where}: segment {int(bad[0])} has radius {radii[bad[0]]:g} m; "
                            "every radius must be positive")
        if not np.isfinite(self.points).all():
            raise TreeError(f"{where}: node positions must be finite")
        incoming = np.bincount(segments[:, 1], minlength=n)
        if incoming.max() > 1:
            node = int(np.argmax(incoming))
            raise TreeError(f"{where}: node {node} is fed by {incoming[node]} segments; in a "
                            "tree each node has one upstream segment")
        placed = np.zeros(n, dtype=bool)
        placed[np.flatnonzero(incoming == 0)] = True
        for s, (u, d) in enumerate(segments):
            if not placed[u]:
                raise TreeError(f"{where}: segment {s} comes before the segment feeding it, or "
                                "the segments form a loop; build the tree with from_edges")
            placed[d] = True
        zero = np.flatnonzero(self.lengths <= 0)
        if zero.size:
            raise TreeError(f"{where}: segment {int(zero[0])} has zero length (its two nodes "
                            "coincide); merge the nodes")

    # --- topology -------------------------------------------------------------------------
    @cached_property
    def lengths(self) -> np.ndarray:
        """Segment lengths ``L_s`` [m]."""
        return np.linalg.norm(self.points[self.segments[:, 1]] - self.points[self.segments[:, 0]],
                              axis=1)

    @cached_property
    def roots(self) -> np.ndarray:
        """Nodes without an upstream segment, that have a downstream one."""
        return np.setdiff1d(np.flatnonzero(self.parent < 0), self._isolated())

    @cached_property
    def terminals(self) -> np.ndarray:
        """Nodes without downstream segments (where blood leaves into the tissue)."""
        outgoing = np.bincount(self.segments[:, 0], minlength=len(self.points))
        return np.flatnonzero((outgoing == 0) & (self.parent >= 0))

    @cached_property
    def root_segments(self) -> np.ndarray:
        """The segments leaving a root (their flows sum to the inflow)."""
        return np.flatnonzero(np.isin(self.segments[:, 0], self.roots))

    @cached_property
    def terminal_segments(self) -> np.ndarray:
        """The segment ending at each terminal (same order as :attr:`terminals`)."""
        return self.parent[self.terminals]

    def _isolated(self) -> np.ndarray:
        touched = np.zeros(len(self.points), dtype=bool)
        touched[self.segments.ravel()] = True
        return np.flatnonzero(~touched)

    def children(self, segment: int) -> np.ndarray:
        """The segments leaving the downstream node of ``segment``."""
        return np.flatnonzero(self.segments[:, 0] == self.segments[segment, 1])

    def subtree(self, segment: int) -> np.ndarray:
        """``segment`` and every segment downstream of it (sorted ids)."""
        inside = np.zeros(len(self.segments), dtype=bool)
        inside[segment] = True
        for s in range(segment + 1, len(self.segments)):  # topological order
            feeding = self.parent[self.segments[s, 0]]
            inside[s] = feeding >= 0 and inside[feeding]
        return np.flatnonzero(inside)

    def path_to_root(self, segment: int) -> np.ndarray:
        """The segments from ``segment`` up to its root, ``segment`` first."""
        path = [segment]
        while self.parent[self.segments[path[-1], 0]] >= 0:
            path.append(int(self.parent[self.segments[path[-1], 0]]))
        return np.array(path)

    def nearest_segment(self, position) -> tuple[int, float]:
        """(segment id, distance [m]) of the segment axis closest to ``position``."""
        a = self.points[self.segments[:, 0]]
        d = self.points[self.segments[:, 1]] - a
        t = np.clip(((np.asarray(position) - a) * d).sum(axis=1) / (d * d).sum(axis=1), 0, 1)
        distance = np.linalg.norm(a + t[:, None] * d - np.asarray(position), axis=1)
        best = int(np.argmin(distance))
        return best, float(distance[best])

    def subset(self, keep: np.ndarray) -> "VascularTree":
        """The tree of the segments where ``keep`` is true (an upstream-closed set), with
        unused nodes dropped; new segment ``i`` is old segment ``flatnonzero(keep)[i]``."""
        segments = self.segments[keep]
        used = np.unique(segments)
        renumber = np.full(len(self.points), -1)
        renumber[used] = np.arange(used.size)
        return VascularTree(self.points[used], renumber[segments], self.radii[keep], self.name)

    # --- checks against a grid -------------------------------------------------------------
    def check_inside(self, mask: np.ndarray, spacing, *, key: str, nodes: str = "terminals"):
        """Raise :class:`TreeError` unless the ``nodes`` (``"terminals"`` or ``"all"``) lie in
        voxels where ``mask`` is true; ``key`` names the case entry."""
        points = self.points[self.terminals] if nodes == "terminals" else self.points
        cells = np.floor(points / np.asarray(spacing)).astype(np.int64)
        inside_grid = ((cells >= 0) & (cells < np.asarray(mask.shape))).all(axis=1)
        ok = inside_grid.copy()
        ok[inside_grid] = mask[tuple(cells[inside_grid].T)]
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            extent = [round(s * h * 1e3, 3) for s, h in zip(mask.shape, spacing)]
            where = "outside the grid" if not inside_grid[bad] else "outside the tissue"
            raise TreeError(
                f"{key}: tree {self.name!r} has {int((~ok).sum())} {nodes} {where} it supplies, "
                f"e.g. at {format_mm(points[bad])} (the grid spans [0, 0, 0]…{extent} mm); check the "
                "tree's units and origin (positions are in the grid frame, from the corner of "
                "voxel [0, 0, 0]) or the tissue labels")

    def summary(self) -> dict:
        """Counts and sizes for ``metrics.json``."""
        return {"segments": int(len(self.segments)), "nodes": int(len(self.points)),
                "terminals": int(len(self.terminals)), "roots": int(len(self.roots)),
                "radius_min_mm": float(self.radii.min() * 1e3),
                "radius_max_mm": float(self.radii.max() * 1e3),
                "total_length_mm": float(self.lengths.sum() * 1e3),
                "volume_ml": float((np.pi * self.radii ** 2 * self.lengths).sum() * 1e6)}
