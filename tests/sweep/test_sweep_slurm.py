"""SLURM scripts, generated and checked without SLURM: dask-jobqueue's and the job array."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sweep_data import GRID_SWEEP, write_sweep

from perfusion.sweep import load_sweep, write_job_array

SLURM = GRID_SWEEP + """
[slurm]
account = "proj42"
partition = "gpu-a100"
walltime = "02:30:00"
cores = 8
memory = "32GB"
"""


def test_dask_jobqueue_job_script_asks_for_a_gpu(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from perfusion.sweep.slurm import slurm_cluster

    sweep = load_sweep(write_sweep(tmp_path, SLURM))
    with slurm_cluster(sweep.spec.slurm, scheduler_options={"host": "127.0.0.1",
                                                            "dashboard_address": None}) as cluster:
        script = cluster.job_script()
    for line in ["#SBATCH --gres=gpu:1", "#SBATCH -A proj42", "#SBATCH -p gpu-a100",
                 "#SBATCH -t 02:30:00", "#SBATCH --cpus-per-task=8"]:
        assert line in script, line
    assert sys.executable in script and "distributed.cli.dask_worker" in script


def test_job_array_runs_each_member_from_the_manifest(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, SLURM))
    manifest, script = write_job_array(sweep, tmp_path / "out", [0, 1, 2, 4, 5])
    text = script.read_text()
    for line in ["#SBATCH --array=0-2,4-5", "#SBATCH --gres=gpu:1", "#SBATCH --account=proj42",
                 "#SBATCH --partition=gpu-a100", "#SBATCH --time=02:30:00",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32GB",
                 'MEMBER=$(printf "%04d" "$SLURM_ARRAY_TASK_ID")']:
        assert line in text, line
    command = text.strip().splitlines()[-1]
    assert command.startswith(f"{sys.executable} -m perfusion run --manifest {manifest}")
    assert '--index "$SLURM_ARRAY_TASK_ID"' in command
    assert f'-o "{tmp_path / "out" / "members"}/$MEMBER"' in command and "--resume" in command
    subprocess.run(["bash", "-n", str(script)], check=True)  # valid shell
    members = json.loads(manifest.read_text())["members"]
    assert len(members) == 6 and members[4]["case"]["catheter"]["inlets"] == ["caudal"]


def test_an_array_task_runs_its_member(tmp_path):
    """Run task 3 of the array as SLURM would, with the variables SLURM sets."""
    sweep = load_sweep(write_sweep(tmp_path, SLURM))
    _, script = write_job_array(sweep, tmp_path / "out", [3])
    env = {"SLURM_ARRAY_TASK_ID": "3", "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", str(script)], check=True, env=env, capture_output=True)
    metrics = json.loads((tmp_path / "out" / "members" / "0003" / "metrics.json").read_text())
    assert metrics["case"] == "small-0003"
    from perfusion.sweep import summarize

    rows = summarize(sweep, tmp_path / "out").rows
    assert [r["status"] for r in rows] == ["missing"] * 3 + ["done"] + ["missing"] * 2
