"""3D Slicer segmentations (.seg.nrrd) as a case geometry: segment names → classes, the
grid of the file (an oblique LPS affine, converted to RAS+), one- and multi-layer files,
and the errors that name the file, the key and the fix.
"""
import nrrd
import numpy as np
import pytest
from clinic_files import SLICER_DIRECTIONS_LPS, slicer_affine, slicer_header

from perfusion.case import case_from_dict
from perfusion.errors import CaseError, GeometryError
from perfusion.geometry.image import load_label_image

SHAPE = (6, 5, 4)


def _volume():
    """Liver (value 1) filling i < 5, a tumour (value 3) at one corner block, a vessel (2)."""
    data = np.zeros(SHAPE, np.uint8)
    data[:5] = 1
    data[:2, :2, :2] = 3
    data[4, 4, :] = 2
    return data


def _geometry(tmp_path, data, header, segments):
    path = tmp_path / "Segmentation.seg.nrrd"
    nrrd.write(str(path), data, header, index_order="F")
    raw = {"case": {"name": "slicer"},
           "geometry": {"kind": "image", "path": str(path), "segments": segments},
           "supplies": [{"name": "artery", "inlets": [
               {"name": "a", "voxel": [2, 2, 2], "flow": "1 mL/min"}]}]}
    return case_from_dict(raw)


def test_a_single_layer_segmentation_gives_classes_spacing_and_affine(tmp_path):
    header = slicer_header([("liver", 1, 0), ("vessel", 2, 0), ("tumor 1", 3, 0)])
    case = _geometry(tmp_path, _volume(), header, {"liver": "normal", "tumor 1": "tumour"})
    image, index, names, spacing = load_label_image(case.geometry, case.grid)
    assert names == ("outside", "normal", "tumor")
    expected = np.zeros(SHAPE, np.int8)
    expected[:5] = 1
    expected[:2, :2, :2] = 2
    expected[4, 4, :] = 0  # the vessel segment is not listed: outside
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_allclose(spacing, [0.7e-3, 0.8e-3, 2.5e-3])
    np.testing.assert_allclose(image.affine, slicer_affine(), atol=1e-12)
    # one i step is 0.7 mm along −P in LPS: anterior, +0.7 mm along RAS y
    np.testing.assert_allclose(image.affine @ [1, 0, 0, 1] - image.affine @ [0, 0, 0, 1],
                               [0.0, 0.7, 0.0, 0.0], atol=1e-12)


def test_overlapping_segments_in_two_layers_later_segment_wins(tmp_path):
    liver = np.zeros(SHAPE, np.uint8)
    liver[:5] = 1
    tumour = np.zeros(SHAPE, np.uint8)
    tumour[1:3, 1:3, 1:3] = 1  # inside the liver: Slicer puts it in a second layer
    layers = np.stack([liver, tumour])  # [layer, i, j, k]
    header = slicer_header([("liver", 1, 0), ("tumor", 1, 1)], kinds=["list", "domain", "domain",
                                                                  "domain"])
    header["space directions"] = np.vstack([np.full(3, np.nan), SLICER_DIRECTIONS_LPS.T])
    case = _geometry(tmp_path, layers, header, {"liver": "normal", "tumor": "tumor"})
    image, index, _, _ = load_label_image(case.geometry, case.grid)
    assert index.shape == SHAPE
    assert (index == 2).sum() == 8 and (index == 1).sum() == 5 * 5 * 4 - 8
    np.testing.assert_allclose(image.affine, slicer_affine(), atol=1e-12)


def test_a_missing_segment_name_lists_the_names_present(tmp_path):
    header = slicer_header([("liver", 1, 0), ("tumor 1", 3, 0)])
    case = _geometry(tmp_path, _volume(), header, {"liver": "normal", "tumour 1": "tumor"})
    with pytest.raises(GeometryError, match=r"geometry.segments.tumour 1: .*Segmentation.seg."
                       r"nrrd has no segment 'tumour 1' \(did you mean 'tumor 1'\?\); it holds "
                       r"\['liver', 'tumor 1'\]"):
        load_label_image(case.geometry, case.grid)


def test_an_empty_segment_and_a_seg_nrrd_without_segments_are_errors(tmp_path):
    header = slicer_header([("liver", 1, 0), ("tumor", 7, 0)])
    case = _geometry(tmp_path, _volume(), header, {"liver": "normal", "tumor": "tumor"})
    with pytest.raises(GeometryError, match="geometry.segments.tumor: segment 'tumor' of .* is "
                       "empty"):
        load_label_image(case.geometry, case.grid)
    with pytest.raises(CaseError, match="name the segments that are tissue"):
        case_from_dict({"case": {"name": "x"}, "geometry": {
            "kind": "image", "path": str(tmp_path / "Segmentation.seg.nrrd")},
            "supplies": [{"name": "a", "inlets": [{"name": "a", "voxel": [0, 0, 0],
                                                   "flow": "1 mL/min"}]}]})
