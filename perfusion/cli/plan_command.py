"""``perfusion plan``: rank every candidate catheter position of a case (``perfusion.plan``)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import PerfusionError
from .options import backend_option, quiet_option, with_debug


@click.command()
@click.argument("case", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Plan directory (default: results/<case name>-plan).")
@click.option("--candidates", metavar="IDS",
              help="Only these vessels (segment ids, comma-separated), e.g. 17,204,504.")
@click.option("--min-radius", default="0.5 mm", show_default=True, metavar="LENGTH",
              help="Smallest vessel a microcatheter enters (docs: 2.0–2.4 Fr tips, 0.67–0.80 mm).")
@click.option("--exact", default=0, show_default=True, metavar="K",
              help="Re-run the K best candidates with the full model and report the plan's "
                   "error against them (linear_error).")
@click.option("--no-pairs", is_flag=True, help="Skip the split-dose pairs (pairs.csv).")
@click.option("--no-figures", is_flag=True, help="Skip pareto.png and plan.html.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a case key with a TOML value, e.g. --set grid.shape=[48,48,40].")
@click.option("--overwrite", is_flag=True, help="Replace the plan already in DIR.")
@backend_option
@quiet_option
@with_debug
def plan(case, output, candidates, min_radius, exact, no_pairs, no_figures, overrides, overwrite,
         backend, quiet):
    """Rank every catheter position in CASE's catheterised tree by drug exposure."""
    from ..case import load_case
    from ..library.units import parse_quantity
    from ..pipeline import naming_the_file
    from ..plan.exact import rerun_exact
    from ..plan.files import check_plan_dir, write_plan
    from ..plan.run import plan_case

    try:
        radius = parse_quantity(min_radius, "m")
        vessels = ([int(v) for v in candidates.split(",") if v.strip()]
                   if candidates else None)
    except ValueError as exc:
        raise PerfusionError(f"--min-radius/--candidates: {exc} (e.g. --min-radius '0.5 mm' "
                             "--candidates 17,204)") from None
    loaded = load_case(case, overrides)
    directory = check_plan_dir(output or Path("results") / f"{loaded.case.name}-plan", overwrite)
    with naming_the_file(loaded):       # keyed errors name the case file
        result = plan_case(loaded, vessels=vessels, min_radius=radius, pairs=not no_pairs,
                           backend=backend)
    if exact:
        rerun_exact(loaded, result, exact, backend)
    written = write_plan(result, directory, overwrite)
    figures = [] if no_figures else _figures(written)
    _summary(result, written, figures)


def _figures(directory: Path) -> list[Path]:
    from ..render.plan_figure import pareto_figure
    from ..render.plan_page import plan_page

    return [pareto_figure(directory), plan_page(directory)]


def _summary(result, directory: Path, figures: list[Path]) -> None:
    from ..library.units import KG_S_M3_TO_UG_H_ML

    info = result.info
    click.echo(f"{info['candidates']} candidates ranked in {info['seconds']['total']:.1f} s "
               f"({info['pieces']} piece responses; drug {info['drug']}, "
               f"{'linear' if info['linear_model'] else 'linearised saturable'} model)")
    click.echo(" rank vessel  radius  flow     blood→tumour coverage  T/N AUC  tumour AUC  score")
    for row in result.rows[:10]:
        click.echo(f" {row['rank']:4d} {row['vessel']:6d} {row['radius_mm']:5.2f} mm "
                   f"{row['flow_ml_min']:6.1f} mL/min {100 * row['tumor_blood_share']:5.1f}% "
                   f"{100 * row['tumor_coverage']:7.1f}% {row['tumor_to_normal_auc']:8.2f} "
                   f"{row['tumor_auc'] * KG_S_M3_TO_UG_H_ML:9.4g}  {row['score']:+.3f}")
    for path in ["plan.csv", "pairs.csv", "plan.json", "plan_maps.npz", *figures]:
        click.echo(f"wrote {directory / path}")
