"""One length unit, millimetres, in every VTK/XDMF file of a results directory and its exports.

A small tree case with a short tracer infusion is run and exported; the voxel size is taken
from ``fields.npz`` (SI, metres) and converted here (× 1000), and the tree root from the
case (48, 6, 40) mm, so no expectation comes from the writers under test. Old files without
``length_unit`` (metres) must still read as before.
"""
from __future__ import annotations

import copy

import nibabel
import numpy as np
import pytest

from case_data import LIVER, WELL_MIXED, tracer

from perfusion.case import case_from_dict
from perfusion.geometry.readers import read_image
from perfusion.io.vti import read_vti, write_vti
from perfusion.io.vtp import PolyLines, read_vtp_lines, write_vtp_lines
from perfusion.pipeline import run_case
from perfusion.render.tree_scene import add_trees
from perfusion.results.export import export_results
from perfusion.vascular.sources.centerlines import load_centerlines
from perfusion.vascular.tree import VascularTree
from perfusion.vascular.tree_file import read_tree_vtp, write_tree_vtp

pyvista = pytest.importorskip("pyvista")

ROOT_MM = [48.0, 6.0, 40.0]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    raw = copy.deepcopy(LIVER)
    raw["supplies"][0] = {"name": "hepatic_artery", "tree": {
        "source": "generated", "root": [f"{x} mm" for x in ROOT_MM], "inflow": "65 mL/min",
        "pressure": "100 mmHg", "terminals": 30, "seed": 3, "kernel_radius": "6 mm"}}
    raw["catheter"] = {"supply": "hepatic_artery", "feeds": "tumor"}
    raw["drug"] = tracer()
    raw["systemic"] = WELL_MIXED["systemic"]
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "10 min",
                        "dose": "1 mg"}]
    raw["simulation"] = {"duration": "20 min", "output_every": "10 min"}
    out = tmp_path_factory.mktemp("units") / "out"
    run_case(case_from_dict(raw), out, backend="numpy")
    export_results(out, out / "exports")
    return out


def test_every_file_is_in_millimetres_and_says_so(result):
    fields = np.load(result / "fields" / "fields.npz")
    spacing_mm = np.asarray(fields["spacing"]) * 1000.0
    assert spacing_mm.tolist() == pytest.approx([4.0, 4.0, 4.0], rel=1e-12)
    extent_mm = np.array(fields["labels"].shape) * spacing_mm          # 96 × 88 × 80 mm
    box = np.column_stack([np.zeros(3), extent_mm]).ravel()
    for name in ("steady.vti", "drug_0000.vti", "drug_0001.vti"):
        image = pyvista.read(result / "fields" / name)
        assert list(image.field_data["length_unit"]) == ["mm"], name
        np.testing.assert_allclose(image.spacing, spacing_mm, rtol=1e-12)
        np.testing.assert_allclose(image.origin, [0.0, 0.0, 0.0], atol=0)
        np.testing.assert_allclose(image.bounds, box, rtol=1e-12)

    tree = pyvista.read(result / "fields" / "tree_hepatic_artery.vtp")
    assert list(tree.field_data["length_unit"]) == ["mm"]
    points = np.asarray(tree.points)
    assert np.abs(points - ROOT_MM).sum(axis=1).min() < 1e-9        # the case's root, in mm
    assert (points >= 0).all() and (points <= extent_mm).all()
    ends = points[np.asarray(tree.lines).reshape(-1, 3)[:, 1:]]
    np.testing.assert_allclose(tree.cell_data["length"],
                               np.linalg.norm(ends[:, 1] - ends[:, 0], axis=1), rtol=1e-12)
    in_metres, _, _ = read_tree_vtp(result / "fields" / "tree_hepatic_artery.vtp")
    np.testing.assert_allclose(tree.cell_data["radius"], in_metres.radii * 1000.0, rtol=1e-15)
    assert 0.05 < in_metres.radii.max() * 1000.0 < 5.0          # an artery: 0.05 to 5 mm

    labels = fields["labels"]
    tissue = np.argwhere(labels > 0)
    tissue_box = np.column_stack([tissue.min(axis=0) * spacing_mm,
                                  (tissue.max(axis=0) + 1) * spacing_mm]).ravel()
    mesh = pyvista.read(result / "exports" / "tissue.vtu")
    np.testing.assert_allclose(mesh.bounds, tissue_box, rtol=1e-12, atol=1e-12)
    assert mesh.field_data["metres_per_length_unit"].tolist() == [0.001]
    xdmf = (result / "exports" / "tissue.xdmf").read_text()
    assert '<Information Name="length_unit" Value="mm">' in xdmf

    nifti = nibabel.load(result / "exports" / "labels.nii.gz")
    np.testing.assert_allclose(nifti.header.get_zooms()[:3], spacing_mm, rtol=1e-6)
    assert nifti.header.get_xyzt_units()[0] == "mm"
    centre = nifti.affine @ [0, 0, 0, 1]                   # voxel (0, 0, 0): its centre
    np.testing.assert_allclose(centre[:3], spacing_mm / 2, rtol=1e-6)


def test_exports_still_open_in_meshio(result):
    meshio = pytest.importorskip("meshio")
    for name in ("tissue.vtu", "tissue.xdmf"):
        mesh = meshio.read(result / "exports" / name)
        assert mesh.points.max(axis=0).tolist() <= [96.0, 88.0, 80.0], name
        assert mesh.points.max() > 50.0, name                  # millimetres, not metres


def test_a_run_vti_reads_back_as_an_image_in_metres(result):
    image = read_image(result / "fields" / "steady.vti")
    assert image.spacing == pytest.approx((0.004,) * 3, rel=1e-12)
    np.testing.assert_allclose(image.affine, [[4, 0, 0, 2], [0, 4, 0, 2], [0, 0, 4, 2],
                                              [0, 0, 0, 1]], rtol=1e-12)


def _irregular_tree() -> VascularTree:
    rng = np.random.default_rng(7)
    points = rng.uniform(0.0, 0.09, (5, 3))
    return VascularTree(points, [[0, 1], [1, 2], [1, 3], [3, 4]],
                        rng.uniform(2e-4, 1e-3, 4))


def test_written_tree_round_trips_in_metres(tmp_path):
    tree = _irregular_tree()
    write_tree_vtp(tmp_path / "t.vtp", tree, cell_data={"flow": np.full(4, 1e-7)})
    raw = read_vtp_lines(tmp_path / "t.vtp")
    assert raw.field_data == {"length_unit": "mm"}
    np.testing.assert_allclose(raw.points, tree.points * 1000.0, rtol=1e-15)
    np.testing.assert_allclose(raw.cell_data["length"], tree.lengths * 1000.0, rtol=1e-15)
    back, _, cells = read_tree_vtp(tmp_path / "t.vtp")
    np.testing.assert_allclose(back.points, tree.points, rtol=1e-12)
    np.testing.assert_allclose(back.radii, tree.radii, rtol=1e-12)
    assert cells["flow"].tolist() == [1e-7] * 4                       # SI, unconverted
    for unit in (1e-3, 1.0):      # the file's own unit wins over the centre-line default
        again = load_centerlines(tmp_path / "t.vtp", radius_array="radius", unit=unit)
        np.testing.assert_allclose(np.sort(again.points, axis=0), np.sort(tree.points, axis=0),
                                   rtol=1e-12)


class _Recorder:
    def __init__(self):
        self.meshes = []

    def add_mesh(self, mesh, **_):
        self.meshes.append(mesh)


def test_old_metre_trees_and_new_millimetre_trees_draw_alike(tmp_path):
    tree = _irregular_tree()
    old, new = tmp_path / "old", tmp_path / "new"
    for directory in (old, new):
        (directory / "fields").mkdir(parents=True)
    flows = {"flow": np.full(4, 1e-7)}
    write_vtp_lines(old / "fields" / "tree_a.vtp", PolyLines(     # as written before: metres
        tree.points, tree.segments, {}, {"radius": tree.radii, **flows}))
    write_tree_vtp(new / "fields" / "tree_a.vtp", tree, cell_data=flows)
    bounds = []
    for directory in (old, new):
        plotter = _Recorder()
        add_trees(plotter, pyvista, directory, extent_mm=90.0)
        bounds.append(np.asarray(plotter.meshes[0].bounds))
    lo, hi = tree.points.min(axis=0) * 1000.0, tree.points.max(axis=0) * 1000.0
    assert (bounds[0][0::2] < lo).all() and (bounds[0][1::2] > hi).all()   # tubes around it
    np.testing.assert_allclose(bounds[1], bounds[0], rtol=1e-9)
    legacy, _, _ = read_tree_vtp(old / "fields" / "tree_a.vtp")
    np.testing.assert_array_equal(legacy.points, tree.points)


def test_vti_length_unit_is_honoured_and_its_absence_keeps_the_old_reading(tmp_path):
    labels = np.ones((3, 4, 5), np.uint8)
    write_vti(tmp_path / "fine.vti", {"labels": labels}, (0.01, 0.01, 0.015),
              field_data={"length_unit": "mm"})     # 10 µm voxels: by size, metres
    assert read_image(tmp_path / "fine.vti").spacing == pytest.approx((1e-5, 1e-5, 1.5e-5))
    write_vti(tmp_path / "old.vti", {"labels": labels}, (0.004, 0.004, 0.004))
    assert read_image(tmp_path / "old.vti").spacing == pytest.approx((0.004,) * 3)
    write_vti(tmp_path / "mm.vti", {"labels": labels}, (0.8, 0.8, 2.5))
    assert read_image(tmp_path / "mm.vti").spacing == pytest.approx((8e-4, 8e-4, 2.5e-3))
    write_vti(tmp_path / "bad.vti", {"labels": labels}, (1, 1, 1),
              field_data={"length_unit": "kg"})
    with pytest.raises(Exception, match=r"bad\.vti: its length_unit 'kg' is not a length"):
        read_image(tmp_path / "bad.vti")


@pytest.mark.parametrize("mode", ["ascii", "binary", "appended-raw", "appended-base64"])
def test_field_strings_read_from_every_layout_vtk_writes(tmp_path, mode):
    vtk = pytest.importorskip("vtk")
    grid = pyvista.ImageData(dimensions=(3, 3, 3), spacing=(0.5, 0.5, 0.5))
    grid.cell_data["a"] = np.arange(8.0)
    grid.field_data["length_unit"] = ["mm"]
    grid.field_data["numbers"] = np.arange(3.0)                  # numeric: skipped
    writer = vtk.vtkXMLImageDataWriter()
    writer.SetInputData(grid)
    writer.SetFileName(str(tmp_path / "f.vti"))
    {"ascii": writer.SetDataModeToAscii, "binary": writer.SetDataModeToBinary}.get(
        mode, writer.SetDataModeToAppended)()
    writer.SetEncodeAppendedData(mode == "appended-base64")
    writer.Write()
    image = read_vti(tmp_path / "f.vti")
    assert image.field_data == {"length_unit": "mm"}
    assert image.cell_data["a"].ravel(order="F").tolist() == list(range(8))
