"""Label images in every supported format: values in [i, j, k] order, spacing, affine, errors.

Each file is written with the format's own library (nibabel, pynrrd, SimpleITK, mrcfile,
NumPy, our VTK writer), with an odd shape and anisotropic spacing, so that a transposed
array, swapped spacing or a lost LPS→RAS flip fails.
"""
import logging

import mrcfile
import nibabel
import nrrd
import numpy as np
import pytest

from perfusion.errors import GeometryError
from perfusion.geometry.readers import read_image
from perfusion.io.vti import write_vti

SHAPE = (5, 6, 7)
SPACING_MM = np.array([0.5, 0.7, 2.0])
SPACING_M = tuple(SPACING_MM / 1e3)
ORIGIN_MM = np.array([10.0, -20.0, 30.0])


@pytest.fixture
def labels():
    """Distinct values in an odd shape: any transposition or flip changes the array."""
    return np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)


def diagonal_affine(diagonal, origin):
    affine = np.diag([*diagonal, 1.0])
    affine[:3, 3] = origin
    return affine


def check(image, labels, spacing, affine):
    assert image.data.shape == SHAPE
    np.testing.assert_array_equal(image.data, labels)
    if spacing is None:
        assert image.spacing is None
    else:
        np.testing.assert_allclose(image.spacing, spacing, rtol=1e-6)
    np.testing.assert_allclose(image.affine, affine, atol=1e-9)


@pytest.mark.parametrize("name", ["a.nii", "a.nii.gz", "A.NII.GZ"])
def test_nifti(tmp_path, labels, name):
    affine = diagonal_affine(SPACING_MM, ORIGIN_MM)
    nibabel.Nifti1Image(labels, affine).to_filename(tmp_path / name)
    image = read_image(tmp_path / name)
    check(image, labels, SPACING_M, affine)
    assert image.data.dtype == np.int16 and image.path == tmp_path / name


def test_nifti_in_microns_and_with_a_trailing_singleton_axis(tmp_path, labels):
    image = nibabel.Nifti1Image(labels[..., None], diagonal_affine(SPACING_MM * 1e3, 0.0))
    image.header.set_xyzt_units("micron")
    image.to_filename(tmp_path / "a.nii.gz")
    check(read_image(tmp_path / "a.nii.gz"), labels, SPACING_M, diagonal_affine(SPACING_MM, 0))


@pytest.mark.parametrize("name", ["a.nrrd", "a.nhdr"])
def test_nrrd_in_lps_space_is_converted_to_ras(tmp_path, labels, name):
    header = {"space": "left-posterior-superior", "space directions": np.diag(SPACING_MM),
              "space origin": ORIGIN_MM}
    nrrd.write(str(tmp_path / name), labels, header)
    flip = np.array([-1.0, -1.0, 1.0])
    check(read_image(tmp_path / name), labels, SPACING_M,
          diagonal_affine(SPACING_MM * flip, ORIGIN_MM * flip))


def test_nrrd_in_ras_space_with_rotated_axes(tmp_path, labels):
    directions = np.array([[0.0, 0.5, 0.0], [-0.7, 0.0, 0.0], [0.0, 0.0, 2.0]])  # rows: axes
    nrrd.write(str(tmp_path / "a.nrrd"), labels, {"space": "RAS", "space directions": directions,
                                                  "space origin": ORIGIN_MM})
    affine = np.eye(4)
    affine[:3, :3], affine[:3, 3] = directions.T, ORIGIN_MM
    check(read_image(tmp_path / "a.nrrd"), labels, SPACING_M, affine)


def test_nrrd_with_spacings_or_nothing(tmp_path, labels):
    nrrd.write(str(tmp_path / "s.nrrd"), labels, {"spacings": SPACING_MM})
    nrrd.write(str(tmp_path / "n.nrrd"), labels)
    check(read_image(tmp_path / "s.nrrd"), labels, SPACING_M, diagonal_affine(SPACING_MM, 0))
    check(read_image(tmp_path / "n.nrrd"), labels, None, np.eye(4))


@pytest.mark.parametrize("name", ["a.mha", "a.mhd"])
def test_metaimage_is_lps_and_stored_k_j_i(tmp_path, labels, name):
    sitk = pytest.importorskip("SimpleITK")
    image = sitk.GetImageFromArray(labels.transpose())  # SimpleITK arrays are [k, j, i]
    image.SetSpacing(tuple(SPACING_MM))
    image.SetOrigin(tuple(ORIGIN_MM))
    image.SetDirection((0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0))  # i along +y (LPS)
    sitk.WriteImage(image, str(tmp_path / name))
    affine = np.eye(4)
    affine[:3, :3] = [[0.0, 0.7, 0.0], [-0.5, 0.0, 0.0], [0.0, 0.0, 2.0]]  # LPS -> RAS
    affine[:3, 3] = [-10.0, 20.0, 30.0]
    check(read_image(tmp_path / name), labels, SPACING_M, affine)


def test_vti_cell_data_in_metres_prefers_the_labels_array(tmp_path, labels, caplog):
    write_vti(tmp_path / "a.vti", {"first": labels * 2, "labels": labels}, SPACING_M,
              tuple(ORIGIN_MM / 1e3))
    with caplog.at_level(logging.INFO, logger="perfusion.geometry.readers"):
        image = read_image(tmp_path / "a.vti")
    # affine maps an index to the voxel centre, half a voxel in from the outer corner
    check(image, labels, SPACING_M, diagonal_affine(SPACING_MM, ORIGIN_MM + SPACING_MM / 2))
    assert "'labels'" in caplog.text and "metres" in caplog.text


def test_vti_point_data_in_millimetres_treats_points_as_voxels(tmp_path, labels, caplog):
    flat = " ".join(str(v) for v in labels.ravel(order="F"))
    (tmp_path / "p.vti").write_text(
        '<VTKFile type="ImageData" version="1.0"><ImageData WholeExtent="0 4 0 5 0 6" '
        'Origin="10 -20 30" Spacing="0.5 0.7 2"><Piece Extent="0 4 0 5 0 6"><PointData>'
        f'<DataArray type="Int16" Name="seg" format="ascii">{flat}</DataArray>'
        "</PointData></Piece></ImageData></VTKFile>")
    with caplog.at_level(logging.INFO, logger="perfusion.geometry.readers"):
        image = read_image(tmp_path / "p.vti")
    check(image, labels, SPACING_M, diagonal_affine(SPACING_MM, ORIGIN_MM))
    assert "point data array 'seg'" in caplog.text and "millimetres" in caplog.text


def test_npy_has_no_spacing(tmp_path, labels):
    np.save(tmp_path / "a.npy", labels[..., None, None])
    check(read_image(tmp_path / "a.npy"), labels, None, np.eye(4))


def test_npz_with_spacing_in_metres_or_a_single_unnamed_array(tmp_path, labels):
    np.savez(tmp_path / "a.npz", ifp=labels * 1.5, labels=labels, spacing=np.array(SPACING_M))
    np.savez_compressed(tmp_path / "b.npz", labels)
    check(read_image(tmp_path / "a.npz"), labels, SPACING_M, diagonal_affine(SPACING_MM, 0))
    check(read_image(tmp_path / "b.npz"), labels, None, np.eye(4))


def test_float_values_are_kept(tmp_path, labels):
    np.save(tmp_path / "f.npy", labels.astype(np.float32) + 0.25)
    image = read_image(tmp_path / "f.npy")
    assert image.data.dtype == np.float32 and image.data[4, 5, 6] == labels[4, 5, 6] + 0.25


def test_mrc_is_stored_z_y_x_with_voxel_size_in_angstrom(tmp_path, labels):
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(np.ascontiguousarray(labels.transpose()))
        mrc.voxel_size = tuple(SPACING_MM * 1e7)
    with mrcfile.new(tmp_path / "b.mrc") as mrc:
        mrc.set_data(np.ascontiguousarray(labels.transpose()))
    check(read_image(tmp_path / "a.mrc"), labels, SPACING_M, diagonal_affine(SPACING_MM, 0))
    check(read_image(tmp_path / "b.mrc"), labels, None, np.eye(4))


def test_zero_spacing_in_a_header_becomes_none(tmp_path, labels, caplog):
    np.savez(tmp_path / "a.npz", labels=labels, spacing=np.array([1e-3, 0.0, 1e-3]))
    with caplog.at_level(logging.WARNING):
        check(read_image(tmp_path / "a.npz"), labels, None, np.eye(4))
    assert "grid.spacing" in caplog.text


def test_missing_file(tmp_path):
    with pytest.raises(GeometryError, match="not found"):
        read_image(tmp_path / "absent.nii.gz")


def test_unknown_suffix_lists_the_supported_ones(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(GeometryError, match=r"'\.png'.*\.nii\.gz.*\.mrc"):
        read_image(tmp_path / "a.png")


@pytest.mark.parametrize("name", ["a.nii", "a.nii.gz", "a.nrrd", "a.nhdr", "a.mha", "a.mhd",
                                  "a.vti", "a.npy", "a.npz", "a.mrc"])
def test_corrupt_files_raise_geometry_error_naming_the_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"this is not an image file\n" * 3)
    with pytest.raises(GeometryError) as error:
        read_image(tmp_path / name)
    assert str(tmp_path / name) in str(error.value)


def test_truncated_nifti(tmp_path, labels):
    nibabel.Nifti1Image(labels, np.eye(4)).to_filename(tmp_path / "a.nii.gz")
    content = (tmp_path / "a.nii.gz").read_bytes()
    (tmp_path / "a.nii.gz").write_bytes(content[: len(content) // 2])
    with pytest.raises(GeometryError, match="cannot read"):
        read_image(tmp_path / "a.nii.gz")


@pytest.mark.parametrize("shape", [(5, 6), (5, 6, 7, 2), (2, 5, 6, 7)])
def test_not_three_dimensional(tmp_path, shape):
    np.save(tmp_path / "a.npy", np.zeros(shape, np.uint8))
    with pytest.raises(GeometryError, match="3-D"):
        read_image(tmp_path / "a.npy")


@pytest.mark.parametrize("array", [np.zeros((0, 6, 7), np.uint8), np.full((2, 2, 2), "a")])
def test_empty_or_non_numeric(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    with pytest.raises(GeometryError, match="no usable labels"):
        read_image(tmp_path / "a.npy")


def test_npz_with_several_arrays_but_no_labels(tmp_path, labels):
    np.savez(tmp_path / "a.npz", a=labels, b=labels)
    with pytest.raises(GeometryError, match="name the label volume 'labels'"):
        read_image(tmp_path / "a.npz")


def test_npz_with_a_malformed_spacing(tmp_path, labels):
    np.savez(tmp_path / "a.npz", labels=labels, spacing=np.array([1e-3, 1e-3]))
    with pytest.raises(GeometryError, match="3 values in metres"):
        read_image(tmp_path / "a.npz")


def test_vti_without_arrays(tmp_path):
    (tmp_path / "a.vti").write_text(
        '<VTKFile type="ImageData"><ImageData WholeExtent="0 1 0 1 0 1">'
        '<Piece Extent="0 1 0 1 0 1"/></ImageData></VTKFile>')
    with pytest.raises(GeometryError, match="no data arrays"):
        read_image(tmp_path / "a.vti")


def test_metaimage_with_vector_voxels(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    sitk.WriteImage(sitk.Image([5, 6, 7], sitk.sitkVectorUInt8, 3), str(tmp_path / "v.mha"))
    with pytest.raises(GeometryError, match="3 components"):
        read_image(tmp_path / "v.mha")


def test_nrrd_with_an_unknown_length_unit(tmp_path, labels):
    nrrd.write(str(tmp_path / "a.nrrd"), labels, {"space": "RAS", "space units": ["ft"] * 3,
                                                  "space directions": np.eye(3)})
    with pytest.raises(GeometryError, match="unknown length unit 'ft'"):
        read_image(tmp_path / "a.nrrd")
