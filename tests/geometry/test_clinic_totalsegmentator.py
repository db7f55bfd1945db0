"""A TotalSegmentator output folder as a case geometry: structure names → classes (the
organ first, its tumour painted over it), the NIfTI grid kept, the vessel mask traced into
a tree by the `mask` tree source, and errors naming the folder, the key and the fix.
"""
import numpy as np
import pytest
from clinic_files import (
    SHAPE,
    organ_and_tumour,
    write_totalsegmentator,
)

from perfusion.case import case_from_dict
from perfusion.errors import CaseError, GeometryError
from perfusion.geometry.image import load_label_image
from perfusion.vascular.sources.vessel_mask import load_vessel_mask


def _case(geometry):
    return case_from_dict({"case": {"name": "ts"}, "geometry": geometry, "supplies": [
        {"name": "artery", "inlets": [{"name": "a", "voxel": [8, 6, 4], "flow": "1 mL/min"}]}]})


def test_structures_become_classes_on_the_nifti_grid(tmp_path):
    geometry, affine = write_totalsegmentator(tmp_path)
    case = _case(geometry)
    image, index, names, spacing = load_label_image(case.geometry, case.grid)
    organ, tumour = organ_and_tumour()
    assert names == ("outside", "normal", "tumor")
    np.testing.assert_array_equal(index, organ.astype(np.int8) + tumour)  # tumour wins
    np.testing.assert_allclose(spacing, [0.9e-3, 0.75e-3, 3e-3])
    np.testing.assert_allclose(image.affine, affine)
    assert image.data.shape == SHAPE


def test_the_vessel_mask_of_the_folder_is_a_tree_by_the_mask_source(tmp_path):
    geometry, _ = write_totalsegmentator(tmp_path)
    vessels = tmp_path / "segmentations" / "liver_vessels.nii.gz"
    case = case_from_dict({"case": {"name": "ts"}, "geometry": geometry, "supplies": [
        {"name": "artery", "tree": {"source": "mask", "path": str(vessels),
                                    "inflow": "1 mL/min"}}]})
    assert case.supplies[0].tree.path == str(vessels)
    tree = load_vessel_mask(case.supplies[0].tree.path)
    # the vessel runs along i through voxels 3…12 at j = 6, k = 4 (0.9 × 0.75 × 3 mm voxels)
    x = tree.points
    assert x[:, 0].min() == pytest.approx(3.5 * 0.9e-3) and x[:, 0].max() == pytest.approx(12.5 * 0.9e-3)
    np.testing.assert_allclose(x[:, 1:], np.tile([6.5 * 0.75e-3, 4.5 * 3e-3], (len(x), 1)))


def test_missing_and_empty_structures_name_the_folder_and_the_fix(tmp_path):
    geometry, _ = write_totalsegmentator(tmp_path)
    case = _case({**geometry, "segments": {"liver": "normal", "liver_tumour": "tumor"}})
    with pytest.raises(GeometryError, match=r"geometry.segments.liver_tumour: .*segmentations has "
                       r"no segment 'liver_tumour' \(did you mean 'liver_tumor'\?\); it holds "
                       r"\['liver', 'liver_tumor', 'liver_vessels', 'spleen'\]"):
        load_label_image(case.geometry, case.grid)
    case = _case({**geometry, "segments": {"liver": "normal", "spleen": "tumor"}})
    with pytest.raises(GeometryError, match="geometry.segments.spleen: segment 'spleen' of .* "
                       "is empty"):
        load_label_image(case.geometry, case.grid)
    with pytest.raises(CaseError, match="geometry.totalsegmentator.*does not exist"):
        _case({**geometry, "totalsegmentator": str(tmp_path / "nowhere")})
