"""Running members: one :func:`run_member` per task, on Dask (local or SLURM) or in this process.

``run_member`` is a plain top-level function (picklable) that calls ``run_case`` in the
worker and never raises: a failing member becomes a record with its error text, so one bad
member does not stop the others. The executors only differ in where the tasks run:

* ``serial`` — this process, one after another (tests, debugging, the benchmark baseline);
* ``local`` — a ``dask.distributed.LocalCluster`` of worker *processes*, one thread each,
  bound to 127.0.0.1 with the dashboard off (README.md, Sweeps and long runs); with GPUs, one
  worker pinned to each (``devices``);
* ``slurm`` — a ``dask_jobqueue.SLURMCluster``: each worker job has ``nthreads`` = its GPUs,
  so one member runs per GPU, with ``cores / GPUs`` CPU threads each (``gpu_worker_options``);
  the cluster is watched (``watch``) so that failures end the sweep instead of hanging it;
* ``external`` — an existing Dask cluster (``--scheduler tcp://HOST:PORT`` or
  ``--scheduler-file FILE``); its workers must share this file system and environment.

Each yields the records as members finish (for the progress log).
"""
from __future__ import annotations

import logging
import os
import time
import traceback
import uuid
from pathlib import Path

from .devices import gpu_count, pinned_cluster
from .spec import SweepError
from .watch import SlurmWatch, SweepStopped, WorkerWatch, cancel_jobs, submission_problem

log = logging.getLogger(__name__)

WATCH_INTERVAL = 3.0  # seconds between checks of the cluster while members run


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


def gpu_worker_options(slurm) -> dict:
    """dask-jobqueue options for one member per GPU: ``nthreads`` = the job's GPUs (at least 1)
    instead of its cores, the job still asks for all its cores (``--cpus-per-task``), and each
    member's CPU threads are the cores per GPU (``OMP_NUM_THREADS`` etc. in the job script)."""
    members = max(1, slurm.gpus_per_worker)
    threads = max(1, slurm.cores // members)
    exports = [f"export {name}={threads}" for name in
               ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")]
    return {"cores": members, "job_cpu": slurm.cores,
            "job_script_prologue": [*getattr(slurm, "prologue", []), *exports]}


def run_slurm(entries, directories, slurm, backend=None, checkpoint_every=None, workers=None,
              sweep_name="sweep"):
    """Members on a dask-jobqueue ``SLURMCluster`` (one member per GPU of each worker job),
    watched (``watch``): a rejected job script, jobs pending past ``[slurm] pending_timeout``
    or every worker job gone end the sweep; its jobs are cancelled whatever happens."""
    from .slurm import slurm_cluster

    jobs = workers or slurm.workers
    name = f"perfusion-{sweep_name}-{uuid.uuid4().hex[:8]}"  # this run's jobs, and only them
    folder = Path(directories[0]).parents[1] if directories else None   # DIR of DIR/members/NNNN
    with slurm_cluster(slurm, folder, job_name=name, **gpu_worker_options(slurm)) as cluster:
        problem = submission_problem(cluster.job_script(), slurm)
        if problem:
            raise SweepStopped(problem)
        try:
            cluster.scale(jobs=jobs)
            log.info("slurm executor: asked for %d job(s) named %s\n%s", jobs, name,
                     cluster.job_script())
            yield from _on_cluster(cluster, entries, directories, backend, checkpoint_every,
                                   SlurmWatch(cluster, slurm, name, jobs))
        finally:
            cancel_jobs(name)


def run_external(entries, directories, scheduler: str, backend=None, checkpoint_every=None,
                 worker_timeout: float = 60.0):
    """Members on an existing Dask cluster: ``scheduler`` is its address (``tcp://HOST:PORT``)
    or its scheduler file. No worker within ``worker_timeout`` s (at the start or later) ends
    the sweep; a worker lost mid-member has its member retried by Dask on another worker."""
    from distributed import Client

    by_file = "://" not in scheduler
    where = f"--scheduler-file {scheduler}" if by_file else f"--scheduler {scheduler}"
    try:
        client = (Client(scheduler_file=scheduler, timeout=worker_timeout) if by_file
                  else Client(scheduler, timeout=worker_timeout))
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"{where}: cannot reach the Dask scheduler ({exc}); check the address "
                         "or file, or start one with `dask scheduler`") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=worker_timeout)
        except TimeoutError:
            raise SweepStopped(f"{where}: no Dask worker connected within {worker_timeout:.0f} s; "
                               f"start workers with `dask worker {client.scheduler.address}`") from None
        log.info("external scheduler %s: %d worker(s)", client.scheduler.address,
                 len(client.nthreads()))
        yield from _members_on(client, entries, directories, backend, checkpoint_every,
                               WorkerWatch(where, worker_timeout))


def _on_cluster(cluster, entries, directories, backend, checkpoint_every, watch=None):
    from distributed import Client

    with Client(cluster) as client:
        yield from _members_on(client, entries, directories, backend, checkpoint_every, watch)


def _members_on(client, entries, directories, backend, checkpoint_every, watch=None):
    """Submit every member, yield each record as it finishes; between finished members the
    ``watch`` (if any) is checked every ``WATCH_INTERVAL`` s and may end the sweep."""
    from distributed import wait

    futures = {client.submit(run_member, entry, directory, backend, checkpoint_every,
                             key=f"member-{entry['index']:04d}-{entry['key']}", pure=False):
               (entry, directory) for entry, directory in zip(entries, directories)}
    pending = set(futures)
    while pending:
        try:
            done, pending = wait(pending, timeout=WATCH_INTERVAL, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for future in done:
            entry, directory = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker died (killed, out of memory, …)
                yield {"index": entry["index"], "key": entry["key"], "directory": directory,
                       "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                       "seconds": float("nan")}
        if pending and watch is not None:
            watch.check(client)


EXECUTORS = ("local", "slurm", "serial", "external")


def member_directory(output: Path, index: int) -> Path:
    """``DIR/members/NNNN``."""
    return Path(output) / "members" / f"{index:04d}"
