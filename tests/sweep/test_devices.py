"""One GPU per worker in local sweeps (``perfusion.sweep.devices``): each worker process is
started with its own ``CUDA_VISIBLE_DEVICES``, checked by asking the workers themselves.

No GPU is needed: the variable is only an environment variable until CUDA starts in the
worker, so a CPU machine shows exactly what a multi-GPU one would get."""
from __future__ import annotations

import os

import pytest

from sweep_data import write_sweep

from perfusion.sweep import execute, load_sweep
from perfusion.sweep.devices import pinned_cluster, visible_devices

pytest.importorskip("distributed")


def test_each_worker_sees_its_own_gpu_first():
    assert visible_devices(0, 1) == "0"
    assert visible_devices(1, 3) == "1,2,0"
    assert [visible_devices(i, 4).split(",")[0] for i in range(4)] == ["0", "1", "2", "3"]


@pytest.mark.slow
def test_pinned_workers_have_distinct_devices_and_one_thread_each():
    from distributed import Client

    with pinned_cluster(3) as cluster, Client(cluster) as client:
        seen = client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES"))
        threads = {w["name"]: w["nthreads"] for w in client.scheduler_info()["workers"].values()}
    assert sorted(seen.values()) == ["0,1,2", "1,2,0", "2,0,1"]
    assert sorted(threads) == ["gpu-0", "gpu-1", "gpu-2"] and set(threads.values()) == {1}


@pytest.mark.slow
def test_a_local_sweep_on_two_gpus_runs_its_members_on_pinned_workers(tmp_path, monkeypatch):
    """The driver sees two GPUs (as ``cupy_status`` would report them), so the sweep starts
    one worker per GPU; every member reports the devices its worker was given."""
    monkeypatch.setattr(execute, "gpu_count", lambda backend: 2)
    sweep = load_sweep(write_sweep(tmp_path))
    entries = [member.as_dict() for member in sweep.members[:4]]
    folders = [str(tmp_path / "members" / f"{i:04d}") for i in range(4)]
    records = list(execute.run_local(entries, folders, backend="numpy"))
    assert [r["status"] for r in records] == ["done"] * 4
    assert {r["cuda_visible_devices"] for r in records} <= {"0,1", "1,0"}
