"""SLURM: the dask-jobqueue cluster, and the plain job array for sites that prefer it.

``slurm_cluster`` configures a ``SLURMCluster`` (one Dask worker per job, account/partition/
walltime from the ``[slurm]`` table or the command line, its logs in ``DIR/<log_dir>``).
dask-jobqueue renders its job script without SLURM installed, so the script is testable
anywhere (``cluster.job_script()``). :func:`sbatch_options` gives both kinds of job the same
qos, constraint, GPU request (``--gres=gpu:N``, ``gres`` or ``--gpus-per-task``) and
``extra_directives``, and both run the ``prologue`` lines first.

``write_job_array`` writes ``DIR/manifest.json`` (every member's resolved case),
``DIR/sweep_array.sbatch``, whose array tasks (at most ``array_limit`` at once: ``%N``) run
``perfusion run --manifest DIR/manifest.json --index $SLURM_ARRAY_TASK_ID -o DIR/members/NNNN``
with their logs in ``DIR/logs/%A_%a.out``, and ``DIR/sweep_summary.sbatch``, the summary job
to submit after the array: ``sbatch --dependency=afterany:$ARRAY DIR/sweep_summary.sbatch``.
Only the members still missing or failed are in the array. A failing task leaves its error in
``DIR/members/NNNN.error.json`` (:func:`recorded_failure`, also on SIGTERM: wall time,
``scancel``), which the summary reads (:func:`array_task_errors`).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path

log = logging.getLogger(__name__)


def slurm_cluster(slurm, output: Path | None = None, **overrides):
    """A ``dask_jobqueue.SLURMCluster`` for the ``[slurm]`` settings (no jobs started yet); with
    the sweep folder ``output`` the worker jobs' logs go to ``output/<log_dir>``."""
    from dask_jobqueue import SLURMCluster

    options = dict(cores=slurm.cores, processes=1, memory=slurm.memory, account=slurm.account,
                   queue=slurm.partition, walltime=slurm.walltime,
                   job_extra_directives=sbatch_options(slurm),
                   job_script_prologue=list(slurm.prologue), python=sys.executable,
                   scheduler_options={"dashboard_address": None},
                   job_name="perfusion-sweep")
    if slurm.interface:
        options["interface"] = slurm.interface
    if output is not None:
        options["log_directory"] = str(log_folder(slurm, output))
    options.update(overrides)
    return SLURMCluster(**options)


def sbatch_options(slurm) -> list[str]:
    """The sbatch options every job of the sweep shares beyond name, time, cores, memory,
    account and partition: qos, constraint, the GPU request and ``extra_directives``."""
    options = [f"--qos={slurm.qos}"] if slurm.qos else []
    if slurm.constraint:
        options.append(f"--constraint={slurm.constraint}")
    return options + gpu_request(slurm) + list(slurm.extra_directives)


def gpu_request(slurm) -> list[str]:
    """``--gres=<gres>`` and/or ``--gpus-per-task=N`` when given, else ``--gres=gpu:N`` (none
    for ``gpus_per_worker = 0``)."""
    request = [f"--gres={slurm.gres}"] if slurm.gres else []
    if slurm.gpus_per_task:
        request.append(f"--gpus-per-task={slurm.gpus_per_task}")
    if not request and slurm.gpus_per_worker:
        request.append(f"--gres=gpu:{slurm.gpus_per_worker}")
    return request


def log_folder(slurm, output: Path) -> Path:
    """``output/<log_dir>`` (``log_dir`` may be absolute), created."""
    folder = (Path(output) / slurm.log_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_manifest(sweep, output: Path) -> Path:
    """``DIR/manifest.json``: the sweep and every member's resolved case (JSON)."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / "manifest.json"
    document = {"sweep": sweep.spec.sweep.name, "sweep_file": str(sweep.path.resolve()),
                "varied": sweep.varied, "members": [m.as_dict() for m in sweep.members]}
    tmp = output / ".manifest.json.tmp"
    tmp.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


def manifest_entry(path: str | Path, index: int) -> dict:
    """Member ``index`` of a manifest (a ``{"members": [...]}`` object or a plain list)."""
    from .spec import SweepError

    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read the manifest ({exc})") from None
    members = document["members"] if isinstance(document, dict) else document
    found = [m for m in members if m.get("index") == index]
    if not found:
        raise SweepError(f"{path}: no member {index}; the manifest has members "
                         f"0…{len(members) - 1}")
    return found[0]


def job_array_script(slurm, manifest: Path, output: Path, indices: list[int], name: str,
                     backend: str | None = None, checkpoint_every: float | None = None) -> str:
    """The ``sbatch`` script of the job array over ``indices``."""
    output = Path(output).resolve()
    limit = f"%{slurm.array_limit}" if slurm.array_limit else ""
    header = _header(slurm, name, f"{log_folder(slurm, output)}/%A_%a.out", slurm.cores,
                     (f"#SBATCH --array={_ranges(indices)}{limit}",))
    header += [f"#SBATCH {option}" for option in sbatch_options(slurm)]
    command = [sys.executable, "-m", "perfusion", "run", "--manifest", str(Path(manifest).resolve()),
               "--index", '"$SLURM_ARRAY_TASK_ID"', "-o", f'"{shlex.quote(str(output / "members"))}/$MEMBER"',
               "--resume"]
    if backend:
        command += ["--backend", backend]
    if checkpoint_every:
        command += ["--checkpoint-every", f"'{checkpoint_every!r} s'"]
    quoted = [part if part.startswith(('"', "'")) else shlex.quote(part) for part in command]
    # the task's threads: the cores it was given, not every core of the node
    threads = [f"export {name}=${{SLURM_CPUS_PER_TASK:-1}}"
               for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                            "PERFUSION_THREADS")]
    return "\n".join([*header, "", *slurm.prologue, "set -euo pipefail", *threads,
                      'MEMBER=$(printf "%04d" "$SLURM_ARRAY_TASK_ID")', " ".join(quoted), ""])


def summary_script(slurm, sweep_file: Path, output: Path, name: str) -> str:
    """The ``sbatch`` script of the summary job (one core, no GPU) to run after the array:
    ``perfusion sweep SWEEP_FILE -o DIR --summary-only`` (exit 1 when members failed)."""
    output = Path(output).resolve()
    header = _header(slurm, f"{name}-summary", f"{log_folder(slurm, output)}/summary_%j.out", 1)
    header += [f"#SBATCH {option}" for option in sbatch_options(slurm)
               if option not in gpu_request(slurm)]
    command = [sys.executable, "-m", "perfusion", "sweep", str(Path(sweep_file).resolve()),
               "-o", str(output), "--summary-only"]
    return "\n".join([*header, "", *slurm.prologue, "set -euo pipefail",
                      " ".join(shlex.quote(part) for part in command), ""])


def _header(slurm, name: str, log_file: str, cores: int, array: tuple = ()) -> list[str]:
    """``#!/bin/bash`` and the #SBATCH lines of name, (array,) time, cores, memory, log,
    account and partition."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", *array,
             f"#SBATCH --time={slurm.walltime}", f"#SBATCH --cpus-per-task={cores}",
             f"#SBATCH --mem={slurm.memory}", f"#SBATCH --output={log_file}"]
    if slurm.account:
        lines.append(f"#SBATCH --account={slurm.account}")
    if slurm.partition:
        lines.append(f"#SBATCH --partition={slurm.partition}")
    return lines


def write_job_array(sweep, output: Path, indices: list[int], backend: str | None = None) -> tuple[Path, Path]:
    """Write the manifest, ``sweep_array.sbatch`` and ``sweep_summary.sbatch``; return the
    manifest's and the array script's paths."""
    output = Path(output).resolve()
    manifest = write_manifest(sweep, output)
    name, slurm = f"perfusion-{sweep.spec.sweep.name}", sweep.spec.slurm
    scripts = {"sweep_array.sbatch": job_array_script(slurm, manifest, output, indices, name,
                                                      backend, sweep.checkpoint_every),
               "sweep_summary.sbatch": summary_script(slurm, sweep.path, output, name)}
    for filename, text in scripts.items():
        (output / filename).write_text(text, encoding="utf-8")
        (output / filename).chmod(0o755)
    return manifest, output / "sweep_array.sbatch"


def error_file(member_folder: Path) -> Path:
    """``DIR/members/NNNN.error.json``, beside the member folder ``DIR/members/NNNN``."""
    member_folder = Path(member_folder)
    return member_folder.with_name(f"{member_folder.name}.error.json")


class TaskTerminated(Exception):
    """SIGTERM reached an array task: SLURM's wall time, ``scancel`` or a node going down."""


@contextlib.contextmanager
def recorded_failure(member_folder: Path | None):
    """Around an array task's run: an exception (or SIGTERM) has its text written to
    :func:`error_file`, then propagates (the task exits 1); success removes a stale error file.
    ``None`` (a plain ``perfusion run``): records nothing."""
    if member_folder is None:
        yield
        return
    path = error_file(member_folder)
    main = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, _terminated) if main else None
    try:
        yield
    except Exception as exc:
        job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
        record = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                  "host": socket.gethostname(), "slurm_job": f"{job}_{task}" if job else None}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1), encoding="utf-8")
        raise
    else:
        path.unlink(missing_ok=True)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum, frame):
    raise TaskTerminated("the task got SIGTERM (wall time reached, scancel, or the node went "
                         "down); raise [slurm] walltime or resume with --checkpoint-every")


def array_task_errors(output: Path) -> dict[int, str]:
    """Index → error text of the array tasks that failed (``DIR/members/NNNN.error.json``)."""
    errors = {}
    for path in sorted((Path(output) / "members").glob("[0-9]*.error.json")):
        try:
            errors[int(path.name.split(".")[0])] = json.loads(path.read_text("utf-8"))["error"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("%s: unreadable (%s); that member's error is not in the summary", path, exc)
    return errors


def _ranges(indices: list[int]) -> str:
    """``[0, 1, 2, 5]`` → ``0-2,5`` (the --array syntax)."""
    parts, run = [], []
    for i in sorted(indices):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(parts)
