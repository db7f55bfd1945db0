"""``perfusion validate`` catches what ``run`` catches in its first seconds: geometry, inlets,
catheter, sweep members, missing files."""
from __future__ import annotations

import numpy as np
import tomli_w
from click.testing import CliRunner

from perfusion.cli import main


def _validate(*paths):
    result = CliRunner().invoke(main, ["validate", *map(str, paths)])
    return result.exit_code, " ".join(result.output.split())


def _write(raw, tmp_path, name="case.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(raw))
    return path


def test_good_case_builds_its_geometry(liver_dict, tmp_path):
    code, output = _validate(_write(liver_dict, tmp_path))
    assert code == 0, output
    assert "valid (small-liver)" in output and "classes normal, tumor, necrotic" in output


def test_inlet_outside_the_tissue_names_the_inlet(liver_dict, tmp_path):
    liver_dict["supplies"][0]["inlets"][1]["position"] = ["2 mm", "2 mm", "2 mm"]
    code, output = _validate(_write(liver_dict, tmp_path))
    assert code == 1, output
    assert "case.toml" in output and "supplies.0.inlets.1 ('left')" in output, output
    assert "outside the tissue" in output and "move the inlet into the organ" in output


def test_catheter_tip_outside_the_grid_names_the_key(liver_dict, tmp_path):
    liver_dict["supplies"][0] = {"name": "hepatic_artery", "tree": {
        "source": "generated", "root": ["50 mm", "40 mm", "36 mm"], "terminals": 20,
        "inflow": "60 mL/min", "pressure": "90 mmHg"}}
    liver_dict["catheter"] = {"supply": "hepatic_artery", "position": ["50 mm", "40 mm", "1 m"]}
    code, output = _validate(_write(liver_dict, tmp_path))
    assert code == 1, output
    assert "catheter.position" in output and "outside the grid" in output, output


def test_tumour_outside_the_organ(liver_dict, tmp_path):
    liver_dict["geometry"]["tumors"][1]["center"] = ["4 mm", "4 mm", "4 mm"]
    liver_dict["geometry"]["tumors"][1]["radius"] = "3 mm"
    code, output = _validate(_write(liver_dict, tmp_path))
    assert code == 1, output
    assert "geometry.tumors.1" in output and "no voxel inside the organ" in output, output


def _image_case(liver_dict, tmp_path, labels: np.ndarray, label_map: dict) -> dict:
    np.save(tmp_path / "labels.npy", labels)
    raw = {k: v for k, v in liver_dict.items() if k not in ("geometry", "grid")}
    raw["grid"] = {"spacing": "4 mm"}
    raw["geometry"] = {"kind": "image", "path": "labels.npy", "labels": label_map}
    return raw


def _organ(dtype) -> np.ndarray:
    labels = np.zeros((24, 22, 20), dtype=dtype)
    labels[2:22, 2:20, 2:18] = 1
    labels[12:18, 8:14, 7:13] = 2
    return labels


def test_label_value_absent_from_the_image(liver_dict, tmp_path):
    raw = _image_case(liver_dict, tmp_path, _organ(np.uint8), {"1": "normal", "2": "tumor",
                                                                "5": "necrotic"})
    code, output = _validate(_write(raw, tmp_path))
    assert code == 1, output
    assert "geometry.labels: value 5 ('necrotic') does not occur" in output, output


def test_float_label_image(liver_dict, tmp_path):
    labels = _organ(np.float32)
    labels[3, 3, 3] = 0.5
    raw = _image_case(liver_dict, tmp_path, labels, {"1": "normal", "2": "tumor"})
    code, output = _validate(_write(raw, tmp_path))
    assert code == 1, output
    assert "labels.npy" in output and "non-integer values" in output, output


def _sweep(tmp_path, liver_dict, positions) -> object:
    _write(liver_dict, tmp_path, "liver.toml")
    return _write({"sweep": {"name": "s", "base": "liver.toml"},
                   "grid": {"supplies.0.inlets.0.position": positions}}, tmp_path, "sweep.toml")


def test_good_sweep_file_is_valid(liver_dict, tmp_path):
    code, output = _validate(_sweep(tmp_path, liver_dict, [["62 mm", "40 mm", "36 mm"],
                                                           ["40 mm", "44 mm", "40 mm"]]))
    assert code == 0, output
    assert "valid sweep" in output and "2 members valid" in output, output
    assert "unknown key" not in output


def test_sweep_member_with_a_bad_inlet_is_named(liver_dict, tmp_path):
    code, output = _validate(_sweep(tmp_path, liver_dict, [["62 mm", "40 mm", "36 mm"],
                                                           ["2 mm", "2 mm", "2 mm"]]))
    assert code == 1, output
    assert "member 1 (supplies.0.inlets.0.position=['2 mm', '2 mm', '2 mm'])" in output, output
    assert "supplies.0.inlets.0 ('right')" in output and "member 0" not in output, output


def test_every_missing_data_file_is_named(liver_dict, tmp_path):
    raw = _image_case(liver_dict, tmp_path, _organ(np.uint8), {"1": "normal", "2": "tumor"})
    raw["geometry"] = {"kind": "image", "masks": {"normal": "gone/a.nii.gz",
                                                  "tumor": "gone/b.nii.gz"}}
    code, output = _validate(_write(raw, tmp_path))
    assert code == 1, output
    assert "a.nii.gz" in output and "b.nii.gz" in output and "2 files" in output, output
