"""Running members: one :func:`run_member` per task, on Dask (local or SLURM) or in this process.

``run_member`` is a plain top-level function (picklable) that calls ``run_case`` in the
worker and never raises: a failing member becomes a record with its error text, so one bad
member does not stop the others. The executors only differ in where the tasks run:

* ``serial`` — this process, one after another (tests, debugging, the benchmark baseline);
* ``local`` — a ``dask.distributed.LocalCluster`` of worker *processes*, one thread each,
  bound to 127.0.0.1 with the dashboard off (README.md, Sweeps and long runs); with GPUs, one
  worker pinned to each (``devices``);
* ``slurm`` — a ``dask_jobqueue.SLURMCluster``, one GPU per worker through ``--gres``.

Each yields the records as members finish (for the progress log).
"""
from __future__ import annotations

import logging
import os
import time
import traceback
from pathlib import Path

from .devices import gpu_count, pinned_cluster

log = logging.getLogger(__name__)


def run_member(entry: dict, directory: str, backend: str | None = None,
               checkpoint_every: float | None = None) -> dict:
    """Run one member (a manifest entry) into ``directory``; return its record."""
    from ..case.loader import case_from_dict
    from ..pipeline import run_case

    start = time.perf_counter()
    record = {"index": entry["index"], "key": entry["key"], "directory": directory}
    try:
        case = case_from_dict(entry["case"], source=entry["source"])
        result = run_case(case, directory, backend=backend, checkpoint_every=checkpoint_every,
                          resume=checkpoint_every is not None)
        record.update(status="done", error="")
        del result
    except Exception as exc:  # recorded, not raised: the other members go on
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc())
    record["seconds"] = time.perf_counter() - start
    record["worker_pid"] = os.getpid()
    record["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return record


def run_serial(entries, directories, backend=None, checkpoint_every=None):
    """Members one after another in this process."""
    for entry, directory in zip(entries, directories):
        yield run_member(entry, directory, backend, checkpoint_every)


def default_workers(backend: str | None = None) -> int:
    """One worker per GPU where GPUs exist (and the backend may use them), else one per core."""
    return gpu_count(backend) or max(1, os.cpu_count() or 1)


def run_local(entries, directories, backend=None, checkpoint_every=None, workers=None):
    """Members on a local Dask cluster bound to the loopback interface: one worker pinned to
    each GPU where there are GPUs (``devices``), else a ``LocalCluster`` of processes."""
    from distributed import LocalCluster

    gpus = min(gpu_count(backend), workers or len(entries))
    if gpus:
        log.info("local executor: %d worker process(es), one per GPU (CUDA_VISIBLE_DEVICES "
                 "rotated), one member per GPU at a time", gpus)
        with pinned_cluster(gpus, gpu_count(backend)) as cluster:
            yield from _on_cluster(cluster, entries, directories, backend, checkpoint_every)
        return
    workers = workers or min(default_workers(backend), len(entries))
    log.info("local executor: Dask LocalCluster of %d worker process(es) on 127.0.0.1", workers)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        yield from _on_cluster(cluster, entries, directories, backend, checkpoint_every)


def run_slurm(entries, directories, slurm, backend=None, checkpoint_every=None, workers=None):
    """Members on a dask-jobqueue ``SLURMCluster`` (one GPU per worker)."""
    from .slurm import slurm_cluster

    with slurm_cluster(slurm) as cluster:
        cluster.scale(jobs=workers or slurm.workers)
        log.info("slurm executor: asked for %d job(s)\n%s", workers or slurm.workers,
                 cluster.job_script())
        yield from _on_cluster(cluster, entries, directories, backend, checkpoint_every)


def _on_cluster(cluster, entries, directories, backend, checkpoint_every):
    from distributed import Client, as_completed

    with Client(cluster) as client:
        futures = {client.submit(run_member, entry, directory, backend, checkpoint_every,
                                 key=f"member-{entry['index']:04d}-{entry['key']}", pure=False):
                   (entry, directory) for entry, directory in zip(entries, directories)}
        for future in as_completed(futures):
            entry, directory = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker died (killed, out of memory, …)
                yield {"index": entry["index"], "key": entry["key"], "directory": directory,
                       "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                       "seconds": float("nan")}


EXECUTORS = ("local", "slurm", "serial")


def member_directory(output: Path, index: int) -> Path:
    """``DIR/members/NNNN``."""
    return Path(output) / "members" / f"{index:04d}"
