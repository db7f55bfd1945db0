"""The encoding shared by every VTK XML file, without VTK: data arrays both ways.

Writing: :func:`data_array_xml` stores an array inline, base64, zlib-compressed in blocks
with a ``UInt64`` header (what ParaView, VTK and PyVista read), under the ``<VTKFile>`` start
tag of :func:`file_header`; :func:`write_atomically` replaces a file only once fully written.

Reading: :func:`parse_vtk_file` gives the root element and the binary layout of a file and
:func:`read_array` decodes one ``<DataArray>`` in any layout VTK and ParaView write:
``ascii``, inline ``binary`` and ``appended`` data (``raw`` or ``base64``), ``UInt32`` or
``UInt64`` headers, either byte order, and no compression, ``vtkZLibDataCompressor`` or
``vtkLZMADataCompressor``. Malformed content raises one of :data:`MALFORMED`, which the
readers of each file type turn into a message naming the file.

Field data: :func:`field_strings_xml` writes one-string ``String`` arrays (such as
``length_unit``, the unit of a file's lengths, which VTK files do not otherwise carry) and
:func:`read_field_strings` reads them back. This module holds no units itself: lengths are
stored as the caller gives them.
"""
from __future__ import annotations

import base64
import lzma
import os
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from ..errors import GeometryError, ResultsError

#: VTK XML type name of each NumPy dtype an array may have.
VTK_TYPES = {np.dtype(name.lower()): name for name in (
    "Float32", "Float64", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64")}
#: NumPy dtype of each numeric VTK XML type name (string and bit arrays are not numeric).
NUMPY_TYPES = {vtk_name: dtype for dtype, vtk_name in VTK_TYPES.items()}
#: What parsing or decoding malformed content raises.
MALFORMED = (ValueError, KeyError, ET.ParseError, zlib.error, lzma.LZMAError)
_DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "vtkZLibDataCompressor": zlib.decompress, "vtkLZMADataCompressor": lzma.decompress}
_BLOCK_SIZE = 1 << 15  # uncompressed bytes per compressed block, as VTK uses
#: zlib level of written arrays: 1 compresses the demo's float32 fields 1.35× faster than
#: the default 6 for files 2% larger.
ZLIB_LEVEL = 1


@dataclass(frozen=True)
class Encoding:
    """How the binary arrays of one file are laid out."""

    header: np.dtype
    byte_order: str
    decompress: Callable[[bytes], bytes] | None
    appended: bytes | None
    appended_raw: bool


def file_header(file_type: str) -> str:
    """The XML declaration and ``<VTKFile>`` start tag of a file of ``file_type`` whose
    arrays are those :func:`data_array_xml` writes."""
    return (f'<?xml version="1.0"?>\n<VTKFile type="{file_type}" version="1.0" '
            'byte_order="LittleEndian" header_type="UInt64" compressor="vtkZLibDataCompressor">\n')


def data_array_xml(name: str, tuples: np.ndarray) -> str:
    """One compressed, base64 ``<DataArray>`` element of ``tuples`` (count, components)."""
    vtk_type = VTK_TYPES[np.dtype(tuples.dtype.name)]
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


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ResultsError(f"{path}: cannot write the file ({exc.strerror}); check that its "
                           "directory exists, is writable and has free space.") from exc


def read_vtk_file(path: str | os.PathLike, parse: Callable[[bytes], object], what: str,
                  not_readable: str):
    """``parse`` the bytes of ``path``; a missing or malformed file raises
    :class:`GeometryError` naming it (``what`` the file in the message, ``not_readable``
    what it is not and how to re-save it)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise GeometryError(f"{path}: cannot read the {what} ({exc.strerror}); "
                            "check the path and its permissions.") from exc
    try:
        return parse(content)
    except MALFORMED as exc:
        raise GeometryError(f"{path}: not a readable {not_readable.format(exc=exc)}") from exc


def parse_vtk_file(content: bytes, file_type: str) -> tuple[ET.Element, Encoding]:
    """The root element and binary layout of a VTK XML file of ``file_type``; malformed
    content raises ValueError."""
    marker = content.find(b"<AppendedData")
    appended = None
    if marker >= 0:
        # Raw appended bytes are not XML: cut them off before parsing, keep them aside.
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
    encoding = Encoding(
        header=np.dtype(_numpy_type(root.get("header_type", "UInt32"))).newbyteorder(byte_order),
        byte_order=byte_order, decompress=_DECOMPRESSORS.get(compressor), appended=appended,
        appended_raw=appended_element is not None and appended_element.get("encoding") == "raw")
    return root, encoding


def read_array(element: ET.Element, shape: tuple[int, ...], encoding: Encoding) -> np.ndarray:
    """Decode one ``<DataArray>`` into an ``[i, j, k(, component)]`` array."""
    name = element.get("Name")
    components = int(element.get("NumberOfComponents", "1"))
    count = int(np.prod(shape)) * components
    flat = _flat_values(element, np.dtype(_numpy_type(element.get("type", ""))), encoding)
    if flat.size != count:
        raise ValueError(f"array {name!r} holds {flat.size} values, the extent needs {count}")
    if components == 1:
        return np.ascontiguousarray(flat.reshape(shape, order="F"))
    tuples = flat.reshape(-1, components).reshape((*shape, components), order="F")
    return np.ascontiguousarray(tuples)


def field_strings_xml(strings: dict[str, str]) -> str:
    """A ``<FieldData>`` element of one-string ``String`` arrays, as VTK writes them (ascii:
    the characters' codes, each string ended by 0); empty without strings."""
    if not strings:
        return ""
    arrays = "".join(
        f"      <Array type=\"String\" Name={quoteattr(name)} NumberOfTuples=\"1\" "
        f"format=\"ascii\">{' '.join(str(byte) for byte in value.encode())} 0</Array>\n"
        for name, value in strings.items())
    return f"    <FieldData>\n{arrays}    </FieldData>\n"


def read_field_strings(dataset: ET.Element | None, encoding: Encoding) -> dict[str, str]:
    """The one-string ``String`` arrays of the ``<FieldData>`` of a dataset element (its
    numeric and several-string arrays are skipped)."""
    elements = [] if dataset is None else dataset.findall("FieldData/Array")
    strings = {}
    for element in elements:
        if element.get("type") != "String" or element.get("NumberOfTuples", "1") != "1":
            continue
        raw = _flat_values(element, np.dtype(np.uint8), encoding).tobytes()
        strings[element.get("Name", "")] = raw.split(b"\0")[0].decode("utf-8")
    return strings


def _flat_values(element: ET.Element, dtype: np.dtype, encoding: Encoding) -> np.ndarray:
    """The values of one array element, flat, as ``dtype``, in any layout and format."""
    name = element.get("Name")
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
    return flat


def _decode_binary(take: Callable[[int, int], tuple[bytes, bytes]], encoding: Encoding) -> bytes:
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


def _header_words(raw: bytes, count: int, encoding: Encoding) -> list[int]:
    """The first ``count`` integers of a binary header."""
    if len(raw) < count * encoding.header.itemsize:
        raise ValueError("binary header truncated")
    return [int(word) for word in np.frombuffer(raw, encoding.header, count)]


def _inflate(body: bytes, sizes: list[int], encoding: Encoding) -> bytes:
    """Decompress consecutive compressed blocks of the given sizes."""
    return b"".join(encoding.decompress(body[end - size:end])
                    for size, end in zip(sizes, accumulate(sizes), strict=True))


def _numpy_type(vtk_name: str) -> np.dtype:
    """The NumPy dtype of a VTK XML type name."""
    if vtk_name not in NUMPY_TYPES:
        raise ValueError(f"unsupported data type {vtk_name!r}; supported: {sorted(NUMPY_TYPES)}")
    return NUMPY_TYPES[vtk_name]


def _b64_chars(num_bytes: int) -> int:
    """Length of the base64 text that encodes ``num_bytes`` bytes on their own."""
    return 4 * -(-num_bytes // 3)
