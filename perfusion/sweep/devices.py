"""One GPU per worker for local sweeps: each worker process sees one device.

A local sweep on a machine with ``n`` GPUs runs ``n`` Dask worker processes with one thread
each, worker ``i`` started with ``CUDA_VISIBLE_DEVICES`` = ``i, i+1, …, n−1, 0, …, i−1`` (the
rotation dask-cuda's ``LocalCUDACluster`` uses: the first visible device, ``cupy``'s device
0 in that worker, is GPU ``i``), so members never share a GPU and one member runs per GPU at a
time. The variable is set by the nanny before the worker process starts, i.e. before CUDA is
initialised there. Without GPUs (or on the NumPy backend) the sweep uses a plain
``LocalCluster`` (``execute.run_local``).
"""
from __future__ import annotations

import logging


def visible_devices(worker: int, count: int) -> str:
    """``CUDA_VISIBLE_DEVICES`` of worker ``worker`` of ``count``: the devices rotated so that
    GPU ``worker`` comes first."""
    return ",".join(str((worker + k) % count) for k in range(count))


def pinned_cluster(workers: int, devices: int | None = None):
    """A Dask ``SpecCluster`` on 127.0.0.1 with ``workers`` single-thread workers, worker ``i``
    pinned to GPU ``i`` of ``devices`` (default: as many as workers)."""
    devices = devices or workers
    from distributed import Nanny, Scheduler, SpecCluster

    workers = {f"gpu-{i}": {"cls": Nanny, "options": {
        "nthreads": 1, "host": "127.0.0.1", "env": {"CUDA_VISIBLE_DEVICES": visible_devices(i, devices)},
        "silence_logs": logging.ERROR}} for i in range(workers)}
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "dashboard_address": None}}
    return SpecCluster(workers=workers, scheduler=scheduler, silence_logs=logging.ERROR)


def gpu_count(backend: str | None) -> int:
    """GPUs a local sweep pins its workers to: 0 on NumPy or without a usable GPU."""
    if backend == "numpy":
        return 0
    from ..compute.backend import cupy_status

    cupy, _ = cupy_status()
    return int(cupy.cuda.runtime.getDeviceCount()) if cupy is not None else 0
