"""Orientation letters only where the input says where the patient is.

A NIfTI label image carries its orientation: the results say so (``patient_oriented``) and
the figures letter the edges from the affine. A ``.npy`` label volume (or the LiTS ``.mrc``)
stores no orientation: its identity affine must not be read as R/A/S; the figures say the
grid axes were taken as R, A, S, as for a phantom.
"""
import nibabel
import numpy as np

import perfusion
from perfusion.case import case_from_dict
from perfusion.render.orientation import GRID_AXES_NOTE
from perfusion.render.slices import grid_axes_only, orientation_note
from perfusion.results.load import load_results

AFFINE = np.array([[-2.0, 0, 0, 40], [0, 2, 0, -10], [0, 0, 3, 5], [0, 0, 0, 1]])  # L, A, S


def _labels() -> np.ndarray:
    labels = np.zeros((10, 8, 6), np.uint8)
    labels[2:8, 2:6, 1:5] = 1
    return labels


def _run(folder, path: str, **grid):
    raw = {"case": {"name": "orient"}, "grid": grid,
           "geometry": {"kind": "image", "path": path, "labels": {1: "normal"}},
           "supplies": [{"name": "artery", "inlets": [
               {"name": "a", "voxel": [5, 4, 3], "flow": "1 mL/min"}]}]}
    result = perfusion.run_case(case_from_dict(raw, source=folder / "case.toml"),
                                folder / "out", backend="numpy")
    return load_results(result.directory)


def test_nifti_results_are_patient_oriented(tmp_path):
    nibabel.save(nibabel.Nifti1Image(_labels(), AFFINE), tmp_path / "labels.nii.gz")
    data = _run(tmp_path, "labels.nii.gz")
    assert bool(data.fields["patient_oriented"]) is True
    np.testing.assert_allclose(data.fields["affine"], AFFINE)
    assert not grid_axes_only(data)
    assert GRID_AXES_NOTE not in orientation_note(data, "radiological")


def test_npy_results_are_not_read_as_anatomy(tmp_path):
    np.save(tmp_path / "labels.npy", _labels())
    data = _run(tmp_path, "labels.npy", spacing="2 mm")
    assert bool(data.fields["patient_oriented"]) is False
    assert grid_axes_only(data)
    assert GRID_AXES_NOTE in orientation_note(data, "radiological")
