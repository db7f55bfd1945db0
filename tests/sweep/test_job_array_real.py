"""The job array on a real SLURM (CI starts a single-node one: ../shared/recipes/single-node-slurm.sh).

A two-member sweep whose member 1 fails on purpose (its inlet is outside the organ) is emitted
with ``perfusion sweep --emit slurm-array`` (one task at a time: ``array_limit = 1``),
submitted with ``sbatch`` together with its summary job
(``sbatch --dependency=afterany:$ARRAY DIR/sweep_summary.sbatch``), and waited for by job id
(bounded; our jobs are cancelled on the way out). The summary job must have run after both
tasks and failed (exit 1: a member failed); ``--summary-only`` run here must find member 1's
error text, write it to ``errors.json`` and ``summary.csv`` and exit 1; the logs are in
``DIR/logs``. Skipped, with the reason, only where SLURM is absent; every job has its own
name, so other users' jobs on the same cluster are neither looked at nor cancelled.
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from sweep_data import ONE_FAILING_SWEEP, write_sweep

from perfusion.cli import main

pytestmark = pytest.mark.slow

#: Bound on the wait for the two tasks and the summary job (about 10 s when the node is free).
WAIT_SECONDS = 150


def _slurm_problem() -> str | None:
    """Why SLURM cannot be used here (None when it can)."""
    missing = [tool for tool in ("sbatch", "squeue", "sinfo", "scontrol") if not shutil.which(tool)]
    if missing:
        return f"SLURM is not installed here ({', '.join(missing)} not on PATH)"
    try:
        sinfo = subprocess.run(["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True,
                               timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer in 20 s: no SLURM controller is running"
    if sinfo.returncode != 0:
        return f"sinfo failed: {sinfo.stderr.strip()} (no SLURM controller is running)"
    return None


SLURM_PROBLEM = _slurm_problem()


def _has_gpus() -> bool:
    sinfo = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True)
    return "gpu" in sinfo.stdout


def _submit(*arguments) -> str:
    done = subprocess.run(["sbatch", "--parsable", *map(str, arguments)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, f"sbatch {arguments} failed: {done.stderr}"
    return done.stdout.strip().split(";")[0]


def _queued(job_ids: list[str]) -> list[str]:
    squeue = subprocess.run(["squeue", "-h", "-j", ",".join(job_ids), "-o", "%i %T %R"],
                            capture_output=True, text=True, timeout=30)
    return squeue.stdout.split("\n")[:-1] if squeue.returncode == 0 else []


def _job_field(job_id: str, field: str) -> str:
    shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True,
                           text=True, timeout=30).stdout
    return next(part.split("=", 1)[1] for part in shown.split() if part.startswith(f"{field}="))


@pytest.mark.skipif(SLURM_PROBLEM is not None, reason=str(SLURM_PROBLEM))
def test_job_array_records_the_failure_and_its_summary_job_runs_after_it(tmp_path):
    name = f"real{uuid.uuid4().hex[:8]}"
    gpus = 1 if _has_gpus() else 0
    path = write_sweep(tmp_path, ONE_FAILING_SWEEP.replace('"onefails"', f'"{name}"') + f"""
[slurm]
walltime = "00:05:00"
cores = 1
memory = "1GB"
gpus_per_worker = {gpus}
array_limit = 1
""")
    out = tmp_path / "out"
    emitted = CliRunner().invoke(main, ["sweep", str(path), "-o", str(out), "--emit",
                                        "slurm-array"])
    assert emitted.exit_code == 0, emitted.output
    script = (out / "sweep_array.sbatch").read_text()
    assert "#SBATCH --array=0-1%1\n" in script and f"#SBATCH --job-name=perfusion-{name}\n" in script
    jobs = [_submit(out / "sweep_array.sbatch")]
    try:
        jobs.append(_submit(f"--dependency=afterany:{jobs[0]}", out / "sweep_summary.sbatch"))
        deadline = time.monotonic() + WAIT_SECONDS
        while (queued := _queued(jobs)) and time.monotonic() < deadline:
            time.sleep(1)
        assert not queued, f"our jobs were not done in {WAIT_SECONDS} s: {queued}"
    finally:
        subprocess.run(["scancel", *jobs], capture_output=True, timeout=30)
    array, summary_job = jobs
    # the summary job ran after both tasks (it saw one done, one failed) and exited 1
    assert _job_field(summary_job, "ExitCode") == "1:0"
    with open(out / "summary.csv", newline="") as handle:
        assert [r["status"] for r in csv.DictReader(handle)] == ["done", "failed"]
    assert "member 0001 failed: GeometryError" in (out / "logs" / f"summary_{summary_job}.out").read_text()
    # each task's log is in DIR/logs; the failing one has the error message
    assert "outside the tissue" in (out / "logs" / f"{array}_1.out").read_text()
    assert "results:" in (out / "logs" / f"{array}_0.out").read_text()
    error = json.loads((out / "members" / "0001.error.json").read_text())
    assert error["slurm_job"] == f"{array}_1" and error["error"].startswith("GeometryError: ")
    # --summary-only here finds the same error and exits 1
    for made in ("summary.csv", "errors.json"):
        (out / made).unlink()
    summary = subprocess.run([sys.executable, "-m", "perfusion", "sweep", str(path), "-o", str(out),
                              "--summary-only"], capture_output=True, text=True, timeout=120)
    assert summary.returncode == 1, summary.stdout + summary.stderr
    assert json.loads((out / "errors.json").read_text()) == {"1": error["error"]}
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["status"], r["error"]) for r in rows] == [("done", ""), ("failed", error["error"])]
    assert float(rows[0]["auc_tumor"]) > 0


@pytest.mark.skipif(SLURM_PROBLEM is not None, reason=str(SLURM_PROBLEM))
def test_shipped_sweep_is_accepted_by_this_cluster(tmp_path):
    """cases/catheter_sweep.toml's job array passes ``sbatch --test-only`` on the cluster's
    default partition (the shipped file names none), and with ``--partition`` set to one of its
    partitions; nothing is submitted. (It asks one GPU per member: a cluster without GPUs
    refuses the array, never the summary job.)"""
    shipped = Path(__file__).parents[2] / "cases" / "catheter_sweep.toml"
    partition = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True,
                               timeout=30).stdout.split()[0].rstrip("*")
    for extra in ([], ["--partition", partition]):
        out = tmp_path / f"out{len(extra)}"
        emitted = CliRunner().invoke(main, ["sweep", str(shipped), "-o", str(out),
                                            "--emit", "slurm-array", *extra])
        assert emitted.exit_code == 0, emitted.output
        for script in ("sweep_array.sbatch", "sweep_summary.sbatch"):
            tested = subprocess.run(["sbatch", "--test-only", str(out / script)],
                                    capture_output=True, text=True, timeout=30)
            if script == "sweep_array.sbatch" and not _has_gpus():
                assert tested.returncode != 0 and "gres" in tested.stderr.lower(), tested.stderr
                continue
            assert tested.returncode == 0, f"{script} {extra}: {tested.stderr}"
            assert "to start at" in tested.stderr
