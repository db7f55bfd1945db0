"""The log of a small run names final paths and plain numbers in the summary's units: no
temporary ``.partial`` paths, no ``np.float32(...)`` reprs, concentrations in µg/mL."""
from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
from case_data import LIVER

from perfusion import run_case
from perfusion.case import case_from_dict

nibabel = pytest.importorskip("nibabel")


def test_log_of_an_image_run_with_a_drug(tmp_path, caplog):
    labels = np.zeros((24, 22, 20), dtype=np.int16)
    labels[2:22, 2:20, 2:18] = 1
    labels[12:18, 8:14, 8:14] = 2
    nibabel.save(nibabel.Nifti1Image(labels, np.diag([4.0, 4.0, 4.0, 1.0])), tmp_path / "labels.nii.gz")
    raw = copy.deepcopy(LIVER)
    raw["geometry"] = {"kind": "image", "path": str(tmp_path / "labels.nii.gz")}
    raw["grid"] = {}
    raw["tissue"]["tumor"].pop("perfusion")
    raw.update(drug={"name": "doxorubicin"},
               infusion=[{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                          "dose": "20 mg"}],
               simulation={"duration": "1 h", "output_every": "30 min", "compare_iv": False})
    with caplog.at_level(logging.DEBUG, logger="perfusion"):
        run_case(case_from_dict(raw), tmp_path / "out", backend="numpy", precision="float32")
    messages = [r.getMessage() for r in caplog.records]
    assert any("voxel size 4 × 4 × 4 mm" in m for m in messages), messages
    assert not [m for m in messages if ".partial" in m or "np.float" in m or "np.int" in m]
    progress = [m for m in messages if m.startswith("t = ")]
    assert progress and all("µg/mL" in m and "kg/m" not in m for m in progress)
