"""``perfusion cases`` says which built-in cases need external data; missing data are all named."""
from __future__ import annotations

import tomllib

import tomli_w
from click.testing import CliRunner

from perfusion.cli import main
from perfusion.library.cases import builtin_cases, case_data

PHANTOM_CASES = ("liver_hai", "liver_tree_lobar", "liver_tree_superselective")


def _listing() -> dict[str, str]:
    """Case name → its lines in the ``perfusion cases`` listing."""
    result = CliRunner().invoke(main, ["cases"])
    assert result.exit_code == 0, result.output
    entries: dict[str, str] = {}
    name = None
    for line in result.output.splitlines():
        if line and not line[0].isspace():
            name = line.split()[0]
            entries[name] = line
        elif name is not None:
            entries[name] += "\n" + line
    return entries


def test_brain_case_is_marked_as_needing_external_data():
    entry = _listing()["brain_mca"]
    assert "needs external data" in entry, entry
    assert "brain-hodneland2019" in entry and "Hodneland" in entry and "CC BY 4.0" in entry, entry
    for name in ("grey_matter.nii.gz", "white_matter.nii.gz", "arteries.nii.gz"):
        assert name in entry, entry


def test_phantom_cases_need_no_external_data():
    listing = _listing()
    for name in PHANTOM_CASES:
        assert name in listing, listing
        assert "needs external data" not in listing[name], listing[name]
        assert "none external" in listing[name], listing[name]
        assert not case_data(builtin_cases()[name]).external


def test_lits_case_names_its_dataset():
    entry = _listing()["liver_lits"]
    assert "needs external data" in entry and "LiTS" in entry, entry


def _brain_case(tmp_path, masks: dict[str, str]):
    raw = tomllib.loads(builtin_cases()["brain_mca"].read_text(encoding="utf-8"))
    raw["geometry"]["masks"] = masks
    arteries = tmp_path / "arteries.nii.gz"
    arteries.write_bytes(b"")                 # present: only the two masks are missing
    raw["supplies"][0]["tree"]["path"] = str(arteries)
    path = tmp_path / "brain.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


def test_two_missing_mask_files_are_both_named(tmp_path):
    case = _brain_case(tmp_path, {"grey": "data/grey_matter.nii.gz",
                                  "white": "data/white_matter.nii.gz"})
    result = CliRunner().invoke(main, ["validate", str(case)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    for key, name in (("geometry.masks.grey", "grey_matter.nii.gz"),
                      ("geometry.masks.white", "white_matter.nii.gz")):
        assert key in output and name in output, output
    assert "arteries.nii.gz" not in output, output


def test_missing_brain_data_say_where_to_get_them(tmp_path):
    folder = "shared/data/brain-hodneland2019"
    case = _brain_case(tmp_path, {"grey": f"{folder}/grey_matter.nii.gz",
                                  "white": f"{folder}/white_matter.nii.gz"})
    result = CliRunner().invoke(main, ["validate", str(case)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "Hodneland" in output and "CC BY 4.0" in output, output
    assert "../shared/data/brain-hodneland2019/" in output and "--set" in output, output
