"""``perfusion sweep``: run a parameter sweep here, on Dask, or as a SLURM job array.

Members already complete are skipped, so a sweep that stopped (a cluster failure, SIGTERM)
resumes with the same command; ``--scheduler``/``--scheduler-file`` run the members on an
existing Dask cluster; ``--summary-only`` just rewrites the summary, and
``--emit slurm-array`` writes the manifest and sbatch script whose tasks are
``perfusion run --manifest ... --index N``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import backend_option, quiet_option, with_debug


@click.command()
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Sweep folder (default: sweep.output or results/<sweep name>).")
@click.option("--executor", type=click.Choice(["local", "slurm", "serial"]), default="local",
              show_default=True, help="Where members run (Dask LocalCluster, SLURMCluster, here).")
@click.option("--workers", type=int, help="Dask workers (local: default one per GPU or core; "
              "slurm: jobs).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the members on this existing Dask scheduler (its workers must share "
              "this file system and environment).")
@click.option("--scheduler-file", type=click.Path(dir_okay=False, path_type=Path),
              help="As --scheduler, with the scheduler's address read from this file.")
@click.option("--worker-timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for a Dask worker on --scheduler before giving up.")
@click.option("--emit", type=click.Choice(["slurm-array"]),
              help="Write the manifest and an sbatch job-array script instead of running.")
@click.option("--summary-only", is_flag=True, help="Only rewrite the summary from the folders.")
@backend_option
@click.option("--account", help="SLURM account (overrides [slurm] account).")
@click.option("--partition", help="SLURM partition (overrides [slurm] partition).")
@click.option("--walltime", help="SLURM wall time HH:MM:SS (overrides [slurm] walltime).")
@quiet_option
@with_debug
def sweep(sweep_file, output, executor, workers, scheduler, scheduler_file, worker_timeout,
          emit, summary_only, backend, account, partition, walltime, quiet):
    """Run every member of SWEEP_FILE not yet complete, and write DIR/summary.csv."""
    from ..sweep import SweepError, load_sweep, run_sweep, summarize, write_job_array

    loaded = load_sweep(sweep_file)
    output = (output or loaded.default_output()).resolve()
    slurm = loaded.spec.slurm.model_copy(update={k: v for k, v in [
        ("account", account), ("partition", partition), ("walltime", walltime)] if v})
    click.echo(f"{sweep_file}: {len(loaded.members)} members, varying {', '.join(loaded.varied)}")
    if emit == "slurm-array":
        from ..sweep.runner import pending_members

        indices = [m.index for m in pending_members(loaded, output)]
        if not indices:
            click.echo("every member is complete; nothing to submit")
            return
        manifest, script = write_job_array(_with_slurm(loaded, slurm), output, indices, backend)
        click.echo(f"manifest: {manifest}\njob array ({len(indices)} tasks): {script}\n"
                   f"submit with: sbatch {script}; then: perfusion sweep {sweep_file} -o "
                   f"{output} --summary-only")
        return
    if summary_only:
        result = summarize(loaded, output)
    else:
        if scheduler and scheduler_file:
            raise SweepError("give --scheduler or --scheduler-file, not both")
        external = scheduler or (str(scheduler_file.resolve()) if scheduler_file else None)
        result = run_sweep(loaded, output, executor="external" if external else executor,
                           workers=workers, backend=backend, slurm=slurm, scheduler=external,
                           worker_timeout=worker_timeout)
    done = sum(r["status"] == "done" for r in result.rows)
    click.echo(f"{done} of {len(result.rows)} members complete ({len(result.ran)} run now)")
    for index, error in sorted(result.failed.items()):
        click.echo(f"  member {index:04d} failed: {error}")
    for name, path in result.files.items():
        click.echo(f"  {name:<12} {path}")
    if result.failed:
        sys.exit(1)


def _with_slurm(loaded, slurm):
    """The sweep with its ``[slurm]`` settings replaced (command-line overrides)."""
    import dataclasses

    return dataclasses.replace(loaded, spec=loaded.spec.model_copy(update={"slurm": slurm}))
