"""``perfusion run`` and ``perfusion validate``: run one case, or check case files.

``run`` takes a case file or one member of a sweep manifest (:func:`_case_to_run`) and prints
the headline table of its metrics and its invariant checks (:func:`_summary`; ``--no-strict``
keeps the results of a run whose checks fail); ``validate`` checks case and sweep files as
``run`` does in its first seconds (``perfusion.pipeline.validate_case``: geometry, inlets,
catheter) and prints the memory estimate of each, without running them.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import PerfusionError
from .options import backend_option, quiet_option, with_debug
from .render_command import report_rendered


@click.command()
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
@backend_option
@click.option("--precision", type=click.Choice(["float64", "float32"]), help="Working precision.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a case key with a TOML value, e.g. --set grid.shape=[48,48,40].")
@quiet_option
@click.option("--skip-memory-check", is_flag=True,
              help="Run even when the memory estimate exceeds the free memory.")
@click.option("--no-strict", "no_strict", is_flag=True,
              help="Keep the results when a physical invariant check fails (a warning, and "
                   "passed: false under checks in metrics.json) instead of an error.")
@click.option("--overwrite", is_flag=True,
              help="Replace the results already in DIR (figures, report and exports included).")
@click.option("--render", "render_after", is_flag=True,
              help="Also draw the figures, the report and the exports (perfusion render).")
@click.option("--threads", type=click.IntRange(min=1), metavar="N",
              help="CPU threads of the compiled kernels (default: PERFUSION_THREADS, else "
                   "OMP_NUM_THREADS, else every core).")
@with_debug
def run(case, output, manifest, index, checkpoint_every, resume, backend, precision, overrides,
        quiet, skip_memory_check, no_strict, overwrite, render_after, threads):
    """Run CASE (or member --index of --manifest) and write its results directory."""
    from ..pipeline import run_case

    if threads is not None:
        from ..compute import native

        native.set_threads(threads)

    every = None
    if checkpoint_every is not None:
        from ..library.units import parse_quantity

        try:
            every = parse_quantity(checkpoint_every, "s")
        except ValueError as exc:
            raise PerfusionError(f"--checkpoint-every: {exc} (e.g. '10 min')") from None
    from ..sweep.slurm import recorded_failure

    with recorded_failure(output if manifest is not None else None):  # DIR.error.json
        result = run_case(_case_to_run(case, manifest, index, overrides), output,
                          backend=backend, precision=precision,
                          check_memory=not skip_memory_check, checkpoint_every=every,
                          resume=resume, strict=not no_strict, overwrite=overwrite)
    click.echo(_summary(result.metrics))
    click.echo(f"results: {result.directory}")
    if render_after:
        from ..render.pipeline import render_results

        report_rendered(render_results(result.directory))


def _case_to_run(case, manifest, index, overrides):
    """The case of ``perfusion run``: CASE, or member ``index`` of a sweep manifest."""
    from ..case import load_case

    if manifest is None:
        if case is None or index is not None:
            raise PerfusionError("give a CASE file, or --manifest MANIFEST with --index N")
        return load_case(case, overrides)
    if case is not None or index is None:
        raise PerfusionError("--manifest needs --index N and no CASE argument")
    from ..case.loader import case_from_dict
    from ..sweep.slurm import manifest_entry

    entry = manifest_entry(manifest, index)
    return case_from_dict(entry["case"], source=entry["source"], overrides=overrides)


def _summary(metrics: dict) -> str:
    """The table ``perfusion run`` prints: per-class volume, perfusion and IFP, extremes against
    their physiological bounds (and warnings), trees, drug."""
    lines = [f"{metrics['case']}: {metrics['backend']} ({metrics['precision']}), "
             f"{sum(metrics['timings'].values()):.1f} s"]
    lines.append(f"  {'class':<12}{'volume mL':>11}{'perfusion mL/min/100mL':>24}{'IFP mmHg':>10}")
    for name, volume in metrics["class_volume_ml"].items():
        lines.append(f"  {name:<12}{volume:>11.1f}{metrics['perfusion_mean'][name]:>24.1f}"
                     f"{metrics['ifp_mean'][name] / 133.322:>10.2f}")
    if metrics.get("tissue_presets"):
        lines.append("  tissue presets: " + ", ".join(
            f"{name} {preset}" for name, preset in metrics["tissue_presets"].items()))
    if "extremes" in metrics:
        lines.extend(_extremes_summary(metrics["extremes"]))
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
    if "checks" in metrics:
        from ..results.checks import summary

        lines.append(f"  {summary(metrics['checks'])}")
    return "\n".join(lines)


def _extremes_summary(extremes: dict) -> list[str]:
    """Highest supply pressure and local perfusion against their bounds, and the warnings."""
    def bound(value):
        return f" ({value:.0f})" if value is not None else ""

    pressures = ", ".join(f"{name} {s['pressure_max_mmhg']:.1f}{bound(s['pressure_bound_mmhg'])}"
                          for name, s in extremes["supplies"].items())
    perfusion = ", ".join(f"{name} {c['perfusion_p99']:.0f} / {c['perfusion_max']:.0f}"
                          f"{bound(c['perfusion_bound'])}" for name, c in extremes["classes"].items())
    return ([f"  supply pressure max mmHg (bound): {pressures}",
             f"  perfusion p99 / max mL/min/100mL (bound): {perfusion}"]
            + [f"  WARNING: {line}" for line in extremes["warnings"]])


def _drug_summary(metrics: dict) -> list[str]:
    """Headline exposure: AUC (µg·h/mL) and Cmax (µg/mL) per class, IA against IV."""
    from ..library.units import KG_M3_TO_UG_ML as to_c, KG_S_M3_TO_UG_H_ML as to_auc

    iv = metrics.get("iv", {})
    catheter = "PV" if metrics.get("dose_kg", {}).get("portal_venous") else "IA"
    routes = f"{catheter} / IV" if iv else catheter
    lines = [f"  {metrics['drug']['name']}: every parameter's source in metrics.json drug.sources"]
    if "systemic" in metrics:
        cl = metrics["systemic"]
        lines.append(f"  clearance mL/min: total body {cl['total_body_clearance_ml_min']:.4g} = organ "
                     f"{cl['organ_clearance_ml_min']:.4g} + rest {cl['clearance_rest_ml_min']:.4g}"
                     + (f"; hepatic extraction {metrics['hepatic_extraction']:.2f}"
                        if metrics.get("hepatic_extraction") is not None else ""))
    lines.append(f"  AUC µg·h/mL ({routes}), Cmax µg/mL ({catheter})")
    for name, auc in metrics["auc"].items():
        iv_auc = iv.get("auc", {}).get(name)
        shown = f"{auc * to_auc:.3g}" + (f" / {iv_auc * to_auc:.3g}" if iv_auc is not None else "")
        lines.append(f"  {name:<12}{shown:>20}{metrics['cmax'][name] * to_c:>12.3g}")
    lines.append(f"  systemic plasma {metrics['auc_systemic'] * to_auc:>12.3g}"
                 + (f" / {iv['auc_systemic'] * to_auc:.3g}" if iv else ""))
    if "tumor_to_normal_auc" in metrics:
        lines.append(f"  tumour/normal AUC: {metrics['tumor_to_normal_auc']:.3g}")
    if "regional_advantage" in metrics:
        flow = metrics["regional_advantage_flow"]["catheter_plasma_ml_min"]
        lines.append(f"  regional advantage ({catheter} vs IV): {metrics['regional_advantage']:.3g} "
                     f"(catheter plasma flow {flow:.3g} mL/min)")
    if "embolization" in metrics:
        flow = metrics["embolization"]["catheter_flow_ml_min"]
        lines.append(f"  embolised at {metrics['embolization']['time_s'] / 60:.3g} min: catheter "
                     f"blood flow {flow['before']:.3g} → {flow['after']:.3g} mL/min")
    lines.append(f"  mass balance error: {metrics['mass_balance_error']:.1e}")
    return lines


@click.command()
@click.argument("cases", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@with_debug
def validate(cases, overrides):
    """Check case or sweep files without running them: what run checks in its first seconds
    (geometry, inlets, catheter) and the memory each needs."""
    from ..case import load_case
    from ..pipeline import validate_case
    from ..sweep.members import validate_sweep
    from ..sweep.spec import is_sweep_file

    for path in cases:
        if is_sweep_file(path):
            lines = validate_sweep(path, overrides)
            click.echo(f"{path}: valid sweep")
        else:
            case = load_case(path, overrides)
            lines = validate_case(case)
            click.echo(f"{path}: valid ({case.case.name})")
        for line in lines:
            click.echo(f"  {line}")
