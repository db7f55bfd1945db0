"""VTK ImageData and ParaView collection files: round trips, the layouts VTK writes, errors.

The hand-made files below follow the VTK XML format documentation ("VTK File Formats",
XML section): a binary array is a header (byte count, or block count / block size / last
block size / compressed sizes when compressed) then the data; inline it is base64, header
and data encoded together when uncompressed, separately when compressed.
"""
import base64
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from perfusion.errors import GeometryError, ResultsError
from perfusion.io.vti import read_vti, write_pvd, write_vti

SHAPE = (5, 6, 7)
SPACING = (5e-4, 7e-4, 2e-3)
ORIGIN = (0.01, -0.02, 0.03)
DTYPES = ["float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64"]


def asymmetric(dtype="int32", shape=SHAPE):
    """Distinct values in an odd shape: any transposition or flip changes the array."""
    return (np.arange(np.prod(shape)) % 97).reshape(shape).astype(dtype)


def vti_text(arrays, *, kind="CellData", mode="binary", compress=False, header="UInt64",
             order="<", extent="0 5 0 6 0 7"):
    """A .vti file's bytes with the given arrays ({name: (vtk type, flat values)})."""
    header_dtype = np.dtype({"UInt32": "u4", "UInt64": "u8"}[header]).newbyteorder(order)
    elements, appended = [], b""
    for name, (vtk_type, flat) in arrays.items():
        raw = np.asarray(flat).astype(np.asarray(flat).dtype.newbyteorder(order)).tobytes()
        if compress:
            blocks = [zlib.compress(raw[i:i + 64]) for i in range(0, len(raw), 64)]
            head = np.array([len(blocks), 64, len(raw) % 64, *map(len, blocks)], header_dtype)
            parts = (head.tobytes(), b"".join(blocks))
        else:
            parts = (np.array([len(raw)], header_dtype).tobytes(), raw)
        attributes = f'type="{vtk_type}" Name="{name}" format="{mode}"'
        if mode == "ascii":
            body = " ".join(str(v) for v in flat)
        elif mode == "binary":
            body = (base64.b64encode(parts[0]) + base64.b64encode(parts[1]) if compress
                    else base64.b64encode(b"".join(parts))).decode()
        else:
            attributes += f' offset="{len(appended)}"'
            body = ""
            appended += parts[0] + parts[1]
        elements.append(f"<DataArray {attributes}>{body}</DataArray>")
    compressor = ' compressor="vtkZLibDataCompressor"' if compress else ""
    byte_order = "LittleEndian" if order == "<" else "BigEndian"
    text = (f'<VTKFile type="ImageData" version="1.0" byte_order="{byte_order}" '
            f'header_type="{header}"{compressor}><ImageData WholeExtent="{extent}" '
            f'Origin="0.01 -0.02 0.03" Spacing="0.0005 0.0007 0.002"><Piece Extent="{extent}">'
            f'<{kind}>{"".join(elements)}</{kind}></Piece></ImageData>').encode()
    if mode == "appended":
        text += b'<AppendedData encoding="raw">_' + appended + b"</AppendedData>"
    return text + b"</VTKFile>"


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_keeps_values_dtype_and_geometry(tmp_path, dtype):
    labels = asymmetric(dtype)
    write_vti(tmp_path / "f.vti", {"labels": labels}, SPACING, ORIGIN)
    image = read_vti(tmp_path / "f.vti")
    assert image.cell_data["labels"].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(image.cell_data["labels"], labels)
    assert image.shape == SHAPE and image.point_data == {}
    assert image.spacing == SPACING and image.origin == ORIGIN


def test_round_trip_vectors_and_several_compression_blocks(tmp_path):
    vectors = np.random.default_rng(1).random((*SHAPE, 3))
    big = np.random.default_rng(2).random((20, 21, 22))  # 73920 bytes: three zlib blocks
    write_vti(tmp_path / "v.vti", {"velocity": vectors}, SPACING)
    write_vti(tmp_path / "b.vti", {"p": big, "q": big.astype(np.float32)}, SPACING)
    np.testing.assert_array_equal(read_vti(tmp_path / "v.vti").cell_data["velocity"], vectors)
    fields = read_vti(tmp_path / "b.vti").cell_data
    np.testing.assert_array_equal(fields["p"], big)
    np.testing.assert_array_equal(fields["q"], big.astype(np.float32))


def test_file_layout_is_cell_data_with_points_one_more_than_cells(tmp_path):
    write_vti(tmp_path / "f.vti", {"labels": asymmetric()}, SPACING)
    root = ET.parse(tmp_path / "f.vti").getroot()
    assert root.get("header_type") == "UInt64"
    assert root.find("ImageData").get("WholeExtent") == "0 5 0 6 0 7"
    assert root.find("ImageData/Piece/CellData/DataArray").get("type") == "Int32"


def test_write_replaces_atomically_and_leaves_no_temporary_files(tmp_path):
    write_vti(tmp_path / "f.vti", {"a": asymmetric()}, SPACING)
    write_vti(tmp_path / "f.vti", {"b": asymmetric("uint8")}, SPACING)
    assert [p.name for p in tmp_path.iterdir()] == ["f.vti"]
    assert list(read_vti(tmp_path / "f.vti").cell_data) == ["b"]


@pytest.mark.parametrize("arrays", [
    {}, {"a": np.zeros((2, 3, 4)), "b": np.zeros((2, 3, 5))}, {"a": np.zeros((2, 3))},
    {"a": np.zeros((2, 3, 4), complex)}, {"a": np.zeros((2, 3, 4), bool)},
    {"a": np.zeros((2, 3, 4, 2))}])
def test_write_rejects_bad_arrays(tmp_path, arrays):
    with pytest.raises(ValueError):
        write_vti(tmp_path / "f.vti", arrays, SPACING)


def test_write_into_missing_directory_raises_results_error(tmp_path):
    with pytest.raises(ResultsError, match="missing"):
        write_vti(tmp_path / "missing" / "f.vti", {"a": asymmetric()}, SPACING)


@pytest.mark.parametrize("mode", ["ascii", "binary", "appended"])
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("header", ["UInt32", "UInt64"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_reads_every_layout_vtk_writes(tmp_path, mode, compress, header, order):
    labels, values = asymmetric("int16"), np.linspace(-1, 1, 210).reshape(SHAPE)
    arrays = {"labels": ("Int16", labels.ravel(order="F")),
              "p": ("Float64", values.ravel(order="F"))}
    (tmp_path / "f.vti").write_bytes(vti_text(arrays, mode=mode, compress=compress,
                                              header=header, order=order))
    image = read_vti(tmp_path / "f.vti")
    np.testing.assert_array_equal(image.cell_data["labels"], labels)
    np.testing.assert_array_equal(image.cell_data["p"], values)
    assert image.spacing == SPACING and image.origin == ORIGIN


def test_base64_appended_data_with_compression(tmp_path):
    labels = asymmetric("uint8")
    raw = labels.ravel(order="F").tobytes()
    head = np.array([1, 1 << 15, len(raw), len(zlib.compress(raw))], "<u8").tobytes()
    data = (base64.b64encode(head) + base64.b64encode(zlib.compress(raw))).decode()
    text = vti_text({"labels": ("UInt8", [])}, mode="ascii", compress=True)
    text = text.replace(b'format="ascii"></DataArray>', b'format="appended" offset="0"/>')
    text = text.replace(b"</VTKFile>", f'<AppendedData encoding="base64">_{data}'
                        f"</AppendedData></VTKFile>".encode())
    (tmp_path / "f.vti").write_bytes(text)
    np.testing.assert_array_equal(read_vti(tmp_path / "f.vti").cell_data["labels"], labels)


def test_point_data_has_the_points_shape_and_extent_offset_moves_the_origin(tmp_path):
    points = asymmetric("uint8", (6, 7, 8))
    text = vti_text({"labels": ("UInt8", points.ravel(order="F"))}, kind="PointData",
                    mode="ascii", extent="2 7 0 6 0 7")
    (tmp_path / "f.vti").write_bytes(text)
    image = read_vti(tmp_path / "f.vti")
    assert image.cell_data == {} and image.shape == SHAPE
    np.testing.assert_array_equal(image.point_data["labels"], points)
    np.testing.assert_allclose(image.origin, (0.01 + 2 * 5e-4, -0.02, 0.03))


@pytest.mark.parametrize("content, message", [
    (b"not xml at all", "not a readable"),
    (b'<VTKFile type="PolyData"><PolyData/></VTKFile>', "ImageData"),
    (vti_text({}).replace(b"</Piece>", b'</Piece><Piece Extent="0 5 0 6 0 7"/>'), "2 pieces"),
    (vti_text({"a": ("Float64", np.zeros(210))}, compress=True).replace(
        b"vtkZLibDataCompressor", b"vtkLZ4DataCompressor"), "vtkLZ4DataCompressor"),
    (vti_text({"a": ("Float64", np.zeros(209))}), "holds 209 values"),
    (vti_text({"a": ("Float64", np.zeros(210))}, mode="appended")[:-200], "truncated"),
    (vti_text({"a": ("Bit", [])}, mode="ascii"), "unsupported data type"),
    (vti_text({"a": ("UInt8", [])}, mode="ascii", extent="0 5 0 -1 0 7"), "empty extent"),
    (vti_text({"a": ("Float64", np.zeros(210))}, compress=True).replace(b"eJ", b"xx"),
     "not a readable"),
])
def test_malformed_files_raise_geometry_error_naming_the_file(tmp_path, content, message):
    (tmp_path / "bad.vti").write_bytes(content)
    with pytest.raises(GeometryError, match=message) as error:
        read_vti(tmp_path / "bad.vti")
    assert str(tmp_path / "bad.vti") in str(error.value)


def test_missing_file_raises_geometry_error(tmp_path):
    with pytest.raises(GeometryError, match="cannot read"):
        read_vti(tmp_path / "absent.vti")


def test_pvd_lists_times_and_relative_files(tmp_path):
    write_pvd(tmp_path / "drug.pvd", [(0.0, "drug_0000.vti"), (600.0, 'a "quoted" & odd.vti')])
    datasets = ET.parse(tmp_path / "drug.pvd").getroot().findall("Collection/DataSet")
    assert [(float(d.get("timestep")), d.get("file")) for d in datasets] == [
        (0.0, "drug_0000.vti"), (600.0, 'a "quoted" & odd.vti')]
    assert [p.name for p in tmp_path.iterdir()] == ["drug.pvd"]


def test_pyvista_reads_what_we_write(tmp_path):
    pyvista = pytest.importorskip("pyvista")
    labels, vectors = asymmetric("int16"), np.random.default_rng(3).random((*SHAPE, 3))
    write_vti(tmp_path / "f.vti", {"labels": labels, "v": vectors}, SPACING, ORIGIN)
    mesh = pyvista.read(tmp_path / "f.vti")
    assert tuple(mesh.dimensions) == (6, 7, 8)
    np.testing.assert_allclose(mesh.spacing, SPACING)
    np.testing.assert_allclose(mesh.origin, ORIGIN)
    np.testing.assert_array_equal(mesh.cell_data["labels"], labels.ravel(order="F"))
    np.testing.assert_array_equal(mesh.cell_data["v"], vectors.reshape(-1, 3, order="F"))


@pytest.mark.parametrize("mode", ["Ascii", "Binary", "Appended"])
@pytest.mark.parametrize("compressor", ["None", "ZLib", "LZMA"])
@pytest.mark.parametrize("header", ["UInt32", "UInt64"])
def test_we_read_what_vtk_writes(tmp_path, mode, compressor, header):
    pyvista = pytest.importorskip("pyvista")
    from vtkmodules.vtkIOXML import vtkXMLImageDataWriter

    labels = asymmetric("int16", (40, 41, 42))  # large enough for several blocks
    mesh = pyvista.ImageData(dimensions=(41, 42, 43), spacing=SPACING, origin=ORIGIN)
    mesh.cell_data["labels"] = labels.ravel(order="F")
    for encode in ([True, False] if mode == "Appended" else [True]):
        writer = vtkXMLImageDataWriter()
        writer.SetInputData(mesh)
        writer.SetFileName(str(tmp_path / "f.vti"))
        getattr(writer, f"SetDataModeTo{mode}")()
        getattr(writer, f"SetCompressorTypeTo{compressor}")()
        getattr(writer, f"SetHeaderTypeTo{header}")()
        writer.SetEncodeAppendedData(encode)
        writer.Write()
        image = read_vti(tmp_path / "f.vti")
        np.testing.assert_array_equal(image.cell_data["labels"], labels)
        np.testing.assert_allclose(image.spacing, SPACING)
