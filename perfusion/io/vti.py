"""VTK XML ImageData (``.vti``) and ParaView collection (``.pvd``) files, without VTK.

Voxel fields are written as *cell* data of an image whose points are the voxel corners: an
array of shape ``(nx, ny, nz)`` indexed ``[i, j, k]`` (VTK x, y, z) gives
``WholeExtent="0 nx 0 ny 0 nz"``, stored with x varying fastest, each array encoded as
:mod:`perfusion.io.vtk_xml` writes it (what ParaView, VTK and PyVista read).

The reader takes every array layout :mod:`perfusion.io.vtk_xml` decodes, cell and point
data, and a single piece. Spacing and origin are written and returned as stored, in the
caller's length unit; the caller states it in a one-string field-data array (perfusion:
``length_unit`` = ``"mm"``), returned in ``field_data`` (empty for files without one).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from .vtk_xml import (VTK_TYPES, data_array_xml, field_strings_xml, file_header, parse_vtk_file,
                      read_array, read_field_strings, read_vtk_file, write_atomically)


@dataclass(frozen=True)
class VTIImage:
    """The arrays and geometry of one ``.vti`` file.

    Arrays are indexed ``[i, j, k]`` (plus a trailing component axis for vectors). Cell data
    has shape ``shape``; point data has the points shape ``shape + 1`` per axis. An image
    that other tools wrote with point data only (each *point* a voxel) is returned as such:
    deciding that its points are voxels is the caller's choice. ``origin`` is the position of
    the first point actually stored (``Origin + extent start * Spacing``); ``field_data``
    the file's one-string field-data arrays (e.g. ``{"length_unit": "mm"}``).
    """

    cell_data: dict[str, np.ndarray]
    point_data: dict[str, np.ndarray]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    shape: tuple[int, int, int]
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    field_data: dict[str, str] = field(default_factory=dict)


def write_vti(path: str | os.PathLike, cell_data: dict[str, np.ndarray],
              spacing: tuple[float, float, float],
              origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
              field_data: dict[str, str] | None = None) -> None:
    """Write voxel arrays as the cell data of a VTK ImageData file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.vti``); replaced only once fully written.
    cell_data : dict of str to numpy.ndarray
        Arrays of one common shape ``(nx, ny, nz)`` (scalars) or ``(nx, ny, nz, 3)``
        (vectors), indexed ``[i, j, k]``; float32/64 or (u)int8..64.
    spacing, origin : tuple of float
        Voxel size and position of the outer corner of voxel ``(0, 0, 0)``, written as given
        (in the unit ``field_data`` states).
    field_data : dict of str to str, optional
        One-string field-data arrays, e.g. ``{"length_unit": "mm"}``.

    Raises
    ------
    ValueError
        No arrays, or arrays of different shapes or unsupported dtypes.
    ResultsError
        The file cannot be written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "labels.vti"
    >>> write_vti(out, {"labels": np.zeros((4, 5, 6), np.uint8)}, (1e-3, 1e-3, 2e-3))
    >>> read_vti(out).shape
    (4, 5, 6)
    """
    path = Path(path)
    shapes = {np.shape(values)[:3] for values in cell_data.values()}
    if len(shapes) != 1:
        raise ValueError(f"write_vti: need arrays of one common 3-D shape, got {shapes or 'none'}")
    (shape,) = shapes
    extent = " ".join(f"0 {n}" for n in shape)
    arrays = "".join(_cell_array_xml(name, np.asarray(values), shape)
                     for name, values in cell_data.items())
    write_atomically(path, (
        file_header("ImageData") +
        f'  <ImageData WholeExtent="{extent}" Origin="{_floats(origin)}" '
        f'Spacing="{_floats(spacing)}" Direction="1 0 0 0 1 0 0 0 1">\n'
        f'{field_strings_xml(field_data or {})}'
        f'    <Piece Extent="{extent}">\n      <CellData>\n{arrays}      </CellData>\n'
        "    </Piece>\n  </ImageData>\n</VTKFile>\n"))


def write_pvd(path: str | os.PathLike, entries: list[tuple[float, str]]) -> None:
    """Write a ParaView collection listing one file per time, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``*.pvd``).
    entries : list of (float, str)
        ``(time [s], file name relative to the collection's directory)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_pvd(pathlib.Path(tempfile.mkdtemp()) / "drug.pvd", [(0.0, "drug_0000.vti")])
    """
    datasets = "".join(f"    <DataSet timestep={quoteattr(repr(float(time)))} group=\"\" "
                       f"part=\"0\" file={quoteattr(str(name))}/>\n" for time, name in entries)
    write_atomically(Path(path), (
        '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" '
        f'byte_order="LittleEndian">\n  <Collection>\n{datasets}  </Collection>\n</VTKFile>\n'))


def read_vti(path: str | os.PathLike) -> VTIImage:
    """Read a VTK XML ImageData file written by this module, VTK, ParaView or PyVista.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.vti`` file (a single piece).

    Returns
    -------
    VTIImage
        Cell and point arrays indexed ``[i, j, k]``, spacing, origin, cell shape, direction.

    Raises
    ------
    GeometryError
        The file is missing, malformed, or uses a feature this reader does not support
        (several pieces, LZ4 compression, bit or string arrays); the message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "f.vti"
    >>> write_vti(out, {"p": np.arange(24.0).reshape(2, 3, 4)}, (1.0, 1.0, 1.0))
    >>> float(read_vti(out).cell_data["p"][1, 2, 3])
    23.0
    """
    return read_vtk_file(path, _parse, "file",
                         "VTK ImageData (.vti) file: {exc}. Re-save it from ParaView or PyVista "
                         "as a single-piece .vti (zlib or no compression).")


def _parse(content: bytes) -> VTIImage:
    """Parse the bytes of a ``.vti`` file; malformed content raises ValueError."""
    root, encoding = parse_vtk_file(content, "ImageData")
    image = root.find("ImageData")
    pieces = [] if image is None else image.findall("Piece")
    if len(pieces) != 1:
        raise ValueError(f"expected one <ImageData> with one <Piece>, found {len(pieces)} pieces")
    extent = np.array(pieces[0].get("Extent", image.get("WholeExtent")).split(), int).reshape(3, 2)
    points = tuple(int(n) for n in extent[:, 1] - extent[:, 0] + 1)
    if min(points) < 1:
        raise ValueError(f"empty extent {extent.ravel().tolist()}")
    cells = tuple(max(n - 1, 1) for n in points)
    spacing = _vector(image.get("Spacing", "1 1 1"))
    direction = np.array(image.get("Direction", "1 0 0 0 1 0 0 0 1").split(), float).reshape(3, 3)
    origin = _vector(image.get("Origin", "0 0 0")) + direction @ (extent[:, 0] * spacing)
    data = {}
    for kind, shape in (("CellData", cells), ("PointData", points)):
        section = pieces[0].find(kind)
        arrays = [] if section is None else section.findall("DataArray")
        data[kind] = {element.get("Name", f"array_{index}"): read_array(element, shape, encoding)
                      for index, element in enumerate(arrays)}
    return VTIImage(cell_data=data["CellData"], point_data=data["PointData"],
                    spacing=tuple(spacing.tolist()), origin=tuple(origin.tolist()), shape=cells,
                    direction=direction, field_data=read_field_strings(image, encoding))


def _cell_array_xml(name: str, values: np.ndarray, shape: tuple[int, ...]) -> str:
    """One compressed, base64 ``<DataArray>`` element for a cell array."""
    vtk_type = VTK_TYPES.get(np.dtype(values.dtype.name))
    if vtk_type is None or values.shape not in (shape, (*shape, 3)) or len(shape) != 3:
        raise ValueError(f"write_vti: array {name!r} must have shape {shape} or {shape + (3,)} "
                         f"and a dtype in {sorted(str(t) for t in VTK_TYPES)}; got "
                         f"{values.shape} {values.dtype}")
    components = 3 if values.ndim == 4 else 1
    return data_array_xml(name, values.reshape(-1, components, order="F"))


def _vector(text: str) -> np.ndarray:
    """Three floats from an attribute."""
    return np.array(text.split(), float).reshape(3)


def _floats(values: tuple[float, ...]) -> str:
    """Space-separated, round-trip exact floats."""
    return " ".join(repr(float(value)) for value in values)
