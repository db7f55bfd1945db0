"""SLURM scripts, generated and checked without SLURM: dask-jobqueue's and the job array."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sweep_data import GRID_SWEEP, ONE_FAILING_SWEEP, write_sweep

from perfusion.cli import main
from perfusion.sweep import SweepError, load_sweep, write_job_array
from perfusion.sweep.slurm import TaskTerminated, array_task_errors, error_file, recorded_failure
from perfusion.sweep.summary import MISSING

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
                 'MEMBER=$(printf "%04d" "$SLURM_ARRAY_TASK_ID")',
                 # threads from the task's cores, not every core of the node
                 "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}",
                 "export PERFUSION_THREADS=${SLURM_CPUS_PER_TASK:-1}"]:
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


SITE = """
[slurm]
account = "proj42"
partition = "gpu-a100"
qos = "long"
constraint = "a100|h100"
gres = "gpu:a100:1"
gpus_per_task = 1
extra_directives = ["--exclusive", "#SBATCH --mail-type=END"]
prologue = ["module load cuda/12.2", "export OMP_NUM_THREADS=4"]
interface = "lo"
log_dir = "slurm-logs"
array_limit = 3
pending_timeout = 120
"""


def test_site_settings_reach_the_dask_jobqueue_script(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from perfusion.sweep.slurm import slurm_cluster

    sweep = load_sweep(write_sweep(tmp_path, GRID_SWEEP + SITE))
    assert sweep.spec.slurm.pending_timeout == 120.0
    with slurm_cluster(sweep.spec.slurm, tmp_path / "out",
                       scheduler_options={"dashboard_address": None}) as cluster:
        script = cluster.job_script()
    for line in ["#SBATCH --qos=long", "#SBATCH --constraint=a100|h100",
                 "#SBATCH --gres=gpu:a100:1", "#SBATCH --gpus-per-task=1", "#SBATCH --exclusive",
                 "#SBATCH --mail-type=END", f"#SBATCH -e {tmp_path / 'out' / 'slurm-logs'}/",
                 "module load cuda/12.2\nexport OMP_NUM_THREADS=4\n"]:
        assert line in script, line
    assert "--gres=gpu:1" not in script and "--interface lo" in script
    assert (tmp_path / "out" / "slurm-logs").is_dir()


def test_site_settings_throttle_and_summary_job_of_the_array(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, GRID_SWEEP + SITE))
    _, script = write_job_array(sweep, tmp_path / "out", [0, 1, 2, 4])
    text = script.read_text()
    logs = tmp_path / "out" / "slurm-logs"
    for line in ["#SBATCH --array=0-2,4%3", "#SBATCH --qos=long", "#SBATCH --constraint=a100|h100",
                 "#SBATCH --gres=gpu:a100:1", "#SBATCH --gpus-per-task=1", "#SBATCH --exclusive",
                 "#SBATCH --mail-type=END", f"#SBATCH --output={logs}/%A_%a.out",
                 "module load cuda/12.2\nexport OMP_NUM_THREADS=4\nset -euo pipefail"]:
        assert line in text, line
    assert "--gres=gpu:1" not in text
    summary = (tmp_path / "out" / "sweep_summary.sbatch").read_text()
    for line in ["#SBATCH --job-name=perfusion-small-summary", "#SBATCH --cpus-per-task=1",
                 "#SBATCH --account=proj42", "#SBATCH --qos=long", "#SBATCH --exclusive",
                 f"#SBATCH --output={logs}/summary_%j.out", "module load cuda/12.2"]:
        assert line in summary, line
    assert "gpu" not in summary.replace("a100|h100", "").replace("gpu-a100", "")
    assert summary.strip().splitlines()[-1] == (
        f"{sys.executable} -m perfusion sweep {tmp_path / 'sweep.toml'} -o {tmp_path / 'out'} "
        "--summary-only")
    for path in (script, tmp_path / "out" / "sweep_summary.sbatch"):
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_default_gpu_request_and_no_throttle(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, SLURM))
    text = write_job_array(sweep, tmp_path / "out", [0, 1])[1].read_text()
    assert "#SBATCH --array=0-1\n" in text and text.count("--gres") == 1
    assert "gpus-per-task" not in text and f"--output={tmp_path / 'out' / 'logs'}/%A_%a.out" in text


def test_extra_directive_that_is_not_an_option_names_the_key(tmp_path):
    path = write_sweep(tmp_path, GRID_SWEEP + '[slurm]\nextra_directives = ["exclusive"]\n')
    with pytest.raises(SweepError, match=r"slurm.extra_directives: 'exclusive' is not an sbatch "
                                         r"option; write it as on the sbatch command line"):
        load_sweep(path)


def test_failed_array_task_is_in_errors_json_summary_csv_and_the_exit_code(tmp_path):
    """Task 1 fails (inlet outside the organ), task 0 never ran: --summary-only says both, exit 1."""
    path = write_sweep(tmp_path, ONE_FAILING_SWEEP)
    out = tmp_path / "out"
    _, script = write_job_array(load_sweep(path), out, [0, 1])
    task = subprocess.run(["bash", str(script)], env={"SLURM_ARRAY_TASK_ID": "1",
                                                      "SLURM_ARRAY_JOB_ID": "77",
                                                      "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert task.returncode == 1 and "outside the tissue" in task.stderr
    recorded = json.loads((out / "members" / "0001.error.json").read_text())
    assert recorded["error"].startswith("GeometryError: ") and "outside the tissue" in recorded["error"]
    assert recorded["slurm_job"] == "77_1" and "Traceback" in recorded["traceback"]
    result = CliRunner().invoke(main, ["sweep", str(path), "-o", str(out), "--summary-only"])
    assert result.exit_code == 1, result.output
    assert "member 0001 failed: GeometryError" in result.output
    assert json.loads((out / "errors.json").read_text()) == {"1": recorded["error"]}
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["status"], r["error"]) for r in rows] == [("missing", MISSING),
                                                         ("failed", recorded["error"])]


def test_recorded_failure_on_sigterm_and_cleared_on_success(tmp_path):
    folder = tmp_path / "members" / "0004"
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TaskTerminated), recorded_failure(folder):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    text = json.loads(error_file(folder).read_text())["error"]
    assert text.startswith("TaskTerminated: the task got SIGTERM (wall time reached")
    assert array_task_errors(tmp_path) == {4: text}
    with recorded_failure(folder):  # the task run again, and it succeeds
        pass
    assert not error_file(folder).exists() and array_task_errors(tmp_path) == {}
    with recorded_failure(None):  # a plain `perfusion run`: nothing recorded
        pass
    assert list((tmp_path / "members").iterdir()) == []


def test_shipped_sweep_uses_the_default_partition_unless_told(tmp_path):
    """cases/catheter_sweep.toml names no partition (sites differ); --partition picks one."""
    shipped = Path(__file__).parents[2] / "cases" / "catheter_sweep.toml"
    for extra, expected in [([], None), (["--partition", "debug"], "#SBATCH --partition=debug")]:
        out = tmp_path / f"out{len(extra)}"
        result = CliRunner().invoke(main, ["sweep", str(shipped), "-o", str(out),
                                           "--emit", "slurm-array", *extra])
        assert result.exit_code == 0, result.output
        text = (out / "sweep_array.sbatch").read_text()
        assert [line for line in text.splitlines() if "--partition" in line] == (
            [expected] if expected else [])
        assert "#SBATCH --cpus-per-task=2\n" in text and "#SBATCH --gres=gpu:1\n" in text


def test_recorded_failure_off_the_main_thread_still_writes_the_error(tmp_path):
    """Signal handlers can only be set in the main thread: elsewhere the error is still kept."""
    import threading

    folder, raised = tmp_path / "members" / "0002", []

    def task():
        try:
            with recorded_failure(folder):
                raise RuntimeError("boom")
        except RuntimeError as exc:
            raised.append(str(exc))

    thread = threading.Thread(target=task)
    thread.start()
    thread.join()
    assert raised == ["boom"]
    assert json.loads(error_file(folder).read_text())["error"] == "RuntimeError: boom"
