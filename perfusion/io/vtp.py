"""Line cells of VTK XML PolyData (``.vtp``) files, without VTK.

:class:`PolyLines` holds points, line (or polyline) cells and their point and cell arrays.
:func:`write_vtp_lines` writes them as a single-piece ``.vtp`` whose arrays are encoded as
:mod:`perfusion.io.vtk_xml` writes them; :func:`read_vtp_lines` reads the line cells of any
single-piece ``.vtp`` (VTK, ParaView, VMTK, PyVista) in every layout that module decodes.
Vertices, strips and polygons are skipped; cell arrays are restricted to the line cells.
Points are stored as given, in the caller's length unit, which the caller states in a
one-string field-data array (perfusion: ``length_unit`` = ``"mm"``).
Unreadable files raise :class:`~perfusion.errors.GeometryError` naming the file (this
package sits below every stage, whose own error types are not known here).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .vtk_xml import (NUMPY_TYPES, Encoding, data_array_xml, field_strings_xml, file_header,
                      parse_vtk_file, read_array, read_field_strings, read_vtk_file,
                      write_atomically)


@dataclass(frozen=True)
class PolyLines:
    """The line cells of a ``.vtp`` file: ``points`` (n, 3) as stored, ``lines`` a list of
    node-index arrays (one per line or polyline cell; to write, an (m, k) array of m cells
    of k points will do), point and cell arrays by name, and the one-string field-data
    arrays (e.g. ``{"length_unit": "mm"}``; empty for files without any)."""

    points: np.ndarray
    lines: Sequence[np.ndarray]
    point_data: dict[str, np.ndarray]
    cell_data: dict[str, np.ndarray]
    field_data: dict[str, str] = field(default_factory=dict)


def write_vtp_lines(path: str | os.PathLike, lines: PolyLines) -> None:
    """Write points, line cells and their arrays as VTK XML PolyData, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.vtp``); replaced only once fully written.
    lines : PolyLines
        Its point arrays have one row per point and its cell arrays one per line cell,
        shaped ``(rows,)`` or ``(rows, k)``, of a dtype in
        :data:`perfusion.io.vtk_xml.VTK_TYPES`; they are written in the dicts' order.

    Raises
    ------
    ResultsError
        The file cannot be written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "lines.vtp"
    >>> write_vtp_lines(out, PolyLines(np.eye(3), [np.array([0, 1, 2])], {},
    ...                                {"radius": np.array([1e-4])}))
    >>> read_vtp_lines(out).lines[0].tolist()
    [0, 1, 2]
    """
    connectivity, offsets = _connectivity(lines.lines)
    arrays = {kind: "".join(data_array_xml(name, values.reshape(len(values), -1))
                            for name, values in data.items())
              for kind, data in (("point", lines.point_data), ("cell", lines.cell_data))}
    write_atomically(Path(path), (
        file_header("PolyData") +
        f'  <PolyData>\n{field_strings_xml(lines.field_data)}'
        f'    <Piece NumberOfPoints="{len(lines.points)}" NumberOfVerts="0" '
        f'NumberOfLines="{len(offsets)}" NumberOfStrips="0" NumberOfPolys="0">\n'
        f'      <PointData>\n{arrays["point"]}      </PointData>\n'
        f'      <CellData>\n{arrays["cell"]}      </CellData>\n'
        f'      <Points>\n{data_array_xml("Points", lines.points)}      </Points>\n'
        f'      <Lines>\n{data_array_xml("connectivity", connectivity.reshape(-1, 1))}'
        f'{data_array_xml("offsets", offsets.reshape(-1, 1))}      </Lines>\n'
        "    </Piece>\n  </PolyData>\n</VTKFile>\n"))


def read_vtp_lines(path: str | os.PathLike) -> PolyLines:
    """The points, line cells and point/cell arrays of a single-piece ``.vtp`` file.

    Cell arrays are restricted to the line cells. Raises :class:`GeometryError` naming the
    file when it is missing, malformed, or uses what the reader does not support.
    """
    return read_vtk_file(path, _parse, "centre-line file",
                         "VTK PolyData (.vtp) file: {exc}. Re-save it from ParaView, VMTK or "
                         "PyVista as a single-piece .vtp.")


def _parse(content: bytes) -> PolyLines:
    """Parse the bytes of a ``.vtp`` file; malformed content raises ValueError."""
    root, encoding = parse_vtk_file(content, "PolyData")
    pieces = root.findall("PolyData/Piece")
    if len(pieces) != 1:
        raise ValueError(f"expected one <PolyData> with one <Piece>, found {len(pieces)} pieces")
    piece = pieces[0]
    count = {kind: int(piece.get(f"NumberOf{kind}", "0"))
             for kind in ("Points", "Verts", "Lines", "Strips", "Polys")}
    points_element = piece.find("Points/DataArray")
    if points_element is None:
        raise ValueError("no <Points> array")
    points = read_array(points_element, (count["Points"],), encoding)
    lines = []
    if count["Lines"]:
        arrays = {element.get("Name"): element for element in piece.findall("Lines/DataArray")}
        ends = read_array(arrays["offsets"], (count["Lines"],), encoding).astype(np.int64)
        connectivity = read_array(arrays["connectivity"], (int(ends[-1]),), encoding)
        lines = np.split(connectivity.astype(np.int64), ends[:-1])
    cells = count["Verts"] + count["Lines"] + count["Strips"] + count["Polys"]
    point_data = _arrays(piece.find("PointData"), count["Points"], encoding)
    # VTK numbers cells verts first, then lines: the lines' rows follow the verts' rows.
    cell_data = {name: values[count["Verts"]:count["Verts"] + count["Lines"]]
                 for name, values in _arrays(piece.find("CellData"), cells, encoding).items()}
    return PolyLines(points=np.asarray(points, np.float64).reshape(-1, 3), lines=lines,
                     point_data=point_data, cell_data=cell_data,
                     field_data=read_field_strings(root.find("PolyData"), encoding))


def _connectivity(lines: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The point indices of all cells in a row and each cell's end offset, Int64 as VTK writes."""
    if isinstance(lines, np.ndarray):   # m cells of k points: no loop over a large tree's cells
        return (lines.astype(np.int64, copy=False).reshape(-1),
                np.cumsum(np.full(len(lines), lines.shape[1], dtype=np.int64)))
    sizes = np.array([len(line) for line in lines], dtype=np.int64)
    # The empty start keeps a file without lines writable and its dtype Int64.
    return np.concatenate([np.zeros(0, np.int64), *lines]).astype(np.int64), np.cumsum(sizes)


def _arrays(section: ET.Element | None, size: int, encoding: Encoding) -> dict[str, np.ndarray]:
    """The numeric arrays of a ``<PointData>`` or ``<CellData>`` (string and bit arrays,
    which VTK tools sometimes add, are skipped)."""
    elements = [] if section is None else section.findall("DataArray")
    return {element.get("Name", f"array_{index}"): read_array(element, (size,), encoding)
            for index, element in enumerate(elements) if element.get("type") in NUMPY_TYPES}
