"""VTK XML ImageData (``.vti``) and ParaView collection (``.pvd``) files, without VTK.

Voxel fields are written as *cell* data of an image whose points are the voxel corners: an
array of shape ``(nx, ny, nz)`` indexed ``[i, j, k]`` (VTK x, y, z) gives
``WholeExtent="0 nx 0 ny 0 nz"``, stored with x varying fastest. Arrays are inline, base64,
zlib-compressed in blocks with a ``UInt64`` header: what ParaView, VTK and PyVista read.

The reader takes what VTK and ParaView write: ``ascii``, inline ``binary`` and ``appended``
data (``raw`` or ``base64``), ``UInt32`` or ``UInt64`` headers, either byte order, and no
compression, ``vtkZLibDataCompressor`` or ``vtkLZMADataCompressor``. Spacing and origin are
returned as stored (the writer stores metres; VTK files carry no unit).
"""
from __future__ import annotations

import base64
import lzma
import os
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from ..errors import GeometryError, ResultsError

_VTK_TYPES = {np.dtype(name.lower()): name for name in (
    "Float32", "Float64", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64")}
_NUMPY_TYPES = {vtk_name: dtype for dtype, vtk_name in _VTK_TYPES.items()}
_DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "vtkZLibDataCompressor": zlib.decompress, "vtkLZMADataCompressor": lzma.decompress}
_BLOCK_SIZE = 1 << 15  # uncompressed bytes per compressed block, as VTK uses
#: zlib level of written arrays: 1 compresses the demo's float32 fields 1.35× faster than
#: the default 6 for files 2% larger.
ZLIB_LEVEL = 1


@dataclass(frozen=True)
class VTIImage:
    """The arrays and geometry of one ``.vti`` file.

    Arrays are indexed ``[i, j, k]`` (plus a trailing component axis for vectors). Cell data
    has shape ``shape``; point data has the points shape ``shape + 1`` per axis. An image
    that other tools wrote with point data only (each *point* a voxel) is returned as such:
    deciding that its points are voxels is the caller's choice. ``origin`` is the position of
    the first point actually stored (``Origin + extent start * Spacing``).
    """

    cell_data: dict[str, np.ndarray]
    point_data: dict[str, np.ndarray]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    shape: tuple[int, int, int]
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))


@dataclass(frozen=True)
class _Encoding:
    """How the binary arrays of one file are laid out."""

    header: np.dtype
    byte_order: str
    decompress: Callable[[bytes], bytes] | None
    appended: bytes | None
    appended_raw: bool


def write_vti(path: str | os.PathLike, cell_data: dict[str, np.ndarray],
              spacing: tuple[float, float, float],
              origin: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
    """Write voxel arrays as the cell data of a VTK ImageData file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*.vti``); replaced only once fully written.
    cell_data : dict of str to numpy.ndarray
        Arrays of one common shape ``(nx, ny, nz)`` (scalars) or ``(nx, ny, nz, 3)``
        (vectors), indexed ``[i, j, k]``; float32/64 or (u)int8..64.
    spacing, origin : tuple of float
        Voxel size and position of the outer corner of voxel ``(0, 0, 0)`` [m].

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
    arrays = "".join(_array_xml(name, np.asarray(values), shape)
                     for name, values in cell_data.items())
    _write_atomically(path, (
        '<?xml version="1.0"?>\n<VTKFile type="ImageData" version="1.0" '
        'byte_order="LittleEndian" header_type="UInt64" compressor="vtkZLibDataCompressor">\n'
        f'  <ImageData WholeExtent="{extent}" Origin="{_floats(origin)}" '
        f'Spacing="{_floats(spacing)}" Direction="1 0 0 0 1 0 0 0 1">\n'
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
    _write_atomically(Path(path), (
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
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise GeometryError(f"{path}: cannot read the file ({exc.strerror}); "
                            "check the path and its permissions.") from exc
    try:
        return _parse(content)
    except (ValueError, KeyError, ET.ParseError, zlib.error, lzma.LZMAError) as exc:
        raise GeometryError(f"{path}: not a readable VTK ImageData (.vti) file: {exc}. "
                            "Re-save it from ParaView or PyVista as a single-piece .vti "
                            "(zlib or no compression).") from exc


def _parse(content: bytes) -> VTIImage:
    """Parse the bytes of a ``.vti`` file; malformed content raises ValueError."""
    root, encoding = _vtk_xml(content, "ImageData")
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
        data[kind] = {element.get("Name", f"array_{index}"): _read_array(element, shape, encoding)
                      for index, element in enumerate(arrays)}
    return VTIImage(cell_data=data["CellData"], point_data=data["PointData"],
                    spacing=tuple(spacing.tolist()), origin=tuple(origin.tolist()), shape=cells,
                    direction=direction)


def _vtk_xml(content: bytes, file_type: str) -> tuple[ET.Element, _Encoding]:
    """The root element and binary layout of a VTK XML file of ``file_type``; malformed
    content raises ValueError."""
    marker = content.find(b"<AppendedData")
    appended = None
    if marker >= 0:
        underscore = content.index(b"_", content.index(b">", marker))
        appended, content = content[underscore + 1:], content[:underscore]
        content += b"</AppendedData></VTKFile>"
    root = ET.fromstring(content)
    if root.tag != "VTKFile" or root.get("type") != file_type:
        raise ValueError(f"expected <VTKFile type=\"{file_type}\">, found <{root.tag} "
                         f"type=\"{root.get('type')}\">")
    compressor = root.get("compressor", "")
    if compressor and compressor not in _DECOMPRESSORS:
        raise ValueError(f"unsupported compressor {compressor!r}")
    byte_order = {"LittleEndian": "<", "BigEndian": ">"}.get(root.get("byte_order", "LittleEndian"))
    if byte_order is None:
        raise ValueError(f"unknown byte_order {root.get('byte_order')!r}")
    appended_element = root.find("AppendedData")
    encoding = _Encoding(
        header=np.dtype(_numpy_type(root.get("header_type", "UInt32"))).newbyteorder(byte_order),
        byte_order=byte_order, decompress=_DECOMPRESSORS.get(compressor), appended=appended,
        appended_raw=appended_element is not None and appended_element.get("encoding") == "raw")
    return root, encoding


def _read_array(element: ET.Element, shape: tuple[int, ...], encoding: _Encoding) -> np.ndarray:
    """Decode one ``<DataArray>`` into an ``[i, j, k(, component)]`` array."""
    name = element.get("Name")
    dtype = np.dtype(_numpy_type(element.get("type", "")))
    components = int(element.get("NumberOfComponents", "1"))
    count = int(np.prod(shape)) * components
    data_format = element.get("format", "")
    offset = int(element.get("offset", "0"))
    if data_format == "ascii":
        flat = np.array((element.text or "").split(), dtype=dtype)
    elif data_format in ("binary", "appended"):
        if data_format == "binary":
            take = _base64_run("".join((element.text or "").split()))
        elif encoding.appended is None:
            raise ValueError(f"array {name!r} is appended but the file has no <AppendedData>")
        elif encoding.appended_raw:
            take = _raw_run(encoding.appended, offset)
        else:
            take = _base64_run(encoding.appended[offset:].decode("ascii"))
        raw = _decode_binary(take, encoding)
        flat = np.frombuffer(raw, dtype.newbyteorder(encoding.byte_order)).astype(dtype)
    else:
        raise ValueError(f"array {name!r} has unknown format {data_format!r}")
    if flat.size != count:
        raise ValueError(f"array {name!r} holds {flat.size} values, the extent needs {count}")
    if components == 1:
        return np.ascontiguousarray(flat.reshape(shape, order="F"))
    tuples = flat.reshape(-1, components).reshape((*shape, components), order="F")
    return np.ascontiguousarray(tuples)


def _decode_binary(take: Callable[[int, int], tuple[bytes, bytes]], encoding: _Encoding) -> bytes:
    """Decode one header + data run; ``take(h, b)`` gives an ``h``-byte head, ``b``-byte body."""
    size = encoding.header.itemsize
    (first,) = _header_words(take(size, 0)[0], 1, encoding)
    if encoding.decompress is None:
        head_bytes, sizes = size, [first]
    else:
        head_bytes = size * (3 + first)
        sizes = _header_words(take(head_bytes, 0)[0], 3 + first, encoding)[3:]
    body = take(head_bytes, sum(sizes))[1]
    if len(body) < sum(sizes):
        raise ValueError(f"binary data truncated: {len(body)} of {sum(sizes)} bytes")
    return body if encoding.decompress is None else _inflate(body, sizes, encoding)


def _base64_run(text: str) -> Callable[[int, int], tuple[bytes, bytes]]:
    """Head and body of a base64 run whose header is encoded jointly or separately."""
    def take(head_bytes: int, body_bytes: int) -> tuple[bytes, bytes]:
        head_chars = _b64_chars(head_bytes)
        head = base64.b64decode(text[:head_chars])[:head_bytes]
        if head_bytes % 3 and text[head_chars - 1:head_chars] != "=":
            # One stream for header and data, as VTK writes uncompressed arrays.
            both = base64.b64decode(text[:_b64_chars(head_bytes + body_bytes)])
            return head, both[head_bytes:head_bytes + body_bytes]
        return head, base64.b64decode(text[head_chars:head_chars + _b64_chars(body_bytes)])
    return take


def _raw_run(data: bytes, offset: int) -> Callable[[int, int], tuple[bytes, bytes]]:
    """Head and body of raw appended bytes starting at ``offset``."""
    def take(head_bytes: int, body_bytes: int) -> tuple[bytes, bytes]:
        body_start = offset + head_bytes
        return data[offset:body_start], data[body_start:body_start + body_bytes]
    return take


def _header_words(raw: bytes, count: int, encoding: _Encoding) -> list[int]:
    """The first ``count`` integers of a binary header."""
    if len(raw) < count * encoding.header.itemsize:
        raise ValueError("binary header truncated")
    return [int(word) for word in np.frombuffer(raw, encoding.header, count)]


def _inflate(body: bytes, sizes: list[int], encoding: _Encoding) -> bytes:
    """Decompress consecutive compressed blocks of the given sizes."""
    return b"".join(encoding.decompress(body[end - size:end])
                    for size, end in zip(sizes, accumulate(sizes), strict=True))


def _array_xml(name: str, values: np.ndarray, shape: tuple[int, ...]) -> str:
    """One compressed, base64 ``<DataArray>`` element for a cell array."""
    vtk_type = _VTK_TYPES.get(np.dtype(values.dtype.name))
    if vtk_type is None or values.shape not in (shape, (*shape, 3)) or len(shape) != 3:
        raise ValueError(f"write_vti: array {name!r} must have shape {shape} or {shape + (3,)} "
                         f"and a dtype in {sorted(str(t) for t in _VTK_TYPES)}; got "
                         f"{values.shape} {values.dtype}")
    components = 3 if values.ndim == 4 else 1
    return _data_array_xml(name, values.reshape(-1, components, order="F"))


def _data_array_xml(name: str, tuples: np.ndarray) -> str:
    """One compressed, base64 ``<DataArray>`` element of ``tuples`` (count, components)."""
    vtk_type = _VTK_TYPES[np.dtype(tuples.dtype.name)]
    components = tuples.shape[1]
    raw = tuples.astype(tuples.dtype.newbyteorder("<"), copy=False).tobytes()
    blocks = [zlib.compress(raw[start:start + _BLOCK_SIZE], ZLIB_LEVEL)
              for start in range(0, len(raw), _BLOCK_SIZE)]
    header = np.array([len(blocks), _BLOCK_SIZE, len(raw) % _BLOCK_SIZE,
                       *(len(block) for block in blocks)], "<u8")
    encoded = (base64.b64encode(header.tobytes()) + base64.b64encode(b"".join(blocks))).decode()
    return (f"        <DataArray type=\"{vtk_type}\" Name={quoteattr(name)} "
            f"NumberOfComponents=\"{components}\" format=\"binary\">\n"
            f"          {encoded}\n        </DataArray>\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ResultsError(f"{path}: cannot write the file ({exc.strerror}); check that its "
                           "directory exists, is writable and has free space.") from exc


def _numpy_type(vtk_name: str) -> np.dtype:
    """The NumPy dtype of a VTK XML type name."""
    if vtk_name not in _NUMPY_TYPES:
        raise ValueError(f"unsupported data type {vtk_name!r}; supported: {sorted(_NUMPY_TYPES)}")
    return _NUMPY_TYPES[vtk_name]


def _b64_chars(num_bytes: int) -> int:
    """Length of the base64 text that encodes ``num_bytes`` bytes on their own."""
    return 4 * -(-num_bytes // 3)


def _vector(text: str) -> np.ndarray:
    """Three floats from an attribute."""
    return np.array(text.split(), float).reshape(3)


def _floats(values: tuple[float, ...]) -> str:
    """Space-separated, round-trip exact floats."""
    return " ".join(repr(float(value)) for value in values)
