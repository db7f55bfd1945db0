"""NIfTI and mesh exports (perfusion.results.export) and the run's own VTK files read by PyVista.

Two runs: the small phantom liver with a 1 h doxorubicin infusion (every map), and a steady
case on a NIfTI label image with an oblique, mirrored, anisotropic affine (no drug, no
catheter). Unit factors are written out here, not taken from the module under test.
"""
from __future__ import annotations

import copy
import sys
import types

import nibabel
import numpy as np
import pytest

from case_data import LIVER

import perfusion
from perfusion.case import case_from_dict
from perfusion.results.export import export_mesh, export_nifti, export_results
from perfusion.results.load import load_results

FACTORS = {"auc": 1 / 3.6, "cmax": 1e3, "perfusion": 6000.0, "territory": 1.0,
           "ifp": 1 / 133.322387415}
HEX_CORNERS = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0),
               (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]


def _oblique_affine() -> np.ndarray:
    """Rotated 30° about z, x mirrored, voxels 0.8 × 0.9 × 2.5 mm, origin off the grid."""
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    affine = np.eye(4)
    affine[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag([-0.8, 0.9, 2.5])
    affine[:3, 3] = [12.5, -40.25, 7.0]
    return affine


@pytest.fixture(scope="module")
def liver(tmp_path_factory):
    """Results of the phantom liver with a drug run."""
    raw = copy.deepcopy(LIVER)
    raw.update({"drug": {"name": "doxorubicin"},
                "infusion": [{"route": "intra-arterial", "start": "0 min",
                              "duration": "20 min", "dose": "20 mg"}],
                "simulation": {"duration": "1 h", "output_every": "20 min"}})
    out = tmp_path_factory.mktemp("liver") / "result"
    perfusion.run_case(case_from_dict(raw), out, backend="numpy")
    return load_results(out)


@pytest.fixture(scope="module")
def oblique(tmp_path_factory):
    """Results of a steady run on an oblique NIfTI label image, and the image's path."""
    tmp = tmp_path_factory.mktemp("oblique")
    shape = (20, 18, 12)
    index = np.stack(np.meshgrid(*map(np.arange, shape), indexing="ij"), axis=-1)
    radius2 = ((2 * index - np.subtract(shape, 1)) / np.subtract(shape, 2)) ** 2
    volume = np.zeros(shape, np.int16)
    volume[radius2.sum(-1) < 1] = 1
    volume[radius2.sum(-1) < 0.2] = 2
    nii = tmp / "labels.nii.gz"
    nibabel.save(nibabel.Nifti1Image(volume, _oblique_affine()), nii)
    raw = {"case": {"name": "oblique"},
           "geometry": {"kind": "image", "path": str(nii), "labels": {"1": "normal", "2": "tumor"}},
           "supplies": [{"name": "artery", "inlets": [
               {"name": "feeder", "voxel": [10, 9, 6], "flow": "2.5 mL/min"}]}]}
    perfusion.run_case(case_from_dict(raw), tmp / "result", backend="numpy")
    return load_results(tmp / "result"), nii


@pytest.fixture(scope="module")
def liver_nifti(liver, tmp_path_factory):
    return export_nifti(liver, tmp_path_factory.mktemp("liver_nifti"))


@pytest.fixture(scope="module")
def liver_mesh(liver, tmp_path_factory):
    pytest.importorskip("meshio")
    return export_mesh(liver, tmp_path_factory.mktemp("liver_mesh"))


@pytest.fixture
def readable_xdmf(monkeypatch):
    """meshio 5.3 imports h5py to read any XDMF; stand in for it where it is not installed."""
    try:
        import h5py  # noqa: F401
    except ImportError:
        monkeypatch.setitem(sys.modules, "h5py", types.ModuleType("h5py"))


def test_nifti_maps_round_trip_with_units(liver, liver_nifti):
    assert set(liver_nifti) == {*FACTORS, "labels"}
    for name, path in liver_nifti.items():
        image = nibabel.load(path)
        assert np.array_equal(image.affine, liver.fields["affine"]), name
        assert image.shape == liver.labels.shape
        assert image.header.get_xyzt_units() == ("mm", "sec")
        assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1
        descrip = image.header["descrip"].item().decode()
        assert descrip.startswith(f"{name}: ") and len(descrip) <= 80
        values = np.asanyarray(image.dataobj)
        if name == "labels":
            assert values.dtype == np.int16 and np.array_equal(values, liver.labels)
            continue
        assert values.dtype == np.float32
        expected = liver.fields[name] * FACTORS[name]
        np.testing.assert_allclose(values, expected, rtol=2e-7, atol=1e-30 * expected.max())
    assert "[ug*h/mL]" in nibabel.load(liver_nifti["auc"]).header["descrip"].item().decode()
    assert nibabel.load(liver_nifti["ifp"]).get_fdata().max() > 5  # mmHg, not Pa or kPa


def test_image_case_keeps_the_input_affine(oblique, tmp_path):
    data, nii = oblique
    source = nibabel.load(nii)
    paths = export_nifti(data, tmp_path)
    assert set(paths) == {"perfusion", "ifp", "labels"}  # steady run without catheter
    for path in paths.values():
        image = nibabel.load(path)
        assert np.array_equal(image.affine, source.affine)
        assert image.shape == source.shape
    labels = np.asanyarray(nibabel.load(paths["labels"]).dataobj)
    original = np.asanyarray(source.dataobj)
    tumor = data.class_names.index("tumor")
    assert np.array_equal(labels == tumor, original == 2)
    assert np.array_equal(labels == 0, original == 0)


def test_image_export_overlays_in_itk(oblique, tmp_path):
    """ITK (3D Slicer, ITK-SNAP) places the export exactly where it places the input."""
    sitk = pytest.importorskip("SimpleITK")
    data, nii = oblique
    source, exported = (sitk.ReadImage(str(p)) for p in (nii, export_nifti(data, tmp_path)["ifp"]))
    assert exported.GetSize() == source.GetSize()
    for get in ("GetOrigin", "GetSpacing", "GetDirection"):
        np.testing.assert_allclose(getattr(exported, get)(), getattr(source, get)(), atol=1e-6)


def _check_mesh(mesh, data, name_values):
    tissue = data.labels > 0
    assert [block.type for block in mesh.cells] == ["hexahedron"]
    hexahedra = mesh.cells[0].data
    assert hexahedra.shape == (tissue.sum(), 8)
    assert len(mesh.points) == len(np.unique(hexahedra)) == hexahedra.max() + 1
    assert np.array_equal(mesh.cell_data["labels"][0], data.labels[tissue])
    for name, values in name_values.items():
        np.testing.assert_allclose(mesh.cell_data[name][0], values[tissue], rtol=2e-7,
                                   atol=1e-30 * values.max())
    affine = data.fields["affine"]
    for cell in (0, len(hexahedra) // 2, -1):
        voxel = np.argwhere(tissue)[cell]
        corners = (voxel + np.array(HEX_CORNERS) - 0.5) @ affine[:3, :3].T + affine[:3, 3]
        points = mesh.points[hexahedra[cell]]
        if np.linalg.det(affine[:3, :3]) < 0:
            points = points[[0, 3, 2, 1, 4, 7, 6, 5]]
        np.testing.assert_allclose(points, corners, atol=1e-9)
    p = mesh.points[hexahedra]
    volume = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 3] - p[:, 0]), p[:, 4] - p[:, 0])
    np.testing.assert_allclose(volume, abs(np.linalg.det(affine[:3, :3])), rtol=1e-9)


@pytest.mark.parametrize("suffix", ["vtu", "xdmf"])
def test_mesh_reads_back_through_meshio(liver, liver_mesh, suffix, readable_xdmf):
    meshio = pytest.importorskip("meshio")
    maps = {name: liver.fields[name] * factor for name, factor in FACTORS.items()}
    _check_mesh(meshio.read(liver_mesh[suffix]), liver, maps)


def test_oblique_mesh_is_in_the_image_frame(oblique, tmp_path, readable_xdmf):
    meshio = pytest.importorskip("meshio")
    data, _ = oblique
    paths = export_mesh(data, tmp_path)
    maps = {"perfusion": data.fields["perfusion"] * 6000.0, "ifp": data.fields["ifp"] * FACTORS["ifp"]}
    for suffix in ("vtu", "xdmf"):
        mesh = meshio.read(paths[suffix])
        assert "territory" not in mesh.cell_data and "auc" not in mesh.cell_data
        _check_mesh(mesh, data, maps)


def test_export_results_writes_both(liver, tmp_path):
    pytest.importorskip("meshio")
    paths = export_results(liver, tmp_path / "exports")
    assert {*FACTORS, "labels", "vtu", "xdmf"} <= set(paths)
    assert all(path.is_file() and path.parent == tmp_path / "exports" for path in paths.values())


def test_vtk_xdmf_reader_opens_the_mesh(liver, liver_mesh):
    """The XDMF opens in VTK's reader (as in ParaView) with the cells and arrays."""
    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import vtk_to_numpy

    reader = vtk.vtkXdmfReader()
    reader.SetFileName(str(liver_mesh["xdmf"]))
    reader.Update()
    grid = reader.GetOutputDataObject(0)
    assert grid.GetNumberOfCells() == (liver.labels > 0).sum()
    np.testing.assert_allclose(vtk_to_numpy(grid.GetCellData().GetArray("cmax")),
                               liver.fields["cmax"][liver.labels > 0] * 1e3, rtol=2e-7)


def test_pyvista_reads_the_run_fields(liver):
    pyvista = pytest.importorskip("pyvista")
    fields_dir = liver.directory / "fields"
    steady = pyvista.read(fields_dir / "steady.vti")
    assert tuple(steady.dimensions) == tuple(n + 1 for n in liver.labels.shape)
    for name in ("labels", "perfusion", "territory", "ifp"):
        assert np.array_equal(steady.cell_data[name], liver.fields[name].ravel(order="F")), name
    reader = pyvista.get_reader(fields_dir / "drug.pvd")
    assert np.allclose(reader.time_values, liver.fields["drug_times"])
    assert len(reader.time_values) == 3
    for index, time in enumerate(reader.time_values):
        reader.set_active_time_value(time)
        snapshot = reader.read()[0]
        for name in ("c_e", "c_t"):
            assert np.array_equal(snapshot.cell_data[name], liver.fields[name][index].ravel(order="F"))
