"""The NIfTI exports of a run on each clinical input carry the input's affine, so that they
open aligned with the CT (or the segmentation) in 3D Slicer: a steady run on a 3D Slicer
.seg.nrrd, a TotalSegmentator folder and a DICOM CT + SEG, then exports/labels.nii.gz.
"""
import nibabel
import numpy as np
import pytest
from clinic_files import (
    organ_and_tumour,
    write_dicom,
    write_slicer,
    write_totalsegmentator,
)

import perfusion
from perfusion.case import case_from_dict
from perfusion.results.export import export_nifti

WRITERS = {"slicer": write_slicer, "totalsegmentator": write_totalsegmentator,
           "dicom": write_dicom}


@pytest.mark.parametrize("source", list(WRITERS))
def test_exported_labels_have_the_input_affine(tmp_path, source):
    if source == "dicom":
        pytest.importorskip("highdicom")
    geometry, affine = WRITERS[source](tmp_path)
    case = case_from_dict({"case": {"name": source}, "geometry": geometry, "supplies": [
        {"name": "artery", "inlets": [{"name": "a", "voxel": [8, 6, 4], "flow": "1 mL/min"}]}]})
    perfusion.run_case(case, tmp_path / "result", backend="numpy")
    files = export_nifti(tmp_path / "result", tmp_path / "exports")
    labels = nibabel.load(files["labels"])
    np.testing.assert_allclose(labels.affine, affine, atol=1e-5)
    np.testing.assert_allclose(labels.header.get_sform(), affine, atol=1e-5)
    organ, tumour = organ_and_tumour()
    np.testing.assert_array_equal(np.asarray(labels.dataobj), organ.astype(np.int16) + tumour)
