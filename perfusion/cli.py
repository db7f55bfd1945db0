"""The ``perfusion`` command line: a thin shell over the library (DESIGN §5.2).

``run``, ``sweep``, ``validate``, ``info``, ``render`` and ``cases``. User errors (any
:class:`~perfusion.errors.PerfusionError`) print one paragraph and exit 1; ``--debug``
shows the traceback instead. Progress goes to stderr through logging.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import sys
from pathlib import Path

import click

from .errors import PerfusionError


def _configure_logging(debug: bool, quiet: bool = False) -> None:
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s" if debug else "%(message)s"))
    root = logging.getLogger("perfusion")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@contextlib.contextmanager
def _user_errors(debug: bool):
    """Turn our exceptions into a short message and exit code 1 (traceback with --debug)."""
    try:
        yield
    except PerfusionError as exc:
        if debug:
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)


def _common(function):
    @click.option("--debug", is_flag=True, help="Show debug logging and full tracebacks.")
    @functools.wraps(function)
    def wrapper(*args, debug: bool, **kwargs):
        _configure_logging(debug, kwargs.get("quiet", False))
        with _user_errors(debug):
            return function(*args, **kwargs)
    return wrapper


@click.group()
@click.version_option(package_name="perfusion")
def main():
    """GPU-accelerated 3D tissue perfusion and drug transport for intra-arterial infusion."""


@main.command()
@click.argument("case", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Results directory (default: output.dir or results/<case name>).")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path),
              help="Run a member of a sweep manifest (with --index) instead of CASE.")
@click.option("--index", type=int, help="Member index in --manifest (e.g. $SLURM_ARRAY_TASK_ID).")
@click.option("--checkpoint-every", metavar="TIME",
              help="Checkpoint the drug loop every TIME of simulated time, e.g. '10 min'.")
@click.option("--resume", is_flag=True,
              help="Continue from the last checkpoint in DIR.checkpoint/ (start over if none).")
@click.option("--backend", type=click.Choice(["auto", "numpy", "cupy"]), help="Array backend.")
@click.option("--precision", type=click.Choice(["float64", "float32"]), help="Working precision.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a case key with a TOML value, e.g. --set grid.shape=[48,48,40].")
@click.option("--quiet", is_flag=True, help="Only warnings and the summary.")
@click.option("--skip-memory-check", is_flag=True,
              help="Run even when the memory estimate exceeds the free memory.")
@click.option("--render", "render_after", is_flag=True,
              help="Also draw the figures, the report and the exports (perfusion render).")
@_common
def run(case, output, manifest, index, checkpoint_every, resume, backend, precision, overrides,
        quiet, skip_memory_check, render_after):
    """Run CASE (or member --index of --manifest) and write its results directory."""
    from .pipeline import run_case

    every = None
    if checkpoint_every is not None:
        from .library.units import parse_quantity

        try:
            every = parse_quantity(checkpoint_every, "s")
        except ValueError as exc:
            raise PerfusionError(f"--checkpoint-every: {exc} (e.g. '10 min')") from None
    result = run_case(_case_to_run(case, manifest, index, overrides), output, backend=backend,
                      precision=precision, check_memory=not skip_memory_check,
                      checkpoint_every=every, resume=resume)
    click.echo(_summary(result.metrics))
    click.echo(f"results: {result.directory}")
    if render_after:
        from .render.pipeline import render_results

        _report_rendered(render_results(result.directory))


@main.command()
@click.argument("results", type=click.Path(file_okay=False, path_type=Path))
@click.option("--field", type=click.Choice(["c_t", "c_e", "c_c"]), default="c_t",
              help="Drug field of the slices and the animation (total, free, cell-bound).")
@click.option("--time", "times", multiple=True, metavar="TIME",
              help="Output time of the slices and the 3D scene, e.g. '30 min' (repeatable).")
@click.option("--size", metavar="WxH", help="Picture size in pixels, e.g. 1600x1000.")
@click.option("--cmap", default="inferno", help="Matplotlib/PyVista colour map.")
@click.option("--camera", type=click.Choice(["iso", "xy", "xz", "yz"]), default="iso",
              help="View of the 3D scene.")
@click.option("--animation", type=click.Choice(["gif", "mp4", "none"]), default="gif")
@click.option("--only", multiple=True, metavar="FIGURE",
              help="Draw only these figures (slices, steady, scene, animation, curves, dvh).")
@click.option("--no-report", is_flag=True, help="Skip report.html.")
@click.option("--no-export", is_flag=True, help="Skip the NIfTI and mesh exports.")
@_common
def render(results, field, times, size, cmap, camera, animation, only, no_report, no_export):
    """Draw the figures of RESULTS, write report.html and the exports."""
    from .render.pipeline import ALL_FIGURES, RenderOptions, render_results
    from .library.units import parse_quantity

    figures = tuple(only) or ALL_FIGURES
    unknown = sorted(set(figures) - set(ALL_FIGURES))
    if unknown:
        raise PerfusionError(f"--only: unknown figure {unknown}; choose from {list(ALL_FIGURES)}")
    if animation == "none":
        figures = tuple(f for f in figures if f != "animation")
    try:
        seconds = tuple(parse_quantity(t, "s") for t in times)
        pixels = tuple(int(v) for v in size.lower().split("x")) if size else None
    except ValueError as exc:
        raise PerfusionError(f"--time/--size: {exc} (e.g. --time '30 min' --size 1600x1000)") from None
    if pixels is not None and (len(pixels) != 2 or min(pixels) < 64):
        raise PerfusionError(f"--size {size!r}: give WIDTHxHEIGHT of at least 64 pixels each")
    options = RenderOptions(figures=figures, field=field, times=seconds or None, size=pixels,
                            cmap=cmap, camera=camera, animation_format=animation,
                            report=not no_report, exports=not no_export)
    _report_rendered(render_results(results, options))


def _case_to_run(case, manifest, index, overrides):
    """The case of ``perfusion run``: CASE, or member ``index`` of a sweep manifest."""
    from .case import load_case

    if manifest is None:
        if case is None or index is not None:
            raise PerfusionError("give a CASE file, or --manifest MANIFEST with --index N")
        return load_case(case, overrides)
    if case is not None or index is None:
        raise PerfusionError("--manifest needs --index N and no CASE argument")
    from .case.loader import case_from_dict
    from .sweep.slurm import manifest_entry

    entry = manifest_entry(manifest, index)
    return case_from_dict(entry["case"], source=entry["source"], overrides=overrides)


@main.command()
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Sweep folder (default: sweep.output or results/<sweep name>).")
@click.option("--executor", type=click.Choice(["local", "slurm", "serial"]), default="local",
              show_default=True, help="Where members run (Dask LocalCluster, SLURMCluster, here).")
@click.option("--workers", type=int, help="Dask workers (local: default one per GPU or core; "
              "slurm: jobs).")
@click.option("--emit", type=click.Choice(["slurm-array"]),
              help="Write the manifest and an sbatch job-array script instead of running.")
@click.option("--summary-only", is_flag=True, help="Only rewrite the summary from the folders.")
@click.option("--backend", type=click.Choice(["auto", "numpy", "cupy"]), help="Array backend.")
@click.option("--account", help="SLURM account (overrides [slurm] account).")
@click.option("--partition", help="SLURM partition (overrides [slurm] partition).")
@click.option("--walltime", help="SLURM wall time HH:MM:SS (overrides [slurm] walltime).")
@click.option("--quiet", is_flag=True, help="Only warnings and the summary.")
@_common
def sweep(sweep_file, output, executor, workers, emit, summary_only, backend, account,
          partition, walltime, quiet):
    """Run every member of SWEEP_FILE not yet complete, and write DIR/summary.csv."""
    from .sweep import load_sweep, run_sweep, summarize, write_job_array

    loaded = load_sweep(sweep_file)
    output = (output or loaded.default_output()).resolve()
    slurm = loaded.spec.slurm.model_copy(update={k: v for k, v in [
        ("account", account), ("partition", partition), ("walltime", walltime)] if v})
    click.echo(f"{sweep_file}: {len(loaded.members)} members, varying {', '.join(loaded.varied)}")
    if emit == "slurm-array":
        from .sweep.runner import pending_members

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
        result = run_sweep(loaded, output, executor=executor, workers=workers, backend=backend,
                           slurm=slurm)
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


def _report_rendered(written: dict) -> None:
    for name, path in written.items():
        click.echo(f"  {name:<18} {path}")


def _summary(metrics: dict) -> str:
    lines = [f"{metrics['case']}: {metrics['backend']} ({metrics['precision']}), "
             f"{sum(metrics['timings'].values()):.1f} s"]
    lines.append(f"  {'class':<12}{'volume mL':>11}{'perfusion mL/min/100mL':>24}{'IFP mmHg':>10}")
    for name, volume in metrics["class_volume_ml"].items():
        lines.append(f"  {name:<12}{volume:>11.1f}{metrics['perfusion_mean'][name]:>24.1f}"
                     f"{metrics['ifp_mean'][name] / 133.322:>10.2f}")
    for name, tree in metrics.get("trees", {}).items():
        lines.append(f"  {name} tree: {tree['terminals']} terminals, {tree['segments']} segments, "
                     f"{tree['root_inflow_ml_min']:.4g} mL/min at {tree['root_pressure_mmhg']:.1f}"
                     f" mmHg (conservation {tree['conservation_relative_error']:.1e})")
    if "catheter" in metrics:
        c = metrics["catheter"]
        shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in c["class_inflow_share"].items() if v)
        lines.append(f"  catheter in segment {c['segment']}: {c['vessel_flow_ml_min']:.3g} mL/min, "
                     f"{c['terminals']} terminals; arterial inflow through it: {shares}")
    if "territory" in metrics:
        t = metrics["territory"]
        lines.append(f"  catheter territory: {100 * t['flow_weighted_mean']:.1f}% of "
                     f"{t['supply']} flow")
    if "auc" in metrics:
        lines.extend(_drug_summary(metrics))
    return "\n".join(lines)


def _drug_summary(metrics: dict) -> list[str]:
    """Headline exposure: AUC (µg·h/mL) and Cmax (µg/mL) per class, IA against IV."""
    to_auc, to_c = 1 / 3.6, 1e3  # kg·s/m³ → µg·h/mL; kg/m³ → µg/mL
    iv = metrics.get("iv", {})
    lines = [f"  {metrics['drug']['name']}: AUC µg·h/mL (IA / IV), Cmax µg/mL (IA)"]
    for name, auc in metrics["auc"].items():
        iv_auc = iv.get("auc", {}).get(name)
        shown = f"{auc * to_auc:.3g}" + (f" / {iv_auc * to_auc:.3g}" if iv_auc is not None else "")
        lines.append(f"  {name:<12}{shown:>20}{metrics['cmax'][name] * to_c:>12.3g}")
    lines.append(f"  systemic plasma {metrics['auc_systemic'] * to_auc:>12.3g}"
                 + (f" / {iv['auc_systemic'] * to_auc:.3g}" if iv else ""))
    for key, label in [("tumor_to_normal_auc", "tumour/normal AUC"),
                       ("regional_advantage", "regional advantage (IA vs IV)")]:
        if key in metrics:
            lines.append(f"  {label}: {metrics[key]:.3g}")
    lines.append(f"  mass balance error: {metrics['mass_balance_error']:.1e}")
    return lines


@main.command()
@click.argument("cases", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@_common
def validate(cases, overrides):
    """Check case files without running them, and estimate the memory each needs."""
    from .case import load_case
    from .compute.memory import estimate

    for path in cases:
        case = load_case(path, overrides)
        click.echo(f"{path}: valid ({case.case.name})")
        for line in estimate(case).lines():
            click.echo(f"  {line}")


@main.command()
@_common
def info():
    """Backends, devices and versions on this machine."""
    import platform

    import numpy
    import scipy

    from . import __version__
    from .compute.backend import describe_backends

    click.echo(f"perfusion {__version__}, Python {platform.python_version()}, "
               f"NumPy {numpy.__version__}, SciPy {scipy.__version__}")
    for entry in describe_backends():
        click.echo(f"  {entry['backend']:<6} available: {entry['available']:<4} {entry['device']}")
        for key, value in entry.get("details", {}).items():
            click.echo(f"{'':<25}{key}: {value}")


@main.command()
@click.argument("name", required=False)
@click.option("--copy", "destination", type=click.Path(path_type=Path),
              help="Copy case NAME (or all cases) into this folder.")
@_common
def cases(name, destination):
    """List the built-in cases, or copy them with --copy DIR."""
    from .library.cases import builtin_cases, describe

    available = builtin_cases()
    chosen = available if name is None else {name: available.get(name)}
    if name is not None and chosen[name] is None:
        raise PerfusionError(f"no built-in case {name!r}; available: {', '.join(available)}")
    if destination is None:
        for case_name, path in chosen.items():
            click.echo(f"{case_name:<20} {describe(path)}")
        return
    destination.mkdir(parents=True, exist_ok=True)
    for case_name, path in chosen.items():
        shutil.copy2(path, destination / path.name)
        click.echo(f"copied {case_name} to {destination / path.name}")
