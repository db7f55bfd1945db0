"""Watching a sweep's cluster, so that a sweep that cannot go on ends instead of hanging.

Dask waits forever for workers that never come; these checks turn each such case into a
:class:`SweepStopped` naming the cause and the ``[slurm]`` key to change:

* ``submission_problem`` — ``sbatch --test-only`` on the worker job script, before any job
  is submitted: a rejected script (bad partition, more cores/GPUs/memory than any node) is
  sbatch's own message plus the key to change and what the cluster offers (``sinfo``);
* ``SlurmWatch`` — polled between finished members (every ``interval`` s) with
  ``squeue -t all -n NAME`` (the sweep's unique job name): a job pending longer than
  ``[slurm] pending_timeout`` while no worker is connected ends the sweep with squeue's reason
  (%r: Resources, ReqNodeNotAvail, PartitionConfig, …); a worker job that is gone (scancel,
  wall time, pre-emption) is replaced, at most ``workers`` times in all and never beyond
  ``workers`` jobs at once; when every job is gone and no worker is connected, the sweep ends;
* ``WorkerWatch`` — for an external scheduler: no worker connected for ``timeout`` s ends it.

``cancel_jobs`` cancels the sweep's queued and running jobs by id (``scancel ID…``), on
SIGTERM/SIGINT and when the sweep ends.
"""
from __future__ import annotations

import logging
import re
import subprocess
import time

from .spec import SweepError

log = logging.getLogger(__name__)

ALIVE = {"PENDING", "CONFIGURING", "RUNNING", "SUSPENDED", "REQUEUED", "RESIZING"}


class SweepStopped(SweepError):
    """The sweep ended early (cluster failure or signal); what finished is kept."""


def _command(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60)


def submission_problem(script: str, slurm) -> str | None:
    """Why sbatch rejects the worker job ``script`` (its message, the key, the fix), or None."""
    checked = _command(["sbatch", "--test-only"], stdin=script)
    if checked.returncode == 0:
        return None
    lines = [line.strip() for line in (checked.stderr + checked.stdout).splitlines() if line.strip()]
    message = "; ".join([line for line in lines if line.startswith("sbatch: error")] or lines)
    key, fix = _key_and_fix(message, slurm)
    return f"{key}: {message} — {fix}"


def _key_and_fix(message: str, slurm) -> tuple[str, str]:
    partitions, cpus, memory_mb, gpus = _cluster_offer()
    text = message.lower()
    if "partition" in text:
        return "slurm.partition", f"set [slurm] partition to one of: {', '.join(partitions)} (sinfo)"
    if "account" in text:
        return "slurm.account", "set [slurm] account to one you may charge (sacctmgr show assoc)"
    if "time limit" in text:
        return "slurm.walltime", "lower [slurm] walltime to the partition's limit (sinfo -o %l)"
    if "qos" in text:
        return "slurm.qos", "set [slurm] qos to one you may use (sacctmgr show qos)"
    offer = f"the largest node has {cpus} CPUs, {memory_mb} MB and {gpus} GPU(s) (sinfo)"
    if slurm.cores > cpus:
        return "slurm.cores", f"set [slurm] cores to at most {cpus}: {offer}"
    if slurm.gpus_per_worker > gpus or "gres" in text:
        return "slurm.gpus_per_worker", f"set [slurm] gpus_per_worker to at most {gpus}: {offer}"
    if "memory" in text or "node configuration" in text:
        return "slurm.memory", f"ask for less [slurm] memory: {offer}"
    return "slurm", f"change the [slurm] table so that sbatch accepts the job: {offer}"


def _cluster_offer() -> tuple[list[str], int, int, int]:
    """Partitions, and the most CPUs, memory (MB) and GPUs of one node, from ``sinfo``."""
    listed = _command(["sinfo", "-h", "-o", "%R|%c|%m|%G"]).stdout.split()
    rows = [line.split("|") for line in listed if line.count("|") == 3]
    gpus = [int(m.group(1)) for r in rows for m in [re.search(r"gpu(?::[^:,(]+)?:(\d+)", r[3])] if m]
    return (sorted({r[0] for r in rows}), max((int(r[1]) for r in rows), default=0),
            max((int(r[2].rstrip("+")) for r in rows if r[2].rstrip("+").isdigit()), default=0),
            max(gpus, default=0))


def queue_states(name: str) -> dict[str, tuple[str, str]]:
    """The jobs named ``name`` that squeue knows (recent ended ones too): id → (state, reason)."""
    listed = _command(["squeue", "-h", "-t", "all", "-n", name, "-o", "%i|%T|%r"])
    rows = [line.split("|") for line in listed.stdout.splitlines() if line.count("|") == 2]
    return {job: (state, reason) for job, state, reason in rows}


def cancel_jobs(name: str) -> list[str]:
    """Cancel the queued and running jobs named ``name``, by id; return the ids."""
    ids = [job for job, (state, _) in queue_states(name).items() if state in ALIVE]
    if ids:
        _command(["scancel", *ids])
        log.warning("cancelled SLURM job(s) %s (%s)", ", ".join(ids), name)
    return ids


class WorkerWatch:
    """Ends the sweep when no Dask worker has been connected for ``timeout`` seconds."""

    def __init__(self, where: str, timeout: float):
        self.where, self.timeout, self.alone_since = where, timeout, None

    def check(self, client) -> None:
        if client.nthreads():
            self.alone_since = None
            return
        now = time.monotonic()
        self.alone_since = self.alone_since or now
        if now - self.alone_since > self.timeout:
            raise SweepStopped(f"{self.where}: no Dask worker connected for {self.timeout:.0f} s; "
                               f"start workers with `dask worker {self.where}`")


class SlurmWatch:
    """Checks the sweep's SLURM jobs (see the module docstring); ``check`` raises
    :class:`SweepStopped` when the sweep cannot go on."""

    def __init__(self, cluster, slurm, name: str, jobs: int):
        self.cluster, self.slurm, self.name, self.jobs = cluster, slurm, name, jobs
        self.pending_since: dict[str, float] = {}
        self.last_state: dict[str, str] = {}
        self.replaced = 0

    def check(self, client) -> None:
        states = queue_states(self.name)
        self.last_state.update({job: state for job, (state, _) in states.items()})
        connected = bool(client.nthreads())
        now = time.monotonic()
        for job, (state, reason) in states.items():
            if state != "PENDING":
                continue
            waited = now - self.pending_since.setdefault(job, now)
            if waited > self.slurm.pending_timeout and not connected:
                raise SweepStopped(
                    f"slurm.pending_timeout: worker job {job} pending for {waited:.0f} s "
                    f"(squeue reason: {reason}) and no worker is running; free or ask for "
                    "other resources in [slurm] (partition, cores, gpus_per_worker, memory), "
                    "or raise [slurm] pending_timeout")
        submitted = {name: job.job_id for name, job in self.cluster.workers.items()
                     if getattr(job, "job_id", None)}
        gone = {name: job for name, job in submitted.items()
                if states.get(job, ("GONE", ""))[0] not in ALIVE}
        if not gone:
            return
        ended = ", ".join(f"{job} ({self.last_state.get(job, 'no longer in squeue')})"
                          for job in gone.values())
        if len(gone) == len(submitted) and not connected:
            raise SweepStopped(f"every worker job is gone: {ended}; nothing is left to run "
                               "the members (cancelled, wall time or pre-empted)")
        self._replace(gone, ended)

    def _replace(self, gone: dict[str, str], ended: str) -> None:
        for name in gone:
            self.cluster.workers.pop(name, None)
            self.cluster.worker_spec.pop(name, None)
        room = self.slurm.workers - self.replaced
        if room <= 0:
            log.warning("worker job(s) %s gone; not replaced: already replaced %d, the most "
                        "allowed ([slurm] workers)", ended, self.replaced)
            return
        count = min(room, len(gone))
        self.replaced += count
        self.cluster.scale(jobs=min(self.jobs, len(self.cluster.worker_spec) + count))
        log.warning("worker job(s) %s gone; submitted %d replacement(s) (%d of at most %d)",
                    ended, count, self.replaced, self.slurm.workers)
