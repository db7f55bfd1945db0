"""The command line through click's CliRunner: run, validate, info, cases, --set."""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest
import tomli_w
from click.testing import CliRunner

from perfusion.cli import main
from perfusion.library.cases import builtin_cases


def _write(liver_dict, tmp_path):
    path = tmp_path / "liver.toml"
    path.write_text(tomli_w.dumps(liver_dict))
    return path


def test_run_writes_results_and_prints_a_summary(liver_dict, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(_write(liver_dict, tmp_path)), "-o", str(out),
                                       "--backend", "numpy", "--set", "grid.shape=[20,18,16]",
                                       "--set", 'grid.spacing="5 mm"'])
    assert result.exit_code == 0, result.output
    assert "catheter territory" in result.output and "tumor" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["grid"]["shape"] == [20, 18, 16]
    assert metrics["grid"]["spacing_m"] == [0.005] * 3
    assert metrics["backend"] == "numpy"


#: Built-in cases whose data live beside the checkout (../shared/data), not in the repository.
EXTERNAL_DATA = {"brain_mca": Path(__file__).parents[3] / "shared/data/brain-hodneland2019"}


def test_validate_accepts_every_builtin_case():
    cases = builtin_cases()
    assert {"liver_hai", "liver_lits", "liver_tree_lobar", "brain_mca"} <= set(cases)
    missing = [name for name, folder in EXTERNAL_DATA.items() if not folder.is_dir()]
    runnable = [str(path) for name, path in cases.items() if name not in missing]
    result = CliRunner().invoke(main, ["validate", *runnable])
    assert result.exit_code == 0, result.output
    assert result.output.count("valid") == len(runnable)
    if missing:
        pytest.skip(f"validated all but {missing}: their data are not beside this checkout")


def test_cases_lists_and_copies(tmp_path):
    listing = CliRunner().invoke(main, ["cases"])
    assert listing.exit_code == 0 and "liver_hai" in listing.output and "Demo" in listing.output
    copied = CliRunner().invoke(main, ["cases", "liver_hai", "--copy", str(tmp_path)])
    assert copied.exit_code == 0
    assert (tmp_path / "liver_hai.toml").read_text() == builtin_cases()["liver_hai"].read_text()
    missing = CliRunner().invoke(main, ["cases", "kidney"])
    assert missing.exit_code == 1 and "no built-in case 'kidney'" in missing.output


def test_info_lists_backends():
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0
    assert "numpy" in result.output and "cupy" in result.output and "perfusion" in result.output


def test_explicit_cupy_without_gpu_fails_clearly(liver_dict, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)   # no CuPy (nor the tests' stand-in)
    result = CliRunner().invoke(main, ["run", str(_write(liver_dict, tmp_path)),
                                       "-o", str(tmp_path / "o"), "--backend", "cupy"])
    assert result.exit_code == 1
    assert "backend 'cupy' was requested but cannot be used" in result.output
    assert "--backend numpy" in result.output
    assert not (tmp_path / "o").exists()


def test_output_dir_that_is_not_a_result_is_refused_before_work(liver_dict, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["run", str(_write(liver_dict, tmp_path)), "-o", str(out)])
    assert result.exit_code == 1 and "is not a perfusion result" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_module_entry_point(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "perfusion", "--help"], capture_output=True,
                               text=True, check=True)
    assert "validate" in completed.stdout and "run" in completed.stdout
