"""Sweeps on a real SLURM: one that can run completes like serial runs, and those that cannot
go on end with a message instead of hanging (``perfusion.sweep.watch``): a rejected job
script, jobs that stay pending, every worker job cancelled, SIGTERM to the driver. Each test names its sweep uniquely and only looks at (and
cancels) the jobs of that name, so other jobs in the queue do not matter."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from sweep_data import write_base, write_sweep

from perfusion.sweep import load_sweep, run_sweep
from perfusion.sweep.summary import HEADLINE, headline
from perfusion.sweep.watch import SweepStopped

pytest.importorskip("dask_jobqueue")


def _slurm_missing() -> str | None:
    if not (shutil.which("sbatch") and shutil.which("squeue")):
        return "sbatch/squeue not installed (start SLURM with single-node-slurm.sh)"
    if subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0:
        return "sinfo fails: no SLURM controller answering"
    return None


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(_slurm_missing() is not None, reason=str(_slurm_missing()))]


def _sweep_text(name: str, **slurm) -> str:
    settings = {"partition": '"debug"', "walltime": '"00:05:00"', "cores": 1, "memory": '"1GB"',
                "workers": 2, "gpus_per_worker": 1}
    settings.update({key: json.dumps(value) for key, value in slurm.items()})
    return (f'[sweep]\nname = "{name}"\nbase = "base.toml"\n\n[grid]\n'
            '"catheter.inlets" = [["right"], ["left"]]\n"infusion.0.dose" = ["20 mg", "40 mg"]\n'
            "\n[slurm]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))


def _unique() -> str:
    return f"t18-{uuid.uuid4().hex[:6]}"


def _our_jobs(name: str) -> dict[str, str]:
    """Alive jobs of the sweep ``name`` (job names perfusion-<name>-<token>): id → state."""
    listed = subprocess.run(["squeue", "-h", "-o", "%i|%j|%T"], capture_output=True,
                            text=True).stdout.splitlines()
    return {job: state for job, job_name, state in (line.split("|") for line in listed)
            if job_name.startswith(f"perfusion-{name}-")}


@pytest.fixture
def on_loopback(monkeypatch, tmp_path):
    monkeypatch.setenv("DASK_JOBQUEUE__SLURM__INTERFACE", "lo")
    monkeypatch.chdir(tmp_path)  # dask-jobqueue's slurm-<id>.out logs


def test_bad_partition_fails_within_a_minute_naming_the_key(tmp_path, on_loopback):
    name = _unique()
    sweep = load_sweep(write_sweep(tmp_path, _sweep_text(name, partition="gpu-nonexistent")))
    start = time.monotonic()
    with pytest.raises(SweepStopped) as stopped:
        run_sweep(sweep, tmp_path / "out", executor="slurm")
    assert time.monotonic() - start < 60
    message = str(stopped.value)
    assert message.startswith("slurm.partition: sbatch: error: invalid partition specified: "
                              "gpu-nonexistent — set [slurm] partition to one of: ")
    assert "debug" in message and "0 of 4 members complete" in message
    assert (tmp_path / "out" / "summary.csv").read_text().count(",missing,") == 4
    assert _our_jobs(name) == {}


def test_more_cores_than_any_node_fails_quickly_with_the_reason(tmp_path, on_loopback):
    cpus = max(int(c) for c in subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True,
                                              text=True).stdout.split())
    name = _unique()
    sweep = load_sweep(write_sweep(tmp_path, _sweep_text(name, cores=64, pending_timeout=20)))
    start = time.monotonic()
    with pytest.raises(SweepStopped) as stopped:
        run_sweep(sweep, tmp_path / "out", executor="slurm")
    assert time.monotonic() - start < 40
    message = str(stopped.value)
    assert message.startswith("slurm.cores: ") and "node configuration is not available" in message
    assert f"set [slurm] cores to at most {cpus}" in message
    assert _our_jobs(name) == {}


def test_jobs_pending_past_the_timeout_end_the_sweep_with_squeue_reason(tmp_path, on_loopback):
    """A job of this test holds every GPU, so the sweep's one-GPU jobs can only pend."""
    gpus = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    count = int(gpus.strip().split(":")[-1].split("(")[0]) if "gpu" in gpus else 0
    if count == 0:
        pytest.skip("no GPUs (gres) declared in SLURM: FAKE_GPUS=0")
    name = _unique()
    blocker = subprocess.run(["sbatch", "--parsable", "-J", f"perfusion-{name}-blocker", "-o",
                              "/dev/null", f"--gres=gpu:{count}", "-t", "00:03:00", "--wrap",
                              "sleep 170"], capture_output=True, text=True, check=True).stdout
    try:
        sweep = load_sweep(write_sweep(tmp_path, _sweep_text(name, pending_timeout=20)))
        start = time.monotonic()
        with pytest.raises(SweepStopped) as stopped:
            run_sweep(sweep, tmp_path / "out", executor="slurm")
        waited = time.monotonic() - start
    finally:
        subprocess.run(["scancel", blocker.strip().split(";")[0]])
    assert 20 <= waited < 60
    message = str(stopped.value)
    assert message.startswith("slurm.pending_timeout: worker job ")
    assert "(squeue reason: Resources)" in message or "(squeue reason: Priority)" in message
    assert "0 of 4 members complete" in message
    assert set(_our_jobs(name)) <= {blocker.strip()}


def _start_sweep(tmp_path, name: str, slow: bool = False,
                 **slurm) -> tuple[subprocess.Popen, object]:
    """The sweep driver as a subprocess; ``slow`` members (a 6 h drug run in 30-s steps, a
    few seconds each) are still running when the first one finishes."""
    path = write_sweep(tmp_path, _sweep_text(name, **slurm))
    if slow:
        write_base(tmp_path, simulation={"duration": "6 h", "output_every": "6 h",
                                         "compare_iv": False, "max_step": "30 s",
                                         "backend": "numpy"})
    env = dict(os.environ, DASK_JOBQUEUE__SLURM__INTERFACE="lo")
    driver = subprocess.Popen([sys.executable, "-m", "perfusion", "sweep", str(path), "-o",
                               str(tmp_path / "out"), "--executor", "slurm"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    return driver, path


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_cancelling_every_worker_job_ends_a_resumable_sweep(tmp_path):
    from perfusion.case.loader import case_from_dict
    from perfusion.pipeline import run_case

    name = _unique()
    driver, path = _start_sweep(tmp_path, name, slow=True)
    members = tmp_path / "out" / "members"
    try:
        assert _wait_for(lambda: any(members.glob("*/metrics.json")), 75), "no member finished"
        jobs = _our_jobs(name)
        subprocess.run(["scancel", *jobs], check=True)
        output, _ = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 1, output
    assert "every worker job is gone" in output and "to resume, run the same command" in output
    finished = sorted(p.parent.name for p in members.glob("*/metrics.json"))
    assert 1 <= len(finished) < 4
    assert (tmp_path / "out" / "summary.csv").read_text().count(",done,") == len(finished)
    sweep = load_sweep(path)
    result = run_sweep(sweep, tmp_path / "out", executor="serial")  # the resume
    assert sorted(result.ran) == [i for i in range(4) if f"{i:04d}" not in finished]
    assert [r["status"] for r in result.rows] == ["done"] * 4
    for member in sweep.members:
        serial = run_case(case_from_dict(member.case, source=member.source),
                          tmp_path / "serial" / f"{member.index:04d}")
        ours = json.loads((members / f"{member.index:04d}" / "metrics.json").read_text())
        expected = {column: headline(serial.metrics)[column] for column in HEADLINE}
        got = {column: headline(ours)[column] for column in HEADLINE}
        assert got == pytest.approx(expected, rel=0, abs=0, nan_ok=True), member.index
        fields = np.load(members / f"{member.index:04d}" / "fields" / "fields.npz")
        assert np.array_equal(fields["auc"], np.load(serial.directory / "fields" / "fields.npz")["auc"])


def test_sigterm_to_the_driver_cancels_its_jobs(tmp_path):
    name = _unique()
    driver, _ = _start_sweep(tmp_path, name)
    try:
        assert _wait_for(lambda: len(_our_jobs(name)) == 2, 45), "the jobs never showed up"
        driver.send_signal(signal.SIGTERM)
        output, _ = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 1 and "stopped by SIGTERM" in output, output
    assert _our_jobs(name) == {}


def test_a_dask_jobqueue_sweep_on_slurm_completes_like_serial_runs(tmp_path):
    """Four members on two worker jobs of the real SLURM: exit 0, every member done, the
    summary's numbers and the AUC arrays those of serial runs, its jobs gone afterwards, and
    the logs in the sweep folder."""
    from perfusion.case.loader import case_from_dict
    from perfusion.pipeline import run_case

    name = _unique()
    driver, path = _start_sweep(tmp_path, name)
    try:
        output, _ = driver.communicate(timeout=240)
    finally:
        driver.kill()
    assert driver.returncode == 0, output
    members = tmp_path / "out" / "members"
    sweep = load_sweep(path)
    for member in sweep.members:
        serial = run_case(case_from_dict(member.case, source=member.source),
                          tmp_path / "serial" / f"{member.index:04d}")
        ours = json.loads((members / f"{member.index:04d}" / "metrics.json").read_text())
        assert {c: headline(ours)[c] for c in HEADLINE} == pytest.approx(
            {c: headline(serial.metrics)[c] for c in HEADLINE}, rel=0, abs=0, nan_ok=True)
        fields = np.load(members / f"{member.index:04d}" / "fields" / "fields.npz")
        assert np.array_equal(fields["auc"],
                              np.load(serial.directory / "fields" / "fields.npz")["auc"])
    assert _wait_for(lambda: not _our_jobs(name), 30), "its worker jobs are still queued"
    assert any((tmp_path / "out" / "logs").glob("*.err")) or any(
        (tmp_path / "out" / "logs").glob("*.out")), "no worker log in the sweep folder"
