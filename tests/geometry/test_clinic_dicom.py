"""A DICOM CT series with a DICOM-SEG as a case geometry: segment labels → classes, the
labels voxel for voxel on the CT (affine from the series, LPS → RAS+), and the errors for a
missing segment and a SEG drawn on another series.
"""
import numpy as np
import pytest

pytest.importorskip("highdicom")

from clinic_files import organ_and_tumour, write_ct_series, write_dicom, write_dicom_seg

from perfusion.case import case_from_dict
from perfusion.errors import GeometryError
from perfusion.geometry.image import load_label_image


def _case(geometry):
    return case_from_dict({"case": {"name": "dicom"}, "geometry": geometry, "supplies": [
        {"name": "artery", "inlets": [{"name": "a", "voxel": [8, 6, 4], "flow": "1 mL/min"}]}]})


def test_seg_labels_lie_on_the_ct_grid(tmp_path):
    geometry, affine = write_dicom(tmp_path)
    case = _case(geometry)
    image, index, names, spacing = load_label_image(case.geometry, case.grid)
    organ, tumour = organ_and_tumour()
    assert names == ("outside", "normal", "tumor")
    np.testing.assert_array_equal(index, organ.astype(np.int8) + tumour)
    np.testing.assert_allclose(spacing, [0.7e-3, 0.8e-3, 2.5e-3])
    np.testing.assert_allclose(image.affine, affine, atol=1e-9)


def test_a_missing_segment_and_a_seg_of_another_series_are_errors(tmp_path):
    geometry, _ = write_dicom(tmp_path)
    case = _case({**geometry, "segments": {"Liver": "normal"}})
    with pytest.raises(GeometryError, match=r"geometry.segments.Liver: .*seg.dcm has no segment "
                       r"'Liver' \(did you mean 'liver'\?\); it holds \['liver', 'tumor 1'\]"):
        load_label_image(case.geometry, case.grid)
    organ, _ = organ_and_tumour()
    other = write_ct_series(tmp_path / "other_ct")
    write_dicom_seg(tmp_path / "other_seg.dcm", other, {"liver": organ})
    case = _case({**geometry, "segmentation": str(tmp_path / "other_seg.dcm"),
                  "segments": {"liver": "normal"}})
    with pytest.raises(GeometryError, match="geometry.segmentation: .*other_seg.dcm does not "
                       "reference the series in .*ct .*give the series the SEG was drawn on"):
        load_label_image(case.geometry, case.grid)
