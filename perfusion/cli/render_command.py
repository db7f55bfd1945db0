"""``perfusion render``: figures, report.html and exports of a results directory.

Also :func:`report_rendered`, the listing of written files that ``perfusion run --render``
prints too.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import PerfusionError
from .options import with_debug


@click.command()
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
@click.option("--convention", type=click.Choice(["radiological", "neurological"]),
              default="radiological", help="Slices: patient's left on the image's right "
              "(radiological) or left (neurological).")
@click.option("--colour-scale", type=click.Choice(["per-row", "log"]), default="per-row",
              help="Drug colour limits of slices and animation: per time, or one log range.")
@click.option("--only", multiple=True, metavar="FIGURE",
              help="Draw only these figures (slices, steady, scene, animation, curves, dvh).")
@click.option("--no-report", is_flag=True, help="Skip report.html.")
@click.option("--no-export", is_flag=True, help="Skip the NIfTI and mesh exports.")
@with_debug
def render(results, field, times, size, cmap, camera, animation, convention, colour_scale, only,
           no_report, no_export):
    """Draw the figures of RESULTS, write report.html and the exports."""
    from ..render.pipeline import ALL_FIGURES, RenderOptions, render_results
    from ..library.units import parse_quantity

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
                            convention=convention, colour_scale=colour_scale,
                            report=not no_report, exports=not no_export)
    report_rendered(render_results(results, options))


def report_rendered(written: dict) -> None:
    """Print one line per file written by the rendering: its name and its path."""
    for name, path in written.items():
        click.echo(f"  {name:<18} {path}")
