"""Bad case files and inputs: each gives one clear message (file, key, fix), exit 1, no traceback."""
from __future__ import annotations

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from perfusion.case.loader import case_from_dict
from perfusion.cli import main


def _set(path: str, value):
    """A mutation that sets a dotted key (integers index lists) of the raw case."""
    def mutate(raw, tmp_path):
        keys = path.split(".")
        node = raw
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        if keys[-1].isdigit():
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value
    return mutate


def _delete(path: str):
    def mutate(raw, tmp_path):
        keys = path.split(".")
        node = raw
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[keys[-1]]
    return mutate


def _image(array, labels=None, grid=None, name="labels.npy"):
    """A mutation that turns the case into an image case reading ``array``."""
    def mutate(raw, tmp_path):
        np.save(tmp_path / name, array)
        raw["geometry"] = {"kind": "image", "path": name}
        if labels is not None:
            raw["geometry"]["labels"] = labels
        raw["grid"] = grid if grid is not None else {"spacing": "4 mm"}
        raw["tissue"]["tumor"].pop("perfusion")
    return mutate


def _labels_volume():
    volume = np.zeros((24, 22, 20), dtype=np.int16)
    volume[2:22, 2:20, 2:18] = 1
    volume[12:18, 8:14, 8:14] = 2
    return volume


def _nan_volume():
    volume = _labels_volume().astype(float)
    volume[5, 5, 5] = np.nan
    return volume


def _protocol(mutate=None):
    """A mutation that adds a valid doxorubicin HAI protocol, then applies ``mutate``."""
    def apply(raw, tmp_path):
        raw["drug"] = {"name": "doxorubicin"}
        raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "30 min",
                            "dose": "50 mg"}]
        raw["simulation"] = {"duration": "2 h"}
        if mutate is not None:
            mutate(raw, tmp_path)
    return apply


BAD_INPUTS = {
    "flow given as a volume": (_set("supplies.0.inlets.0.flow", "30 mL"), "validate",
                               ["supplies.0.inlets.0.flow", "wrong dimension", "'right'"]),
    "negative conductivity": (_set("tissue.tumor.interstitial_conductivity", "-1e-13 m^2/(Pa*s)"),
                              "validate", ["tissue.tumor.interstitial_conductivity", "≥ 0"]),
    "bare number for a length": (_set("grid.spacing", 3), "validate",
                                 ["grid.spacing", 'give a string with units, e.g. "3 m"']),
    "unparseable quantity": (_set("blood.venous_pressure", "five mmHg"), "validate",
                             ["blood.venous_pressure", "cannot read"]),
    "hematocrit out of range": (_set("blood.hematocrit", 1.5), "validate",
                                ["blood.hematocrit", "< 1"]),
    "misspelt key": (_set("tissue.tumor.permeabilty", "1 m/s"), "validate",
                     ["tissue.tumor.permeabilty", "unknown key", "interstitial_conductivity"]),
    "unknown tissue class": (_set("tissue.tumr", {"perfusion": "30 mL/min/(100 mL)"}), "validate",
                             ["tissue.tumr", "unknown tissue class", "did you mean 'tumor'"]),
    "tumour and tumor tables both given": (_set("tissue.tumour", {"perfusion": "30 mL/min/(100 mL)"}),
                                           "validate", ["tissue.tumour", "both name the tissue "
                                                        "class 'tumor'", "merge them into tissue.tumor"]),
    "unknown supply in fractions": (_set("tissue.normal.supply_fractions",
                                         {"hepatic_artery": 0.3, "portal": 0.7}), "validate",
                                    ["tissue.normal.supply_fractions.portal", "unknown supply"]),
    "fractions not adding to one": (_set("tissue.tumor.supply_fractions",
                                         {"hepatic_artery": 0.9, "portal_vein": 0.3}), "validate",
                                    ["tissue.tumor.supply_fractions", "add up to 1"]),
    "two supplies, no fractions": (_delete("tissue.normal"), "validate",
                                   ["tissue.normal.supply_fractions", "several supplies"]),
    "no supplies": (_delete("supplies"), "validate", ["supplies", "required key is missing"]),
    "catheter names an unknown inlet": (_set("catheter.inlets", ["rigth"]), "validate",
                                        ["catheter.inlets", "unknown inlet 'rigth'", "'right'"]),
    "catheter names an unknown supply": (_set("catheter.supply", "aorta"), "validate",
                                         ["catheter.supply", "unknown supply"]),
    "duplicate inlet names": (_set("supplies.0.inlets.1.name", "right"), "validate",
                              ["supplies.0.inlets", "unique"]),
    "inlet with position and voxel": (_set("supplies.0.inlets.0.voxel", [1, 2, 3]), "validate",
                                      ["supplies.0.inlets.0", "exactly one of position"]),
    "necrotic core larger than tumour": (_set("geometry.tumors.0.necrotic_radius", "20 mm"),
                                         "validate", ["geometry.tumors.0", "smaller than radius"]),
    "inlet outside the tissue": (_set("supplies.0.inlets.0.position", ["1 mm", "1 mm", "1 mm"]),
                                 "run", ["supplies.0.inlets.0 ('right')", "outside the tissue",
                                         "move the inlet"]),
    "inlet outside the grid": (_set("supplies.1.inlets.0.position", ["500 mm", "1 mm", "1 mm"]), "run",
                               ["supplies.1.inlets.0", "outside the grid"]),
    "tumour outside the organ": (_set("geometry.tumors.1.center", ["2 mm", "2 mm", "2 mm"]), "run",
                                 ["geometry.tumors.1", "no voxel inside the organ"]),
    "missing image file": (lambda raw, tmp: raw.update(geometry={"kind": "image", "path": "nope.nii.gz"}),
                           "validate", ["geometry.path", "does not exist"]),
    "label map names an absent value": (_image(_labels_volume(), labels={"1": "normal", "5": "tumor"}),
                                        "run", ["geometry.labels", "value 5", "does not occur"]),
    "NaN in the image": (_image(_nan_volume()), "run", ["NaN"]),
    "image shape mismatch": (_image(_labels_volume(), grid={"shape": [20, 20, 20], "spacing": "4 mm"}),
                             "run", ["grid.shape", "does not match the image shape"]),
    "image without voxel size": (_image(_labels_volume(), grid={}), "run",
                                 ["stores no voxel size", "grid"]),
    "intensity image instead of labels": (_image(_labels_volume() + 0.5), "run",
                                          ["non-integer values"]),
    "dose without mass units": (_protocol(_set("infusion.0.dose", "50 mL")), "validate",
                                ["infusion.0.dose", "wrong dimension"]),
    "rate and dose both given": (_protocol(_set("infusion.0.rate", "1 mg/min")), "validate",
                                 ["infusion.0", "exactly one of dose"]),
    "negative duration": (_protocol(_set("infusion.0.duration", "-30 min")), "validate",
                          ["infusion.0.duration", "> 0"]),
    "overlapping infusions": (_protocol(lambda raw, tmp: raw["infusion"].append(
        {"route": "intra-arterial", "start": "20 min", "duration": "30 min", "dose": "10 mg"})),
        "validate", ["infusion.1", "overlaps infusion.0"]),
    "infusion past the end of the run": (_protocol(_set("infusion.0.start", "100 min")), "validate",
                                         ["infusion.0", "after the end of the simulation"]),
    "embolisation factor above one": (_protocol(_set("embolization", {"time": "1 h", "factor": 1.5})),
                                      "validate", ["embolization.factor", "≤ 1"]),
    "embolisation factor zero": (_protocol(_set("embolization", {"time": "1 h", "factor": 0})),
                                 "validate", ["embolization.factor", "> 0"]),
    "drug missing parameters": (_protocol(_set("drug", {"name": "mystery", "diffusivity": "1e-10 m^2/s"})),
                                "validate", ["drug.name", "not in the drug library", "permeability",
                                             "systemic.clearance"]),
    "misspelt drug name": (_protocol(_set("drug", {"name": "doxorubicine"})), "validate",
                           ["drug.name", "'doxorubicine' is not in the drug library",
                            "closest first: doxorubicin,", "cisplatin", "tracer"]),
    "arterial infusion without catheter": (_protocol(_delete("catheter")), "validate",
                                           ["infusion.0.route", "needs a [catheter]"]),
    "drug without infusion": (_set("drug", {"name": "cisplatin"}), "validate",
                              ["drug", "without any [[infusion]]"]),
    "run length missing": (_protocol(_delete("simulation.duration")), "validate",
                           ["simulation.duration", "needs its length"]),
    "repeat without period": (_protocol(_set("infusion.0.repeat", 3)), "validate",
                              ["infusion.0", "repeat > 1 needs every"]),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gives_a_clear_error(name, liver_dict, tmp_path):
    mutate, command, expected = BAD_INPUTS[name]
    mutate(liver_dict, tmp_path)
    case_file = tmp_path / "bad.toml"
    case_file.write_text(tomli_w.dumps(liver_dict))
    args = [command, str(case_file)] + (["-o", str(tmp_path / "out")] if command == "run" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, f"{text!r} not in {result.output!r}"
    if command == "validate":
        assert str(case_file) in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, expected", [
    ("[case\nname = 1", "not valid TOML"),
    ("", "case: required key is missing"),
])
def test_unreadable_case_files(tmp_path, content, expected):
    path = tmp_path / "broken.toml"
    path.write_text(content)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1 and expected in result.output and "Traceback" not in result.output


def test_missing_case_file(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "absent.toml")])
    assert result.exit_code == 1
    assert "case file not found" in result.output


@pytest.mark.parametrize("override, expected", [
    ("grid.shape", "expected key=value"),
    ("case.name=hello world", "quote strings"),
    ("supplies.7.name=\"x\"", "expected an index 0…1"),
])
def test_bad_overrides(liver_dict, tmp_path, override, expected):
    path = tmp_path / "case.toml"
    path.write_text(tomli_w.dumps(liver_dict))
    result = CliRunner().invoke(main, ["validate", str(path), "--set", override])
    assert result.exit_code == 1 and expected in result.output, result.output


@pytest.mark.parametrize("override", ["grid.shape=24,22,20", "catheter.inlets=right,left"])
def test_comma_list_override_suggests_a_toml_array_that_works(liver_dict, tmp_path, override):
    """A comma list is not TOML; the fix offered is a TOML array, and that fix validates
    (the shape keeps the phantom's tumours in its organ: validate builds the geometry)."""
    path = tmp_path / "case.toml"
    path.write_text(tomli_w.dumps(liver_dict))
    result = CliRunner().invoke(main, ["validate", str(path), "--set", override])
    assert result.exit_code == 1, result.output
    assert "TOML array" in result.output and "quote strings" not in result.output, result.output
    suggestion = result.output.split("--set '")[-1].split("'")[0]
    key, _, values = override.partition("=")
    assert suggestion.startswith(f"{key}=[") and suggestion.endswith("]"), suggestion
    fixed = CliRunner().invoke(main, ["validate", str(path), "--set", suggestion])
    assert fixed.exit_code == 0, fixed.output


def test_debug_shows_the_traceback(liver_dict, tmp_path):
    liver_dict["blood"] = {"hematocrit": 2.0}
    path = tmp_path / "case.toml"
    path.write_text(tomli_w.dumps(liver_dict))
    result = CliRunner().invoke(main, ["validate", str(path), "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None and "blood.hematocrit" in str(result.exception)


# --- tissue class names: British spelling accepted, unused tables warned about ----------------

def _labels_case(liver_dict, tmp_path, labels):
    np.save(tmp_path / "labels.npy", _labels_volume())
    liver_dict["geometry"] = {"kind": "image", "path": "labels.npy", "labels": labels}
    liver_dict["grid"] = {"spacing": "4 mm"}
    return liver_dict


def test_tumour_label_is_the_builtin_tumor_class(liver_dict, tmp_path, caplog):
    """labels = {2 = "tumour"} with [tissue.tumor]: one class 'tumor', its table applies."""
    raw = _labels_case(liver_dict, tmp_path, {"1": "normal", "2": "tumour"})
    case = case_from_dict(raw, source=tmp_path / "case.toml")
    assert case.geometry.labels == {1: "normal", 2: "tumor"}
    assert case.geometry.class_names() == ["normal", "tumor"]
    assert case.tissue["tumor"].perfusion == pytest.approx(40 / 6000)
    assert "tissue.tumor" not in caplog.text


def test_british_spelling_everywhere_a_class_is_named(liver_dict, tmp_path):
    liver_dict["tissue"]["tumour"] = liver_dict["tissue"].pop("tumor")
    liver_dict["tissue"]["cyst"] = {"base": "Tumour", "supply_fractions": {"hepatic_artery": 1.0}}
    liver_dict["drug"] = {"name": "doxorubicin"}
    liver_dict["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "30 min",
                               "dose": "50 mg"}]
    liver_dict["simulation"] = {"duration": "2 h"}
    liver_dict["exposure"] = {"target": "tumour"}
    (tmp_path / "n.npy").write_bytes(b""), (tmp_path / "t.npy").write_bytes(b"")
    masks = {"kind": "image", "masks": {"normal": "n.npy", "tumour": "t.npy", "cyst": "t.npy"}}
    case = case_from_dict({**liver_dict, "geometry": masks, "grid": {"spacing": "4 mm"}},
                          source=tmp_path / "case.toml")
    assert list(case.geometry.masks) == ["normal", "tumor", "cyst"]
    assert set(case.tissue) == {"normal", "tumor", "cyst"} and case.tissue["cyst"].base == "tumor"
    assert case.tissue["tumor"].perfusion == pytest.approx(40 / 6000)
    assert case.exposure.target == "tumor"
    del liver_dict["tissue"]["cyst"]
    liver_dict["supplies"][0] = {"name": "hepatic_artery", "tree": {
        "source": "generated", "root": ["48 mm", "6 mm", "40 mm"], "inflow": "65 mL/min",
        "pressure": "100 mmHg",
        "terminals": 20, "feeders": {"feeds": "Tumour"}}}
    liver_dict["catheter"] = {"supply": "hepatic_artery", "feeds": "tumour"}
    phantom = case_from_dict(liver_dict, source=tmp_path / "case.toml")
    assert phantom.exposure.target == "tumor" and "tumour" not in phantom.tissue
    assert phantom.supplies[0].tree.feeders.feeds == "tumor" and phantom.catheter.feeds == "tumor"


@pytest.mark.parametrize("geometry, unused", [
    ("labels", "necrotic"),       # the label map has normal and tumor only
    ("phantom", "necrotic"),      # no tumour has a necrotic core
])
def test_table_for_a_class_no_geometry_produces_is_a_warning(liver_dict, tmp_path, caplog,
                                                            geometry, unused):
    if geometry == "labels":
        raw = _labels_case(liver_dict, tmp_path, {"1": "normal", "2": "tumor"})
    else:
        raw = liver_dict
        for tumor in raw["geometry"]["tumors"]:
            tumor.pop("necrotic_radius", None)
    raw["tissue"][unused] = {"interstitial_conductivity": "1e-14 m^2/(Pa*s)"}
    case = case_from_dict(raw, source=tmp_path / "case.toml")
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, caplog.text
    message = warnings[0].getMessage()
    assert str(tmp_path / "case.toml") in message and f"tissue.{unused}" in message
    assert "ignored" in message and "geometry.labels" in message
    assert unused in case.tissue
