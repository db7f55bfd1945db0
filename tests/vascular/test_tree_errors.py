"""Bad tree, catheter and mask input: one clear message naming the file and key, exit 1."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from case_data import WELL_MIXED, tracer
from test_tree_supply import tree_case

from perfusion.cli import main


def _without(raw, *keys):
    table = raw["supplies"][0]["tree"]
    for key in keys:
        table.pop(key)
    return raw


def _with_tree(**entries):
    raw = tree_case()
    raw["supplies"][0]["tree"].update(entries)
    return raw


def _embolising(segments):
    raw = tree_case({"feeds": "tumor"})
    raw.update(drug=tracer(), systemic=WELL_MIXED["systemic"], simulation={"duration": "10 min"},
               infusion=[{"route": "intra-arterial", "start": "0 min", "duration": "5 min",
                          "dose": "1 mg"}],
               embolization={"time": "5 min", "factor": 0.1, "segments": segments})
    return raw


def _inlets_and_tree():
    raw = tree_case()
    raw["supplies"][0]["inlets"] = [{"name": "a", "position": ["48 mm", "44 mm", "40 mm"],
                                     "flow": "1 mL/min"}]
    return raw


BAD = {
    "two catheter placements": (lambda: tree_case({"vessel": 3, "feeds": "tumor"}), "validate",
                                ["catheter", "give exactly one of"]),
    "catheter feeds an unknown class": (lambda: tree_case({"feeds": "bone"}), "validate",
                                        ["catheter.feeds", "unknown class 'bone'"]),
    "generated tree without terminals": (lambda: _without(tree_case(), "terminals"), "validate",
                                         ["supplies.0.tree", "needs terminals"]),
    "pressure boundary without pressure": (
        lambda: _without(_with_tree(boundary="pressure"), "pressure"), "validate",
        ["supplies.0.tree", 'boundary = "pressure" needs pressure']),
    "roots on a generated tree": (lambda: _with_tree(roots=[["1 mm", "1 mm", "1 mm"]]), "validate",
                                  ["supplies.0.tree", "roots belong to"]),
    "inlets and a tree": (_inlets_and_tree, "validate",
                          ["supplies.0", "either [[supplies.inlets]] or a [supplies.tree]"]),
    "embolised segment that does not exist": (lambda: _embolising([99999]), "run",
                                              ["embolization.segments", "do not exist"]),
}


def _invoke(raw, command, tmp_path):
    case_file = tmp_path / "bad.toml"
    case_file.write_text(tomli_w.dumps(raw))
    args = [command, str(case_file)]
    if command == "run":
        args += ["-o", str(tmp_path / "out"), "--backend", "numpy"]
    return case_file, CliRunner().invoke(main, args)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_tree_input_gives_a_clear_error(name, tmp_path):
    build, command, expected = BAD[name]
    case_file, result = _invoke(build(), command, tmp_path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and str(case_file) in result.output
    for text in expected:
        assert text in result.output, f"{text!r} not in {result.output!r}"
    assert not (tmp_path / "out").exists()


def _mask_case(tmp_path, white):
    import nibabel

    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    grey = np.zeros((20, 20, 20), np.uint8)
    grey[5:15, 5:15, 5:10] = 1
    nibabel.save(nibabel.Nifti1Image(grey, affine), tmp_path / "grey.nii.gz")
    nibabel.save(nibabel.Nifti1Image(*white), tmp_path / "white.nii.gz")
    raw = copy.deepcopy(tree_case())
    raw.pop("grid")
    raw["tissue"] = {}
    raw["geometry"] = {"kind": "image", "masks": {"grey": "grey.nii.gz", "white": "white.nii.gz"}}
    raw["supplies"] = [{"name": "a", "inlets": [{"name": "i", "voxel": [10, 10, 7],
                                                 "flow": "1 mL/min"}]}]
    raw["catheter"] = {"supply": "a", "inlets": ["i"]}
    return raw


@pytest.mark.parametrize("white, expected", [
    ("overlap", "are also in geometry.masks.grey; the masks must not overlap"),
    ("other grid", "is not on the grid of geometry.masks.grey"),
    ("empty", "has no non-zero voxel"),
])
def test_bad_tissue_masks_give_a_clear_error(white, expected, tmp_path):
    array = np.zeros((20, 20, 20), np.uint8)
    if white != "empty":
        array[5:15, 5:15, 9:15] = 1
    affine = np.diag([3.0, 3.0, 3.0, 1.0] if white == "other grid" else [2.0, 2.0, 2.0, 1.0])
    _, result = _invoke(_mask_case(tmp_path, (array, affine)), "run", tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "geometry.masks.white" in result.output and expected in result.output


def test_two_tissue_masks_make_two_classes(tmp_path):
    array = np.zeros((20, 20, 20), np.uint8)
    array[5:15, 5:15, 10:15] = 1
    _, result = _invoke(_mask_case(tmp_path, (array, np.diag([2.0, 2.0, 2.0, 1.0]))), "run",
                        tmp_path)
    assert result.exit_code == 0, result.output
    assert "grey" in result.output and "white" in result.output
