"""An animation of the drug in tissue: the axial plane through the slices' picture centre
(tumour, else catheter territory, else tissue centre of mass) at every output time.

Units shown: concentration µg/mL (= 1000 × kg/m³), axes mm in the grid frame, clock in h/min.
Colour limits come from :func:`.limits.drug_limits`, the function the slice figure's rows
use: per frame (the colour bar follows) by default, or one log range over the run, so a frame
and the ``slices.png`` row at the same time show the same colours. Orientation letters and
the scale bar as in the slices, and so is the grey anatomy under the map where the case
has one. Frames are ``size`` pixels, rounded up to multiples of 16 (what H.264 encoders
need; GIFs get the same for one code path).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..library.units import KG_M3_TO_UG_ML
from ..results.load import ResultsData
from .headless import require
from .limits import SCALE_NOTES, drug_limits, drug_norm
from .planes import VIEWS, picture_centre, plane, tissue_box
from .underlay import background_plane, background_window
from .outlines import outline_handles
from .slices import (SlicePanel, bar_label, draw_panel, drug_field, format_time, new_figure,
                     orientation_note)

log = logging.getLogger(__name__)
BLOCK = 16


def frame_size(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` rounded up to multiples of 16 pixels."""
    return tuple(int(-(-int(n) // BLOCK) * BLOCK) for n in size)


def _ffmpeg_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def frame_limits(data: ResultsData, field: str = "c_t",
                 scale: str = "per-row") -> list[tuple[float, float]]:
    """Colour limits [µg/mL] of every frame: :func:`drug_limits` at each output."""
    return [drug_limits(data, field, output, scale)
            for output in range(len(data.fields["drug_times"]))]


def render_frames(data: ResultsData, field: str = "c_t", size=(960, 544),
                  cmap: str = "inferno", convention: str = "radiological",
                  scale: str = "per-row") -> list[np.ndarray]:
    """One RGB frame (uint8, ``frame_size(size)`` pixels) per output time."""
    values = drug_field(data, field)
    times = data.fields["drug_times"]
    width, height = frame_size(size)
    tissue = data.labels > 0
    limits = frame_limits(data, field, scale)
    (focus, through), box = picture_centre(data), tissue_box(data.labels)
    labels, _ = plane(data, data.labels, "axial", focus[2], box)

    def image_at(output: int) -> np.ndarray:
        volume = np.where(tissue, values[output] * KG_M3_TO_UG_ML, np.nan)
        return plane(data, volume, "axial", focus[2], box)

    first, extent = image_at(0)
    fig = new_figure((width, height))
    ax = fig.subplots()
    first_panel = SlicePanel("axial", focus[2], float(times[0]), first, labels, extent, through,
                             background_plane(data, "axial", focus[2], box),
                             background_window(data))
    artist = draw_panel(ax, data, first_panel, cmap, norm=drug_norm(limits[0], scale),
                        convention=convention)
    cax = ax.inset_axes([1.04, 0.0, 0.035, 1.0])    # follows the aspect-locked panel
    fig.colorbar(artist, cax=cax, extend="max" if scale == "per-row" else "both").set_label(
        bar_label(field), fontsize=12)
    z = (focus[2] + 0.5) * data.spacing[VIEWS["axial"][0]] * 1e3
    ax.set_title(f"{data.metrics.get('case', data.directory.name)}: axial plane z = {z:.0f} mm through {through}"
                 f"\n{orientation_note(data, convention)}\n{SCALE_NOTES[scale]}",
                 fontsize=9, loc="left")
    fig.legend(handles=outline_handles(data), loc="outside lower center", ncol=4, fontsize=11,
               frameon=False)
    clock = fig.text(0.99, 0.01, "t = 00 h 00 min (infusing)", ha="right", va="bottom",
                     fontsize=14, fontweight="bold")   # bottom right: clear of the title
    fig.canvas.draw()
    fig.set_layout_engine("none")   # freeze the layout: the clock's width must not move panels
    windows = _infusing(data)
    frames = []
    for output, time in enumerate(times):
        artist.set_data(np.ma.masked_invalid(image_at(output)[0]).T)
        artist.set_clim(*limits[output])
        note = " (infusing)" if any(start < time <= end for start, end in windows) else ""
        clock.set_text(f"t = {format_time(float(time))}{note}")
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    assert frames[0].shape[:2] == (height, width), "figure size drifted from the frame size"
    return frames


def _infusing(data: ResultsData) -> list[tuple[float, float]]:
    from .plots import infusion_windows

    return [(start, end) for start, end, _ in infusion_windows(data)]


def animate(data: ResultsData, path, field: str = "c_t", size=(960, 544), fps: float = 4,
            cmap: str = "inferno", convention: str = "radiological",
            scale: str = "per-row") -> tuple[Path, int]:
    """Write the animation (``.gif``, or ``.mp4`` where imageio-ffmpeg is installed).

    Returns the path written (``.gif`` instead of ``.mp4`` when ffmpeg is missing, with a
    warning in the log) and the number of frames (= the number of drug outputs).

    Examples
    --------
    >>> animate(load_results("results/liver-hai"), "figures/animation.gif")  # doctest: +SKIP
    """
    imageio = require("imageio.v2")
    path = Path(path)
    frames = render_frames(data, field, size, cmap, convention, scale)
    if path.suffix.lower() == ".mp4" and not _ffmpeg_available():
        log.warning("imageio-ffmpeg is not installed: writing a GIF instead of %s "
                    "(pip install imageio-ffmpeg for MP4)", path.name)
        path = path.with_suffix(".gif")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".mp4":
        with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                macro_block_size=BLOCK, pixelformat="yuv420p") as writer:
            for frame in frames:
                writer.append_data(frame)
    else:
        imageio.mimsave(path, frames, format="GIF", duration=1000 / fps, loop=0)
    log.info("animation %s: %d frames at %s fps", path.name, len(frames), fps)
    return path, len(frames)

