"""Running sweeps: the Dask LocalCluster against serial runs, failures and re-runs, determinism."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from sweep_data import GRID_SWEEP, write_sweep

from perfusion.case.loader import case_from_dict
from perfusion.pipeline import run_case
from perfusion.sweep import load_sweep, run_sweep
from perfusion.sweep.summary import HEADLINE, headline

pytest.importorskip("distributed")


def _read_summary(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_local_cluster_summary_equals_serial_runs(tmp_path):
    """Six members, two parameters, on a 2-worker LocalCluster bound to 127.0.0.1."""
    sweep = load_sweep(write_sweep(tmp_path))
    result = run_sweep(sweep, tmp_path / "out", executor="local", workers=2)
    assert result.ran == list(range(6)) and not result.failed
    rows = _read_summary(tmp_path / "out" / "summary.csv")
    assert [r["status"] for r in rows] == ["done"] * 6
    assert rows[1]["catheter.inlets"] == '["right"]' and rows[1]["infusion.0.dose"] == "40 mg"
    for member, row in zip(sweep.members, rows):
        serial = run_case(case_from_dict(member.case, source=member.source),
                          tmp_path / "serial" / f"{member.index:04d}")
        expected = headline(serial.metrics)
        for column in HEADLINE:
            if math.isnan(expected[column]):
                assert row[column] == "nan"
            else:
                assert float(row[column]) == expected[column], (member.index, column)
        ours = np.load(tmp_path / "out" / "members" / f"{member.index:04d}" / "fields" / "fields.npz")
        theirs = np.load(serial.directory / "fields" / "fields.npz")
        assert np.array_equal(ours["auc"], theirs["auc"])
    # the members differ: the catheter position matters
    assert len({row["tumor_to_normal_auc"] for row in rows}) == 6
    assert (tmp_path / "out" / "summary.png").exists()
    # a second run finds everything complete and runs nothing
    assert run_sweep(sweep, tmp_path / "out", executor="local", workers=2).ran == []


def test_failing_member_is_recorded_and_only_it_reruns(tmp_path):
    """A member whose inlet is moved outside the organ fails at run time; the rest finish."""
    text = GRID_SWEEP.replace('"infusion.0.dose" = ["20 mg", "40 mg"]',
                              '"supplies.0.inlets.2.position" = [["48 mm", "30 mm", "24 mm"], '
                              '["1 mm", "1 mm", "1 mm"]]')
    text = text.replace('[["right"], ["left"], ["caudal"]]', '[["right"], ["caudal"]]')
    sweep = load_sweep(write_sweep(tmp_path, text))
    out = tmp_path / "out"
    result = run_sweep(sweep, out, executor="serial")
    assert sorted(result.failed) == [1, 3]
    assert "outside the tissue" in result.failed[1]
    rows = _read_summary(out / "summary.csv")
    assert [r["status"] for r in rows] == ["done", "failed", "done", "failed"]
    assert "GeometryError" in rows[3]["error"] and rows[3]["auc_tumor"] == "nan"
    assert not (out / "members" / "0001").exists()
    done_before = (out / "members" / "0000" / "metrics.json").stat().st_mtime_ns
    # fix the bad value: only the failed members run again, the others are kept
    fixed = write_sweep(tmp_path, text.replace('["1 mm", "1 mm", "1 mm"]', '["50 mm", "30 mm", "24 mm"]'))
    rerun = run_sweep(load_sweep(fixed), out, executor="serial")
    assert rerun.ran == [1, 3] and not rerun.failed
    assert (out / "members" / "0000" / "metrics.json").stat().st_mtime_ns == done_before
    assert [r["status"] for r in _read_summary(out / "summary.csv")] == ["done"] * 4
    assert json.loads((out / "errors.json").read_text()) == {}


def test_incomplete_member_folder_is_rerun(tmp_path):
    """A member folder without metrics.json (e.g. killed) is not complete."""
    text = GRID_SWEEP.replace('[["right"], ["left"], ["caudal"]]', '[["right"]]')
    sweep = load_sweep(write_sweep(tmp_path, text))
    out = tmp_path / "out"
    run_sweep(sweep, out, executor="serial")
    (out / "members" / "0001" / "metrics.json").unlink()
    assert run_sweep(sweep, out, executor="serial").ran == [1]


def test_same_case_twice_gives_identical_fields(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path))
    member = sweep.members[0]
    first = run_case(case_from_dict(member.case, source=member.source), tmp_path / "a")
    second = run_case(case_from_dict(member.case, source=member.source), tmp_path / "b")
    a = np.load(first.directory / "fields" / "fields.npz")
    b = np.load(second.directory / "fields" / "fields.npz")
    assert a.files == b.files
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name


def test_slurm_workers_run_one_member_per_gpu_with_the_cores_shared_out(tmp_path):
    """2 GPUs and 8 cores per job: 2 Dask threads (members), 4 CPU threads each, 8 CPUs asked."""
    pytest.importorskip("dask_jobqueue")
    from perfusion.sweep.execute import gpu_worker_options
    from perfusion.sweep.slurm import slurm_cluster

    slurm = load_sweep(write_sweep(tmp_path)).spec.slurm.model_copy(
        update={"gpus_per_worker": 2, "cores": 8})
    with slurm_cluster(slurm, scheduler_options={"host": "127.0.0.1", "dashboard_address": None},
                       **gpu_worker_options(slurm)) as cluster:
        script = cluster.job_script()
    assert "--nthreads 2" in script and "#SBATCH --cpus-per-task=8" in script
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        assert f"export {variable}=4" in script
    cpu_only = slurm.model_copy(update={"gpus_per_worker": 0, "cores": 3})
    assert gpu_worker_options(cpu_only)["cores"] == 1
    assert "export OMP_NUM_THREADS=3" in gpu_worker_options(cpu_only)["job_script_prologue"]


def test_lost_worker_jobs_are_replaced_up_to_the_maximum_then_the_sweep_stops(tmp_path, monkeypatch):
    """squeue (monkeypatched) says job 11 was cancelled while 12 runs: one replacement is asked
    for; once both are gone and no worker is connected, the sweep stops naming them."""
    from types import SimpleNamespace

    from perfusion.sweep import watch

    class Cluster:
        def __init__(self):
            self.workers = {"a": SimpleNamespace(job_id="11"), "b": SimpleNamespace(job_id="12")}
            self.worker_spec = {"a": {}, "b": {}}
            self.scaled = []

        def scale(self, jobs):
            self.scaled.append(jobs)

    slurm = load_sweep(write_sweep(tmp_path)).spec.slurm.model_copy(update={"workers": 2})
    cluster = Cluster()
    states = {"11": ("CANCELLED", "None"), "12": ("RUNNING", "None")}
    monkeypatch.setattr(watch, "queue_states", lambda name: dict(states))
    client = SimpleNamespace(nthreads=lambda: {"tcp://w": 1})
    checker = watch.SlurmWatch(cluster, slurm, "perfusion-x", jobs=2)
    checker.check(client)
    assert cluster.scaled == [2] and checker.replaced == 1 and set(cluster.workers) == {"b"}
    states["12"] = ("TIMEOUT", "None")
    with pytest.raises(watch.SweepStopped, match=r"every worker job is gone: 12 \(TIMEOUT\)"):
        checker.check(SimpleNamespace(nthreads=dict))
