"""``geometry.background``: the CT under the labels, resampled onto the label grid through
both affines (checked against trilinear interpolation computed here from the two affines),
taken as it is on the same grid, block-averaged with ``downsample``, written to fields.npz;
a missing file or a field of view that misses the grid names the key and the fix.
"""
import itertools

import nibabel
import numpy as np
import pytest

import perfusion
from perfusion.case import case_from_dict
from perfusion.compute.backend import make_backend
from perfusion.compute.memory import MARGIN, estimate
from perfusion.domain import build_domain
from perfusion.errors import CaseError, GeometryError

LABEL_SHAPE = (10, 8, 6)
#: Label grid: 2 × 2 × 3 mm voxels, axis-aligned, origin (−9, 4, 21) mm (RAS+).
LABEL_AFFINE = np.array([[2.0, 0, 0, -9], [0, 2, 0, 4], [0, 0, 3, 21], [0, 0, 0, 1]])
CT_SHAPE = (16, 14, 14)
#: CT grid, permuted and flipped: index a runs along +y (1.25 mm), b along −z (1.5 mm),
#: c along −x (1.75 mm); it covers the label grid (x −10.75…12, y 2…20.75, z 18.5…38 mm).
CT_AFFINE = np.array([[0, 0, -1.75, 12], [1.25, 0, 0, 2], [0, -1.5, 0, 38], [0, 0, 0, 1]])


def _labels() -> np.ndarray:
    labels = np.zeros(LABEL_SHAPE, np.uint8)
    labels[2:8, 2:6, 1:5] = 1
    return labels


def _write(folder, ct: np.ndarray, ct_affine=CT_AFFINE):
    nibabel.save(nibabel.Nifti1Image(_labels(), LABEL_AFFINE), folder / "labels.nii.gz")
    nibabel.save(nibabel.Nifti1Image(ct, ct_affine), folder / "ct.nii.gz")


def _case(folder, **geometry):
    geometry = {"kind": "image", "path": "labels.nii.gz", "labels": {1: "normal"},
                "background": "ct.nii.gz", **geometry}
    return case_from_dict({"case": {"name": "ct"}, "geometry": geometry, "supplies": [
        {"name": "artery", "inlets": [{"name": "a", "voxel": [5, 4, 3], "flow": "1 mL/min"}]}]},
        source=folder / "case.toml")


def _trilinear(volume: np.ndarray, index: np.ndarray) -> float:
    """Trilinear interpolation of ``volume`` at the continuous ``index``, by hand."""
    base = np.floor(index).astype(int)
    frac = index - base
    total = 0.0
    for corner in itertools.product((0, 1), repeat=3):
        weight = np.prod([f if c else 1 - f for f, c in zip(frac, corner)])
        if weight:
            total += weight * volume[tuple(base + np.array(corner))]
    return total


def test_a_ct_on_a_permuted_flipped_grid_is_resampled_through_both_affines(tmp_path):
    rng = np.random.default_rng(7)
    ct = rng.uniform(-1000, 1500, CT_SHAPE).astype(np.float32)
    _write(tmp_path, ct)
    result = perfusion.run_case(_case(tmp_path), tmp_path / "result", backend="numpy")
    with np.load(result.directory / "fields" / "fields.npz") as fields:
        background = fields["background"]
    assert background.dtype == np.float32 and background.shape == LABEL_SHAPE
    to_ct = np.linalg.inv(CT_AFFINE) @ LABEL_AFFINE
    for voxel in [(0, 0, 0), (9, 7, 5), (3, 5, 2), (7, 1, 4), (5, 4, 3)]:
        index = (to_ct @ [*voxel, 1.0])[:3]
        assert 0 <= index.min() and (index <= np.array(CT_SHAPE) - 1).all()
        assert background[voxel] == pytest.approx(_trilinear(ct, index), rel=1e-5, abs=1e-3)
    # label voxel (3, 5, 2) is at world (−3, 14, 27) mm: CT index (9.6, 7.333…, 8.571…)
    np.testing.assert_allclose((to_ct @ [3, 5, 2, 1.0])[:3], [9.6, 22 / 3, 15 / 1.75])


def test_same_grid_is_taken_as_it_is_and_downsample_averages_blocks(tmp_path):
    ct = np.arange(np.prod(LABEL_SHAPE), dtype=np.float32).reshape(LABEL_SHAPE) - 500
    _write(tmp_path, ct, LABEL_AFFINE)
    host = make_backend("numpy", "float64")
    np.testing.assert_array_equal(build_domain(_case(tmp_path), host).background, ct)
    domain = build_domain(_case(tmp_path, downsample=2), host)
    blocks = ct.reshape(5, 2, 4, 2, 3, 2).mean(axis=(1, 3, 5))
    np.testing.assert_allclose(domain.background, blocks, rtol=1e-6)
    assert domain.background.shape == domain.labels.shape == (5, 4, 3)


def test_missing_file_names_the_key_and_the_fix(tmp_path):
    _write(tmp_path, np.zeros(CT_SHAPE, np.float32))
    with pytest.raises(CaseError, match=r"geometry\.background: '.*scan\.nii\.gz' does not exist; "
                       r"give a path relative to the case file or an absolute one"):
        _case(tmp_path, background="scan.nii.gz")


def test_a_field_of_view_that_misses_the_labels_names_the_key(tmp_path):
    far = CT_AFFINE.copy()
    far[:3, 3] += 500.0                                   # half a metre away
    _write(tmp_path, np.zeros(CT_SHAPE, np.float32), far)
    with pytest.raises(GeometryError, match=r"geometry\.background: .*ct\.nii\.gz does not "
                       r"overlap the label grid .*; give the scan the labels were drawn on, "
                       r"or remove geometry\.background"):
        build_domain(_case(tmp_path), make_backend("numpy", "float64"))


def test_background_belongs_to_an_image_case_and_costs_a_float32_per_voxel(tmp_path):
    _write(tmp_path, np.zeros(CT_SHAPE, np.float32))
    with pytest.raises(CaseError, match="background and downsample belong to kind"):
        case_from_dict({"case": {"name": "p"}, "grid": {"shape": [8, 8, 8], "spacing": "1 mm"},
                        "geometry": {"kind": "phantom", "organ": {"shape": "box"},
                                     "background": str(tmp_path / "ct.nii.gz")},
                        "supplies": [{"name": "a", "inlets": [
                            {"name": "a", "voxel": [4, 4, 4], "flow": "1 mL/min"}]}]})
    with_ct, without = estimate(_case(tmp_path)), estimate(_case(tmp_path, background=None))
    voxels = np.prod(LABEL_SHAPE)
    for key, need in with_ct.needs.items():
        assert need.host - without.needs[key].host == pytest.approx(MARGIN * 4 * voxels, abs=2)
        assert need.device == without.needs[key].device
