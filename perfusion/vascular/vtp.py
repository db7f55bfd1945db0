"""Vascular trees as VTK XML PolyData (``.vtp``), without VTK.

:func:`write_tree_vtp` stores a :class:`VascularTree` as one two-point line cell per
segment, in the tree's (topological) order, each cell from the upstream to the downstream
node: points are the nodes (metres, grid frame), point array ``radius`` is a node's radius
(its incoming segment's; a root's, its first outgoing segment's), cell arrays ``radius`` and
``length`` [m] are per segment, followed by the caller's arrays (flow, pressure, ...).
:func:`read_tree_vtp` reads such a file back exactly. :func:`read_vtp_lines` reads the line
cells of any single-piece ``.vtp`` (VTK, ParaView, VMTK, PyVista), for the centre-line loader.
The binary encoding (base64, zlib blocks, ``UInt64`` header) and the decoding of every
layout VTK writes are those of :mod:`perfusion.io.vti`.
"""
from __future__ import annotations

import lzma
import os
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.vti import (_NUMPY_TYPES, _data_array_xml, _read_array, _vtk_xml,
                      _write_atomically)
from .tree import TreeError, VascularTree

_DERIVED = {"point": ("radius",), "cell": ("radius", "length")}


@dataclass(frozen=True)
class PolyLines:
    """The line cells of a ``.vtp`` file: ``points`` (n, 3) as stored, ``lines`` a list of
    node-index arrays (one per line or polyline cell), point and cell arrays by name."""

    points: np.ndarray
    lines: list[np.ndarray]
    point_data: dict[str, np.ndarray]
    cell_data: dict[str, np.ndarray]


def write_tree_vtp(path: str | os.PathLike, tree: VascularTree, *,
                   point_data: dict[str, np.ndarray] | None = None,
                   cell_data: dict[str, np.ndarray] | None = None) -> None:
    """Write a tree as VTK XML PolyData (one line cell per segment), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.vtp``); replaced only once fully written.
    tree : VascularTree
        The tree; positions are written in metres, grid frame.
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
    points = {"radius": node_radius, **_checked(point_data, nodes, "point")}
    cells = {"radius": tree.radii, "length": tree.lengths, **_checked(cell_data, segments, "cell")}
    arrays = {kind: "".join(_data_array_xml(name, values.reshape(len(values), -1))
                            for name, values in data.items())
              for kind, data in (("point", points), ("cell", cells))}
    offsets = np.arange(2, 2 * segments + 1, 2, dtype=np.int64)
    _write_atomically(Path(path), (
        '<?xml version="1.0"?>\n<VTKFile type="PolyData" version="1.0" '
        'byte_order="LittleEndian" header_type="UInt64" compressor="vtkZLibDataCompressor">\n'
        f'  <PolyData>\n    <Piece NumberOfPoints="{nodes}" NumberOfVerts="0" '
        f'NumberOfLines="{segments}" NumberOfStrips="0" NumberOfPolys="0">\n'
        f'      <PointData>\n{arrays["point"]}      </PointData>\n'
        f'      <CellData>\n{arrays["cell"]}      </CellData>\n'
        f'      <Points>\n{_data_array_xml("Points", tree.points)}      </Points>\n'
        f'      <Lines>\n{_data_array_xml("connectivity", tree.segments.reshape(-1, 1))}'
        f'{_data_array_xml("offsets", offsets.reshape(-1, 1))}      </Lines>\n'
        "    </Piece>\n  </PolyData>\n</VTKFile>\n"))


def read_tree_vtp(path: str | os.PathLike) -> tuple[VascularTree, dict, dict]:
    """Read a tree written by :func:`write_tree_vtp`.

    Returns
    -------
    tree : VascularTree
        Named after the file's stem; segments in the stored order.
    point_data, cell_data : dict of str to numpy.ndarray
        The extra arrays (without ``radius`` and ``length``).

    Raises
    ------
    TreeError
        The file is missing or unreadable, a cell is not a two-point line, the ``radius``
        cell array is missing, or the segments do not form a tree; names the file.
    """
    lines = read_vtp_lines(path)
    if any(len(line) != 2 for line in lines.lines) or "radius" not in lines.cell_data:
        raise TreeError(f"{path}: not a tree written by perfusion (needs two-point line cells "
                        "and a 'radius' cell array); load centre-lines from other tools with "
                        "perfusion.vascular.sources.centerlines.load_centerlines")
    try:
        tree = VascularTree(lines.points, np.array(lines.lines), lines.cell_data["radius"],
                            name=Path(path).stem)
    except TreeError as exc:
        raise TreeError(f"{path}: {exc}") from exc
    extra = {kind: {name: values for name, values in data.items() if name not in _DERIVED[kind]}
             for kind, data in (("point", lines.point_data), ("cell", lines.cell_data))}
    return tree, extra["point"], extra["cell"]


def read_vtp_lines(path: str | os.PathLike) -> PolyLines:
    """The points, line cells and point/cell arrays of a single-piece ``.vtp`` file.

    Cell arrays are restricted to the line cells. Raises :class:`TreeError` naming the file
    when it is missing, malformed, or uses what the reader does not support.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise TreeError(f"{path}: cannot read the centre-line file ({exc.strerror}); check "
                        "the path and its permissions.") from exc
    try:
        return _parse(content)
    except (ValueError, KeyError, ET.ParseError, zlib.error, lzma.LZMAError) as exc:
        raise TreeError(f"{path}: not a readable VTK PolyData (.vtp) file: {exc}. Re-save it "
                        "from ParaView, VMTK or PyVista as a single-piece .vtp.") from exc


def _parse(content: bytes) -> PolyLines:
    """Parse the bytes of a ``.vtp`` file; malformed content raises ValueError."""
    root, encoding = _vtk_xml(content, "PolyData")
    pieces = root.findall("PolyData/Piece")
    if len(pieces) != 1:
        raise ValueError(f"expected one <PolyData> with one <Piece>, found {len(pieces)} pieces")
    piece = pieces[0]
    count = {kind: int(piece.get(f"NumberOf{kind}", "0"))
             for kind in ("Points", "Verts", "Lines", "Strips", "Polys")}
    points_element = piece.find("Points/DataArray")
    if points_element is None:
        raise ValueError("no <Points> array")
    points = _read_array(points_element, (count["Points"],), encoding)
    lines = []
    if count["Lines"]:
        arrays = {element.get("Name"): element for element in piece.findall("Lines/DataArray")}
        ends = _read_array(arrays["offsets"], (count["Lines"],), encoding).astype(np.int64)
        connectivity = _read_array(arrays["connectivity"], (int(ends[-1]),), encoding)
        lines = np.split(connectivity.astype(np.int64), ends[:-1])
    cells = count["Verts"] + count["Lines"] + count["Strips"] + count["Polys"]
    point_data = _arrays(piece.find("PointData"), count["Points"], encoding)
    cell_data = {name: values[count["Verts"]:count["Verts"] + count["Lines"]]
                 for name, values in _arrays(piece.find("CellData"), cells, encoding).items()}
    return PolyLines(points=np.asarray(points, np.float64).reshape(-1, 3), lines=lines,
                     point_data=point_data, cell_data=cell_data)


def _arrays(section: ET.Element | None, size: int, encoding) -> dict[str, np.ndarray]:
    """The numeric arrays of a ``<PointData>`` or ``<CellData>`` (string and bit arrays,
    which VTK tools sometimes add, are skipped)."""
    elements = [] if section is None else section.findall("DataArray")
    return {element.get("Name", f"array_{index}"): _read_array(element, (size,), encoding)
            for index, element in enumerate(elements) if element.get("type") in _NUMPY_TYPES}


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
