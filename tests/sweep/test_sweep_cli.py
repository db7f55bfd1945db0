"""``perfusion sweep`` and ``perfusion run --manifest/--index`` on the command line."""
from __future__ import annotations

from click.testing import CliRunner

from sweep_data import GRID_SWEEP, write_sweep

from perfusion.cli import main


def test_emit_slurm_array_with_command_line_overrides(tmp_path):
    path = write_sweep(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(path), "-o", str(out), "--emit", "slurm-array",
                                       "--account", "lab7", "--partition", "h100",
                                       "--walltime", "00:20:00"])
    assert result.exit_code == 0, result.output
    assert "6 members" in result.output and "job array (6 tasks)" in result.output
    script = (out / "sweep_array.sbatch").read_text()
    for line in ["#SBATCH --array=0-5", "#SBATCH --account=lab7", "#SBATCH --partition=h100",
                 "#SBATCH --time=00:20:00", "#SBATCH --gres=gpu:1"]:
        assert line in script, line
    assert (out / "manifest.json").exists() and not (out / "members").exists()


def test_bad_sweep_file_is_one_message_and_exit_1(tmp_path):
    path = write_sweep(tmp_path, GRID_SWEEP.replace('"infusion.0.dose"', '"infusion.0.dos"'))
    result = CliRunner().invoke(main, ["sweep", str(path)])
    assert result.exit_code == 1
    assert "infusion.0.dos" in result.output and "not a case key" in result.output


def test_run_needs_a_case_or_a_manifest_with_an_index(tmp_path):
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1 and "give a CASE file, or --manifest" in result.output
    manifest = tmp_path / "m.json"
    manifest.write_text('{"members": []}')
    result = CliRunner().invoke(main, ["run", "--manifest", str(manifest), "--index", "2"])
    assert result.exit_code == 1 and "no member 2" in result.output
    result = CliRunner().invoke(main, ["run", "--manifest", str(manifest)])
    assert result.exit_code == 1 and "--manifest needs --index" in result.output
