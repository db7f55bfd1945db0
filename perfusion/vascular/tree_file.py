"""Vascular trees as ``.vtp`` files (VTK XML PolyData line cells, :mod:`perfusion.io.vtp`).

:func:`write_tree_vtp` stores a :class:`VascularTree` as one two-point line cell per
segment, in the tree's (topological) order, each cell from the upstream to the downstream
node: points are the nodes (millimetres, grid frame), point array ``radius`` is a node's
radius (its incoming segment's; a root's, its first outgoing segment's), cell arrays
``radius`` and ``length`` [mm] are per segment, followed by the caller's arrays (flow,
pressure, ..., written as given: SI). The field-data string ``length_unit`` = ``"mm"`` states
the unit of every length in the file (:data:`perfusion.library.units.FILE_LENGTH_UNIT`).
:func:`read_tree_vtp` reads such a file back in metres (to a rounding of the last digit); a
file without ``length_unit`` (written before it existed) is read as metres.
:func:`read_line_cells` reads the line cells of any ``.vtp``, as the centre-line loader
does, with the vascular error type; :func:`file_unit` gives the metres per unit of its
lengths.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import GeometryError
from ..io.vtp import PolyLines, read_vtp_lines, write_vtp_lines
from ..library.units import FILE_LENGTH_UNIT, LENGTH_UNIT_FIELD, M_TO_MM, file_length_metres
from .tree import TreeError, VascularTree

_DERIVED = {"point": ("radius",), "cell": ("radius", "length")}


def write_tree_vtp(path: str | os.PathLike, tree: VascularTree, *,
                   point_data: dict[str, np.ndarray] | None = None,
                   cell_data: dict[str, np.ndarray] | None = None) -> None:
    """Write a tree as VTK XML PolyData (one line cell per segment), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.vtp``); replaced only once fully written.
    tree : VascularTree
        The tree; positions, radii and lengths are written in millimetres (grid frame).
    point_data, cell_data : dict of str to numpy.ndarray, optional
        Extra arrays, ``(nodes,)``/``(nodes, k)`` and ``(segments,)``/``(segments, k)``
        (e.g. pressure per node, flow per segment); bool is stored as uint8. The names
        ``radius`` (both) and ``length`` (cells) are written by this function.

    Raises
    ------
    ValueError
        An array of the wrong length or dtype, or a reserved name.
    ResultsError
        The file cannot be written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> tree = VascularTree([[0, 0, 0], [1e-3, 0, 0]], [[0, 1]], [2e-4])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tree.vtp"
    >>> write_tree_vtp(out, tree, cell_data={"flow": np.array([1e-8])})
    >>> read_tree_vtp(out)[2]["flow"].tolist()
    [1e-08]
    """
    nodes, segments = len(tree.points), len(tree.segments)
    node_radius = np.zeros(nodes)
    upstream, first = np.unique(tree.segments[:, 0], return_index=True)
    node_radius[upstream] = tree.radii[first]        # roots: their first outgoing segment
    node_radius[tree.segments[:, 1]] = tree.radii    # the others: their incoming segment
    points = {"radius": node_radius * M_TO_MM, **_checked(point_data, nodes, "point")}
    cells = {"radius": tree.radii * M_TO_MM, "length": tree.lengths * M_TO_MM,
             **_checked(cell_data, segments, "cell")}
    write_vtp_lines(path, PolyLines(points=tree.points * M_TO_MM, lines=tree.segments,
                                    point_data=points, cell_data=cells,
                                    field_data={LENGTH_UNIT_FIELD: FILE_LENGTH_UNIT}))


def read_tree_vtp(path: str | os.PathLike) -> tuple[VascularTree, dict, dict]:
    """Read a tree written by :func:`write_tree_vtp`.

    Returns
    -------
    tree : VascularTree
        Named after the file's stem; segments in the stored order; positions and radii in
        metres (converted from the file's ``length_unit``; metres without one).
    point_data, cell_data : dict of str to numpy.ndarray
        The extra arrays (without ``radius`` and ``length``).

    Raises
    ------
    TreeError
        The file is missing or unreadable, a cell is not a two-point line, the ``radius``
        cell array is missing, the ``length_unit`` is not a length, or the segments do not
        form a tree; names the file.
    """
    lines = read_line_cells(path)
    unit = file_unit(lines, 1.0, path)
    if any(len(line) != 2 for line in lines.lines) or "radius" not in lines.cell_data:
        raise TreeError(f"{path}: not a tree written by perfusion (needs two-point line cells "
                        "and a 'radius' cell array); load centre-lines from other tools with "
                        "perfusion.vascular.sources.centerlines.load_centerlines")
    try:
        tree = VascularTree(lines.points * unit, np.array(lines.lines),
                            lines.cell_data["radius"] * unit, name=Path(path).stem)
    except TreeError as exc:
        raise TreeError(f"{path}: {exc}") from exc
    extra = {kind: {name: values for name, values in data.items() if name not in _DERIVED[kind]}
             for kind, data in (("point", lines.point_data), ("cell", lines.cell_data))}
    return tree, extra["point"], extra["cell"]


def read_line_cells(path: str | os.PathLike) -> PolyLines:
    """The line cells of a single-piece ``.vtp`` file (:func:`perfusion.io.vtp.read_vtp_lines`).

    Raises
    ------
    TreeError
        The file is missing, malformed, or uses what the reader does not support; the
        reader's message, naming the file. Tree sources report every fault as a TreeError.
    """
    try:
        return read_vtp_lines(path)
    except GeometryError as exc:
        raise TreeError(str(exc)) from exc


def file_unit(lines: PolyLines, default: float, path: str | os.PathLike) -> float:
    """Metres per length unit of a ``.vtp`` file: its ``length_unit`` field data, else
    ``default``; a TreeError naming the file when that is not a length unit."""
    try:
        return file_length_metres(lines.field_data, default)
    except ValueError as exc:
        raise TreeError(f"{path}: {exc}; write a length unit such as \"mm\" there.") from None


def _checked(arrays: dict | None, size: int, kind: str) -> dict[str, np.ndarray]:
    """The caller's arrays, checked for length, dtype and reserved names."""
    checked = {}
    for name, values in (arrays or {}).items():
        values = np.asarray(values)
        if values.dtype == bool:
            values = values.astype(np.uint8)
        elif values.dtype.kind == "f" and values.dtype.name not in ("float32", "float64"):
            values = values.astype(np.float64)
        if name in _DERIVED[kind]:
            raise ValueError(f"write_tree_vtp: {kind} array {name!r} is written from the tree; "
                             "rename yours")
        if values.ndim not in (1, 2) or len(values) != size or values.dtype.kind not in "uif":
            raise ValueError(f"write_tree_vtp: {kind} array {name!r} must have {size} rows of "
                             f"numbers, got shape {values.shape} dtype {values.dtype}")
        checked[name] = values
    return checked
