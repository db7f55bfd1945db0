"""Sweep files: expansion, seeded samples, and every kind of bad file."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from sweep_data import GRID_SWEEP, write_sweep

from perfusion.sweep import SweepError, load_sweep, summarize
from perfusion.sweep.execute import member_directory
from perfusion.sweep.sampling import numeric


def test_grid_is_the_cartesian_product_of_the_lists(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path))
    assert len(sweep.members) == 6
    assert [m.parameters for m in sweep.members[:2]] == [
        {"catheter.inlets": ["right"], "infusion.0.dose": "20 mg"},
        {"catheter.inlets": ["right"], "infusion.0.dose": "40 mg"}]
    last = sweep.members[-1].case
    assert last["catheter"]["inlets"] == ["caudal"] and last["infusion"][0]["dose"] == "40 mg"
    assert last["case"]["name"] == "small-0005"
    assert len({m.key for m in sweep.members}) == 6


SAMPLED = """
[sweep]
name = "uq"
base = "base.toml"
set = ["simulation.duration=\\"20 min\\""]

[samples]
method = "{method}"
count = 5
seed = {seed}
[samples.parameters."tissue.tumor.perfusion"]
distribution = "log-uniform"
low = 20
high = 80
unit = "mL/min/(100 mL)"
[samples.parameters."blood.hematocrit"]
distribution = "normal"
mean = 0.45
std = 0.02
"""


@pytest.mark.parametrize("method", ["random", "latin-hypercube"])
def test_samples_are_reproducible_from_their_seed(tmp_path, method):
    first = load_sweep(write_sweep(tmp_path, SAMPLED.format(method=method, seed=3)))
    again = load_sweep(write_sweep(tmp_path, SAMPLED.format(method=method, seed=3)))
    other = load_sweep(write_sweep(tmp_path, SAMPLED.format(method=method, seed=4)))
    params = [m.parameters for m in first.members]
    assert params == [m.parameters for m in again.members]
    assert params != [m.parameters for m in other.members]
    perfusion = np.array([numeric(p["tissue.tumor.perfusion"]) for p in params])
    assert len(params) == 5 and np.all((perfusion >= 20) & (perfusion <= 80))
    assert params[0]["tissue.tumor.perfusion"].endswith(" mL/min/(100 mL)")
    assert first.members[0].case["simulation"]["duration"] == "20 min"
    if method == "latin-hypercube":  # one sample in each fifth of the (log) range
        strata = np.floor(5 * np.log(perfusion / 20) / np.log(4)).astype(int)
        assert sorted(strata) == [0, 1, 2, 3, 4]


def test_sobol_design_has_n_times_d_plus_2_members(tmp_path):
    pytest.importorskip("SALib")  # the Saltelli design comes from SALib, an optional extra
    sweep = load_sweep(write_sweep(tmp_path, SAMPLED.format(method="sobol", seed=1)
                                   .replace("count = 5", "count = 4")))
    assert len(sweep.members) == 4 * (2 + 2)



def test_sobol_without_salib_names_the_extra(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == "SALib" or n.startswith("SALib.")] + [
            "SALib", "SALib.sample"]:
        monkeypatch.setitem(sys.modules, name, None)  # any import of SALib now fails
    with pytest.raises(SweepError, match=r"samples.method = 'sobol' needs SALib.*perfusion-ia\[sweep\]"):
        load_sweep(write_sweep(tmp_path, SAMPLED.format(method="sobol", seed=1)))

@pytest.mark.parametrize("text, expected", [
    (GRID_SWEEP + "\n[extra]\nx = 1\n", "extra: unknown key"),
    (GRID_SWEEP.replace('name = "small"', 'name = "small"\nbse = "x"'), "sweep.bse: unknown key"),
    (GRID_SWEEP.replace('["20 mg", "40 mg"]', "[]"), "empty list of values"),
    (GRID_SWEEP.replace('"infusion.0.dose"', '"tissue.tumor.perfusionn"'),
     "not a case key: tissue.tumor has no 'perfusionn'"),
    (GRID_SWEEP.replace('"infusion.0.dose"', '"infusion.dose"'), "infusion is a list: give an index"),
    (GRID_SWEEP.replace('"infusion.0.dose"', '"catheter.supply.x"'), "catheter.supply is a value"),
    (GRID_SWEEP.replace('"infusion.0.dose"', '"infusion.3.dose"'), "expected an index 0…0"),
    (GRID_SWEEP.replace('base.toml', 'missing.toml'), "sweep.base: case file"),
    (GRID_SWEEP.replace('"20 mg"', '"20 mL"'), "member 0 (catheter.inlets=['right'], "
                                               "infusion.0.dose='20 mL') is not a valid case"),
    ('[sweep]\nname = "x"\nbase = "base.toml"\n', "nothing to vary"),
    ("[sweep\n", "not valid TOML"),
    ('[sweep]\nname = "x"\nbase = "base.toml"\n[samples]\ncount = 0\n'
     '[samples.parameters."blood.hematocrit"]\ndistribution = "uniform"\nlow = 0.3\nhigh = 0.5\n',
     "samples.count: the sample count must be at least 1"),
    ('[sweep]\nname = "x"\nbase = "base.toml"\n[samples]\ncount = 3\n'
     '[samples.parameters."blood.hematocrit"]\ndistribution = "uniform"\nlow = 0.5\nhigh = 0.5\n',
     "empty range: low (0.5) must be below high (0.5)"),
    ('[sweep]\nname = "x"\nbase = "base.toml"\n[samples]\ncount = 3\n'
     '[samples.parameters."blood.hematocrit"]\ndistribution = "normal"\nmean = 0.4\n',
     "a normal distribution needs mean and std"),
    ('[sweep]\nname = "x"\nbase = "base.toml"\n[samples]\ncount = 3\nparameters = {}\n',
     "give at least one parameter to sample"),
])
def test_bad_sweep_files_name_file_key_and_fix(tmp_path, text, expected):
    path = write_sweep(tmp_path, text)
    with pytest.raises(SweepError) as error:
        load_sweep(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_missing_sweep_file(tmp_path):
    with pytest.raises(SweepError, match="sweep file not found"):
        load_sweep(tmp_path / "nope.toml")


def _sampled_sweep_with_fake_results(tmp_path):
    """A 24-member random sweep whose members' metrics.json rise with the first parameter."""
    sweep = load_sweep(write_sweep(tmp_path, SAMPLED.format(method="random", seed=2)
                                   .replace("count = 5", "count = 24")))
    for member, u in zip(sweep.members, sweep.unit_samples):
        folder = member_directory(tmp_path / "out", member.index)
        folder.mkdir(parents=True)
        value = 1.0 + 3.0 * u[0] + 0.1 * u[1]
        (folder / "metrics.json").write_text(json.dumps({
            "auc": {"tumor": value, "normal": 1.0}, "tumor_to_normal_auc": value,
            "regional_advantage": 2 * value, "perfusion_mean": {"tumor": 40.0 * value}}))
    return sweep


def test_sensitivity_without_salib_says_spearman_was_used(tmp_path, monkeypatch, caplog):
    sweep = _sampled_sweep_with_fake_results(tmp_path)
    for name in [n for n in sys.modules if n == "SALib" or n.startswith("SALib.")] + [
            "SALib", "SALib.analyze", "SALib.analyze.rbd_fast", "SALib.analyze.sobol"]:
        monkeypatch.setitem(sys.modules, name, None)  # any import of SALib now fails
    result = summarize(sweep, tmp_path / "out")
    document = json.loads(result.files["sensitivity"].read_text(encoding="utf-8"))
    assert document["method"].startswith("squared Spearman rank correlation (SALib not installed")
    assert "pip install perfusion-ia[sweep]" in document["method"]
    indices = document["indices"]["tumor_to_normal_auc"]
    assert set(indices["tissue.tumor.perfusion"]) == {"rho2"}
    assert indices["tissue.tumor.perfusion"]["rho2"] > 0.9
    assert "SALib not installed" in caplog.text


def test_sensitivity_with_salib_uses_rbd_fast(tmp_path):
    pytest.importorskip("SALib")
    sweep = _sampled_sweep_with_fake_results(tmp_path)
    document = json.loads(summarize(sweep, tmp_path / "out").files["sensitivity"]
                          .read_text(encoding="utf-8"))
    assert document["method"] == "first-order indices by RBD-FAST (SALib)"
    assert set(document["indices"]["tumor_to_normal_auc"]["tissue.tumor.perfusion"]) == {"S1"}


def test_every_slurm_key_is_in_the_readme_table_and_the_guide_is_linked():
    from pathlib import Path

    from perfusion.sweep.spec import Slurm

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert set(Slurm.model_fields) <= rows, set(Slurm.model_fields) - rows
    assert "[docs/hpc.md](docs/hpc.md)" in readme
    assert Slurm().pending_timeout == 600.0 and Slurm().log_dir == "logs"
