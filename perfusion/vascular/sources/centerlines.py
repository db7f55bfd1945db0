"""Vascular trees from centre-line files (VMTK, ParaView, PyVista, perfusion's own).

A centre-line file is VTK PolyData (``.vtp`` XML, or legacy ``.vtk``) whose line or
polyline cells follow the vessel axes and whose point array (VMTK:
``MaximumInscribedSphereRadius``) holds the vessel radius at each point. The tree's nodes
are the points, its segments the consecutive point pairs of every polyline, a segment's
radius the mean of its two endpoint radii.

VMTK writes one polyline per outlet, all starting at the common inlet, so the shared trunk
is stored several times: points closer than ``1e-3`` × the median segment length are merged
(position and radius averaged) and repeated segments dropped.

Positions: a file point ``p`` (file units) lies at ``x = unit · p − origin`` [m] in the grid
frame (from the outer corner of voxel [0, 0, 0]), where ``origin`` is the position of that
corner in the file's frame, in metres — for an image exported as ``.vti`` or NIfTI, the
image's origin less half a voxel. Radii are ``unit`` × the file's values. A file whose
field data names its ``length_unit`` (perfusion's own trees: ``"mm"``) is read in that unit
instead of ``unit``. Rotations or axis flips between the file and the grid are not handled
here.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ...io.vtp import PolyLines
from ...library.units import format_mm
from ..tree import TreeError, VascularTree
from ..tree_file import file_unit, read_line_cells

log = logging.getLogger(__name__)

_MERGE_FRACTION = 1e-3   # of the median segment length: duplicates, not neighbours
_ROOT_REACH = 3.0        # a root position may lie this many vessel radii from the centre-line


def load_centerlines(path: str | os.PathLike, *, radius_array: str = "MaximumInscribedSphereRadius",
                     root=None, unit: float = 1e-3, origin=(0.0, 0.0, 0.0),
                     name: str | None = None) -> VascularTree:
    """Read a centre-line file into a :class:`VascularTree`.

    Parameters
    ----------
    path : str or os.PathLike
        ``.vtp`` (read here) or legacy ``.vtk`` polydata (read with PyVista, the
        ``render`` extra) holding line/polyline cells.
    radius_array : str
        Point array holding the radius, in file units (perfusion's own files: ``"radius"``).
    root : sequence of 3 floats or None
        Inlet position [m, grid frame]; the nearest node becomes the root (it must lie
        within 3 vessel radii of it). None: the line end with the largest radius.
    unit : float
        Metres per file unit (VMTK: millimetres, ``1e-3``) of a file without a
        ``length_unit`` field-data string; one with it (perfusion's files) is read in its unit.
    origin : sequence of 3 floats
        Position [m] in the file's frame of the grid frame's origin; node positions are
        ``unit * file_point - origin``.
    name : str, optional
        Tree name (default: the file's stem).

    Raises
    ------
    TreeError
        Missing or unreadable file, no line cells, radius array missing (lists the arrays
        present) or not positive, several disconnected pieces, root far from the tree.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from perfusion.vascular.tree_file import write_tree_vtp
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.vtp"
    >>> write_tree_vtp(out, VascularTree([[0, 0, 0], [1e-3, 0, 0], [2e-3, 0, 0]],
    ...                                  [[0, 1], [1, 2]], [3e-4, 2e-4]))
    >>> tree = load_centerlines(out, radius_array="radius", unit=1.0)  # the file's mm win
    >>> tree.roots.tolist(), len(tree.segments), float(tree.points[:, 0].max())
    ([0], 2, 0.002)
    """
    path = Path(path)
    name = name or path.stem
    if not path.is_file():
        raise TreeError(f"{path}: centre-line file not found; check the path.")
    suffix = path.suffix.lower()
    if suffix == ".vtp":
        lines = read_line_cells(path)
    elif suffix == ".vtk":
        lines = _read_legacy(path)
    else:
        raise TreeError(f"{path}: unknown centre-line format {suffix or '(no suffix)'!r}; give "
                        "VTK PolyData (.vtp, or legacy .vtk) with line cells.")
    if not any(len(line) > 1 for line in lines.lines):
        raise TreeError(f"{path}: holds no line cells (found {len(lines.points)} points); "
                        "export the centre-lines as lines or polylines (VMTK: vmtkcenterlines).")
    if radius_array not in lines.point_data or lines.point_data[radius_array].ndim != 1:
        present = ", ".join(repr(key) for key in lines.point_data) or "none"
        raise TreeError(f"{path}: no scalar point array {radius_array!r} for the radius (point "
                        f"arrays: {present}); pass radius_array= one of them.")
    used = np.unique(np.concatenate(lines.lines))
    radius = lines.point_data[radius_array].astype(np.float64)
    bad = used[~(radius[used] > 0) | ~np.isfinite(radius[used])]
    if bad.size:
        raise TreeError(f"{path}: {radius_array!r} is {radius[bad[0]]:g} at point {int(bad[0])} "
                        f"{lines.points[bad[0]].tolist()} ({bad.size} points not positive); "
                        "every radius must be positive: fix or clip the array.")
    unit = file_unit(lines, unit, path)
    points = unit * lines.points - np.asarray(origin, dtype=np.float64)
    nodes, node_radius, edges = _merge(points, unit * radius, lines.lines)
    log.info("%s: %d points in %d lines, %d nodes and %d segments once duplicates merged",
             path, len(used), len(lines.lines), len(nodes), len(edges))
    pieces, piece = connected_components(_adjacency(edges, len(nodes)), directed=False)
    if pieces > 1:
        raise TreeError(f"{path}: the centre-lines form {pieces} disconnected pieces; keep the "
                        "tree you want (e.g. ParaView Connectivity, largest region) or rejoin "
                        "the lines at their shared inlet, then save the file again.")
    root_node = _root(nodes, node_radius, edges, root, path)
    try:
        return VascularTree.from_edges(nodes, edges, node_radius[edges].mean(axis=1), root_node,
                                       name=name)
    except TreeError as exc:
        raise TreeError(f"{path}: {exc}. Overlapping centre-lines that do not share their "
                        "points form such loops: merge them first (vmtkcenterlinemerge).") from exc


def _read_legacy(path: Path) -> PolyLines:
    """Lines and point arrays of a legacy ``.vtk`` polydata file, through PyVista."""
    try:
        import pyvista
    except ImportError as exc:
        raise TreeError(f"{path}: reading legacy .vtk needs PyVista (pip install "
                        "'perfusion-ia[render]'); or save the centre-lines as .vtp.") from exc
    try:
        mesh = pyvista.read(path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise TreeError(f"{path}: cannot read this .vtk file ({exc}); re-save it as "
                        ".vtp from ParaView or VMTK.") from exc
    if not isinstance(mesh, pyvista.PolyData):
        raise TreeError(f"{path}: holds a {type(mesh).__name__}, not polydata; save the "
                        "centre-lines as PolyData (.vtp).")
    flat, lines, at = np.asarray(mesh.lines, dtype=np.int64), [], 0
    while at < len(flat):
        lines.append(flat[at + 1:at + 1 + flat[at]])
        at += 1 + flat[at]
    return PolyLines(points=np.asarray(mesh.points, np.float64), lines=lines,
                     point_data={key: np.asarray(mesh.point_data[key]) for key in
                                 mesh.point_data.keys()}, cell_data={})


def _merge(points, radius, lines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node positions, node radii, unique undirected edges) after merging coincident points."""
    pairs = np.concatenate([np.column_stack([line[:-1], line[1:]]) for line in lines if
                            len(line) > 1])
    lengths = np.linalg.norm(points[pairs[:, 1]] - points[pairs[:, 0]], axis=1)
    tolerance = _MERGE_FRACTION * np.median(lengths[lengths > 0]) if (lengths > 0).any() else 0
    used = np.unique(pairs)
    close = cKDTree(points[used]).query_pairs(tolerance, output_type="ndarray")
    _, group = connected_components(_adjacency(close, len(used)), directed=False)
    count = np.bincount(group)
    nodes = np.stack([np.bincount(group, points[used, axis]) for axis in range(3)], 1)
    node_radius = np.bincount(group, radius[used]) / count
    node_of = np.full(len(points), -1, dtype=np.int64)
    node_of[used] = group
    edges = np.sort(node_of[pairs], axis=1)
    edges = np.unique(edges[edges[:, 0] != edges[:, 1]], axis=0)
    return nodes / count[:, None], node_radius, edges


def _adjacency(edges: np.ndarray, size: int):
    """Sparse adjacency of undirected ``edges`` among ``size`` nodes."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    return coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(size, size))


def _root(nodes, node_radius, edges, root, path) -> int:
    """The root node: the widest line end, or the node nearest the given position."""
    if root is None:
        degree = np.bincount(edges.ravel(), minlength=len(nodes))
        ends = np.flatnonzero(degree == 1)
        ends = ends if ends.size else np.arange(len(nodes))   # a loop: from_edges says so
        return int(ends[np.argmax(node_radius[ends])])
    position = np.asarray(root, dtype=np.float64).reshape(3)
    distance, node = cKDTree(nodes).query(position)
    if distance > _ROOT_REACH * node_radius[node]:
        raise TreeError(f"{path}: root {format_mm(position)} is {1e3 * distance:.3g} mm from the "
                        f"nearest centre-line point {format_mm(nodes[node])} (vessel radius "
                        f"{1e3 * node_radius[node]:.3g} mm); give a position on the inlet "
                        "vessel, in metres in the grid frame, or check unit and origin.")
    return int(node)

