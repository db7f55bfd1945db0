"""The README's case reference is generated from the schema and must be current."""
from pathlib import Path

from perfusion.case.docs import END, START, case_reference, update_readme
from perfusion.case.schema import Case

README = Path(__file__).parents[2] / "README.md"


def test_readme_case_reference_is_current():
    text = README.read_text(encoding="utf-8")
    assert f"{START}\n{case_reference()}\n{END}" in text, "run `make docs` and commit README.md"


def test_readme_generated_tables_are_current(tmp_path):
    copy = tmp_path / "README.md"
    copy.write_text(README.read_text(encoding="utf-8"), encoding="utf-8")
    assert not update_readme(copy), "run `make docs` and commit README.md"


def test_reference_lists_every_top_level_table():
    reference = case_reference()
    for name in Case.model_fields:
        assert f"`{name}" in reference, name


def test_readme_quick_start():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
