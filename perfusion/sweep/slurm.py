"""SLURM: the dask-jobqueue cluster, and the plain job array for sites that prefer it.

``slurm_cluster`` configures a ``SLURMCluster`` (one Dask worker per job, one GPU per job
through ``--gres=gpu:N``, account/partition/walltime from the ``[slurm]`` table or the command
line). dask-jobqueue renders its job script without SLURM installed, so the script is
testable anywhere (``cluster.job_script()``).

``write_job_array`` writes ``DIR/manifest.json`` (every member's resolved case) and
``DIR/sweep_array.sbatch``, whose array tasks run
``perfusion run --manifest DIR/manifest.json --index $SLURM_ARRAY_TASK_ID -o DIR/members/NNNN``;
only the members still missing or failed are in the array.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path


def slurm_cluster(slurm, **overrides):
    """A ``dask_jobqueue.SLURMCluster`` for the ``[slurm]`` settings (no jobs started yet)."""
    from dask_jobqueue import SLURMCluster

    directives = [f"--gres=gpu:{slurm.gpus_per_worker}"] if slurm.gpus_per_worker else []
    options = dict(cores=slurm.cores, processes=1, memory=slurm.memory, account=slurm.account,
                   queue=slurm.partition, walltime=slurm.walltime,
                   job_extra_directives=directives, python=sys.executable,
                   scheduler_options={"dashboard_address": None},
                   job_name="perfusion-sweep")
    options.update(overrides)
    return SLURMCluster(**options)


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
    logs = output / "logs"
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}",
             f"#SBATCH --array={_ranges(indices)}", f"#SBATCH --time={slurm.walltime}",
             f"#SBATCH --cpus-per-task={slurm.cores}", f"#SBATCH --mem={slurm.memory}",
             f"#SBATCH --output={logs}/%A_%a.out"]
    if slurm.gpus_per_worker:
        lines.append(f"#SBATCH --gres=gpu:{slurm.gpus_per_worker}")
    if slurm.account:
        lines.append(f"#SBATCH --account={slurm.account}")
    if slurm.partition:
        lines.append(f"#SBATCH --partition={slurm.partition}")
    command = [sys.executable, "-m", "perfusion", "run", "--manifest", str(Path(manifest).resolve()),
               "--index", '"$SLURM_ARRAY_TASK_ID"', "-o", f'"{shlex.quote(str(output / "members"))}/$MEMBER"',
               "--resume"]
    if backend:
        command += ["--backend", backend]
    if checkpoint_every:
        command += ["--checkpoint-every", f"'{checkpoint_every!r} s'"]
    quoted = [part if part.startswith(('"', "'")) else shlex.quote(part) for part in command]
    lines += ["", "set -euo pipefail", 'MEMBER=$(printf "%04d" "$SLURM_ARRAY_TASK_ID")',
              " ".join(quoted), ""]
    return "\n".join(lines)


def write_job_array(sweep, output: Path, indices: list[int], backend: str | None = None) -> tuple[Path, Path]:
    """Write the manifest and ``sweep_array.sbatch``; return their paths."""
    output = Path(output).resolve()
    manifest = write_manifest(sweep, output)
    (output / "logs").mkdir(parents=True, exist_ok=True)
    script = output / "sweep_array.sbatch"
    script.write_text(job_array_script(sweep.spec.slurm, manifest, output, indices,
                                       f"perfusion-{sweep.spec.sweep.name}", backend,
                                       sweep.checkpoint_every), encoding="utf-8")
    script.chmod(0o755)
    return manifest, script


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
