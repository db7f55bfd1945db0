"""``render_results``: every picture, the report and the exports of a results directory.

Figures go to ``DIR/figures``: each is drawn into ``figures.partial`` and, once all asked
for are drawn, replaces only its own file there, so rendering a subset (``--only``) leaves the
other figures in place. ``DIR/report.html`` embeds every figure in ``DIR/figures``, ``DIR/exports`` holds NIfTI maps aligned with
the input image and the tissue as a hexahedral mesh (docs/model.md §10; README.md, Results directory).
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..results.load import load_results

log = logging.getLogger(__name__)

ALL_FIGURES = ("slices", "steady", "scene", "animation", "curves", "dvh", "viewer")


@dataclass(frozen=True)
class RenderOptions:
    """What to draw and how (sizes in pixels; times in seconds; None = sensible default)."""

    figures: tuple[str, ...] = ALL_FIGURES
    field: str = "c_t"
    times: tuple[float, ...] | None = None
    size: tuple[int, int] | None = None
    cmap: str = "inferno"
    camera: str = "iso"
    convention: str = "radiological"   # slice display: "radiological" or "neurological"
    colour_scale: str = "per-row"      # drug colour limits: "per-row" or "log"
    animation_format: str = "gif"
    report: bool = True
    exports: bool = True


def _draw(name: str, data, folder: Path, options: RenderOptions) -> Path | None:
    size = {"size": options.size} if options.size else {}
    if name == "slices" and data.has_drug:
        from .slices import slice_figure

        return slice_figure(data, folder / "slices.png", times=options.times, field=options.field,
                            cmap=options.cmap, convention=options.convention,
                            scale=options.colour_scale, **size)
    if name == "steady":
        from .slices import steady_figure

        return steady_figure(data, folder / "steady.png", convention=options.convention, **size)
    if name == "scene":
        from .scene import scene_figure

        time_s = options.times[0] if options.times else None
        return scene_figure(data, folder / "scene.png", time=time_s, camera=options.camera, **size)
    if name == "animation" and data.has_drug:
        from .animation import animate

        path, _ = animate(data, folder / f"animation.{options.animation_format}", field=options.field,
                          convention=options.convention, scale=options.colour_scale)
        return path
    if name == "curves" and data.has_drug:
        from .plots import curves_figure

        return curves_figure(data, folder / "curves.png", **size)
    if name == "dvh" and data.has_drug:
        from .plots import dvh_figure

        return dvh_figure(data, folder / "dvh.png", **size)
    if name == "viewer":
        from .viewer import write_viewer

        return write_viewer(data, folder / "viewer.html")
    return None


def figure_files(folder: Path, name: str) -> list[Path]:
    """The file(s) of figure ``name`` in ``folder`` (``animation.gif`` or ``animation.mp4``)."""
    return sorted(folder.glob(f"{name}.*"))


def render_results(directory: str | Path, options: RenderOptions = RenderOptions()) -> dict[str, Path]:
    """Draw the figures asked for, write the report and the exports; return every file written."""
    data = load_results(directory)
    final = data.directory / "figures"
    partial = data.directory / "figures.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    drawn, written = {}, {}
    try:
        for name in options.figures:
            start = time.perf_counter()
            path = _draw(name, data, partial, options)
            if path is not None:
                drawn[name] = (path, time.perf_counter() - start)
        final.mkdir(exist_ok=True)
        for name, (path, seconds) in drawn.items():
            for old in figure_files(final, name):
                old.unlink()
            written[name] = final / path.name
            os.replace(path, written[name])
            log.info("figure %s: %s (%.1f s)", name, written[name], seconds)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    if options.report:
        from .report import write_report
        from .viewer import viewer_section

        shown = {name: path for name in ALL_FIGURES for path in figure_files(final, name)}
        written["report"] = write_report(data, shown, data.directory / "report.html",
                                         extra_sections=[viewer_section(final)])
    if options.exports:
        from ..results.export import export_results

        written.update({f"export {k}": v for k, v in
                        export_results(data, data.directory / "exports").items()})
    return written
