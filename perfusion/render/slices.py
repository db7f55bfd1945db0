"""Orthogonal slices of a results directory, and the figure helpers the other renders share.

Units shown: concentration µg/mL (= 1000 × kg/m³), perfusion mL/min/100 mL (= 6000 × 1/s),
interstitial fluid pressure (IFP) mmHg (= Pa / 133.32), territory fraction [-]. Axes are the
grid frame in mm: the outer corner of voxel (0, 0, 0) is the origin, so voxel ``i`` spans
``[i, i + 1) × spacing`` (the frame positions in case files use). Views: axial fixes ``k``
(x–y), coronal fixes ``j`` (x–z), sagittal fixes ``i`` (y–z); the planes are chosen in
:mod:`.planes`. Every panel carries orientation letters and a scale bar (:mod:`.orientation`);
drug colour limits come from :mod:`.limits`, shared with the animation (per row: 0 to the
99.5th percentile; the steady IFP: percentiles, from 0 where near-uniform, its range stated
on the bar). Unless a height is asked for, the slice figure's height follows the panels'
aspect, so no empty band sits above or below them. Where the case named
a CT or MR (``geometry.background``), it is drawn grey under semi-transparent maps, its
window in the legend (:mod:`.underlay`).

Figures use matplotlib's object API (``Figure`` + ``FigureCanvasAgg``: no pyplot, no global
backend state), ``DPI`` = 100, so ``size`` in pixels is the saved PNG's size exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ResultsError
from ..library.units import KG_M3_TO_UG_ML, PA_TO_MMHG, PER_S_TO_ML_MIN_100ML
from ..results.load import ResultsData
from .headless import require
from .limits import SCALE_NOTES, drug_limits, drug_norm, robust_limits, spread_limits
from .outlines import draw_outlines, outline_handles
from .orientation import CONVENTION_NOTES, GRID_AXES_NOTE, orient_panel, panel_orientation
from .planes import VIEWS, Plane, picture_centre, plane, slice_planes, tissue_box
from .underlay import Window, background_plane, background_window, draw_underlay

DPI = 100
OUTSIDE_COLOUR = "0.82"
FIELD_LABELS = {"c_t": "total tissue concentration $C_t$", "c_e": "extracellular $c_e$",
                "c_c": "cell-associated $c_c$"}
_BAR_NAMES = {"c_t": "total tissue drug $C_t$", "c_e": "extracellular drug $c_e$",
              "c_c": "cell-associated drug $c_c$"}
# inches around the panels of the slice figure: per panel (y ticks and label), per row (3-line
# title, x ticks and label), and once (colour bar, 3-line suptitle, legend)
_PANEL_MARGIN_IN, _ROW_MARGIN_IN, _BAR_IN, _HEADER_IN = 0.62, 1.05, 1.2, 1.1


@dataclass
class SlicePanel:
    """One plotted plane: the values drawn (NaN outside), their labels and where they sit."""

    view: str
    index: int                 # voxel index of the plane along the fixed axis
    time_s: float | None
    image: np.ndarray          # [a, b]: first axis horizontal, in display units
    labels: np.ndarray         # [a, b] class indices
    extent: tuple[float, float, float, float]  # mm: (x0, x1, y0, y1)
    through: str = ""          # what the plane passes through, e.g. "tumour centre"
    background: np.ndarray | None = None   # [a, b] the anatomy (image units), drawn grey
    window: Window | None = None           # its grey window
    ax: object = None          # the matplotlib Axes, once drawn


def new_figure(size: tuple[int, int], layout: str | None = "constrained"):
    """A detached Agg figure of ``size`` pixels (at ``DPI``)."""
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def format_time(seconds: float) -> str:
    """``4500`` → ``"1 h 15 min"``; minutes are rounded to the nearest one."""
    if seconds <= 0:
        return "0"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def grid_axes_only(data: ResultsData) -> bool:
    """True where the results carry no patient affine (phantoms, older results)."""
    if "patient_oriented" in data.fields:
        return not bool(data.fields["patient_oriented"])
    return data.case.get("geometry", {}).get("kind") == "phantom" or "affine" not in data.fields


def orientation_note(data: ResultsData, convention: str) -> str:
    """What the figure's orientation letters mean, for its subtitle."""
    note = CONVENTION_NOTES[convention]
    return f"{note}; {GRID_AXES_NOTE}" if grid_axes_only(data) else note


def draw_panel(ax, data: ResultsData, panel: SlicePanel, cmap, vmin=None, vmax=None, norm=None,
               convention: str = "radiological"):
    """Draw one panel (the anatomy in grey where the panel has it, the image over it,
    outlines, mm axes, orientation letters from the results' affine in ``convention``, scale
    bar); returns the image artist."""
    _, (xlabel, ylabel) = VIEWS[panel.view]
    ax.set_facecolor(OUTSIDE_COLOUR)
    alpha = draw_underlay(ax, panel.background, panel.window, panel.extent)
    scaling = {"norm": norm} if norm is not None else {"vmin": vmin, "vmax": vmax}
    image = ax.imshow(np.ma.masked_invalid(panel.image).T, origin="lower", extent=panel.extent,
                      cmap=cmap, interpolation="nearest", aspect="equal", alpha=alpha,
                      **scaling)
    draw_outlines(ax, panel.labels, data.class_names, panel.extent)
    affine = np.diag([*(data.spacing * 1e3), 1.0]) if grid_axes_only(data) else data.fields["affine"]
    shown = Plane(panel.view, panel.index, panel.through).shown_axes
    orient_panel(ax, panel.extent, panel_orientation(affine, shown, convention))
    ax.set_xlabel(f"{xlabel} (mm)")
    ax.set_ylabel(f"{ylabel} (mm)")
    panel.ax = ax
    return image


def bar_label(field: str) -> str:
    """The colour bar label of drug ``field``, e.g. ``total tissue drug $C_t$ [µg/mL]``."""
    return f"{_BAR_NAMES.get(field, field)} [µg/mL]"


def fitted_height(panels: list[SlicePanel], columns: int, width_px: int) -> int:
    """Pixel height at which ``columns`` panels per row fill ``width_px``: the panels' mm
    aspect plus the margins around them (``_PANEL_MARGIN_IN`` …)."""
    rows = len(panels) // columns
    widths = [p.extent[1] - p.extent[0] for p in panels[:columns]]
    tallest = max(p.extent[3] - p.extent[2] for p in panels[:columns])
    inches = width_px / DPI - columns * _PANEL_MARGIN_IN - _BAR_IN
    row_in = tallest * inches / sum(widths) + _ROW_MARGIN_IN
    return int(round((rows * row_in + _HEADER_IN) * DPI))


def drug_field(data: ResultsData, field: str) -> np.ndarray:
    if field not in data.fields or "drug_times" not in data.fields:
        raise ResultsError(f"{data.directory} has no drug field {field!r} (a steady-only run?); "
                           "slice figures of concentration need a case with [[infusion]]")
    return data.fields[field]


def default_times(data: ResultsData) -> list[float]:
    """End of infusion and end of run (one if they coincide)."""
    times = data.fields["drug_times"]
    wanted = [t for t in (data.end_of_infusion(), float(times[-1])) if t is not None]
    indices = sorted({data.nearest_output(t) for t in wanted})
    return [float(times[i]) for i in indices]


def slice_panels(data: ResultsData, times=None, field: str = "c_t") -> list[SlicePanel]:
    """Per time, the planes of :func:`slice_planes` (target centre, then catheter territory
    centre where apart), in µg/mL, NaN outside the tissue."""
    values = drug_field(data, field)
    times = default_times(data) if times is None else [float(t) for t in times]
    box, labels, window = tissue_box(data.labels), data.labels, background_window(data)
    panels = []
    for time in times:
        output = data.nearest_output(time)
        volume = np.where(labels > 0, values[output] * KG_M3_TO_UG_ML, np.nan)
        for cut in slice_planes(data):
            image, extent = plane(data, volume, cut.view, cut.index, box)
            label_plane, _ = plane(data, labels, cut.view, cut.index, box)
            panels.append(SlicePanel(cut.view, cut.index, float(data.fields["drug_times"][output]),
                                     image, label_plane, extent, cut.through,
                                     background_plane(data, cut.view, cut.index, box), window))
    return panels


def build_slice_figure(data: ResultsData, times=None, field: str = "c_t",
                       size=(1600, None), cmap: str = "inferno",
                       convention: str = "radiological", scale: str = "per-row"):
    """The slice figure and its panels (with ``.ax`` set), unsaved: for tests and callers.

    One row per time with its own colour bar; colour limits from :func:`drug_limits`
    (the animation's too), stated under the title with the orientation convention. A height
    of None in ``size`` is :func:`fitted_height`.
    """
    panels = slice_panels(data, times, field)
    columns = len(slice_planes(data))
    rows = len(panels) // columns
    widths = [p.extent[1] - p.extent[0] for p in panels[:columns]]
    size = (size[0], size[1] or fitted_height(panels, columns, size[0]))
    fig = new_figure(size, layout="compressed")
    axes = np.atleast_2d(fig.subplots(rows, columns, gridspec_kw={"width_ratios": widths}))
    end = data.end_of_infusion()
    for row in range(rows):
        output = data.nearest_output(panels[row * columns].time_s)
        norm = drug_norm(drug_limits(data, field, output, scale), scale)
        for ax, panel in zip(axes[row], panels[row * columns:(row + 1) * columns]):
            image = draw_panel(ax, data, panel, cmap, norm=norm, convention=convention)
            axis = VIEWS[panel.view][0]
            where = (panel.index + 0.5) * data.spacing[axis] * 1e3
            when = format_time(panel.time_s)
            if end is not None and abs(panel.time_s - end) < 1:
                when += " (end of infusion)"
            ax.set_title(f"t = {when}\n{panel.view}, {'xyz'[axis]} = {where:.0f} mm\n"
                         f"through {panel.through}", fontsize=10)
        bar = fig.colorbar(image, ax=axes[row], shrink=0.9, pad=0.02,
                           extend="neither" if scale == "log" else "max")
        bar.set_label(bar_label(field), fontsize=10)
        bar.ax.set_title(f"{scale}\nlimits" if scale == "per-row" else "log\nscale", fontsize=8)
    fig.legend(handles=outline_handles(data), loc="outside lower center", ncol=4, fontsize=11,
               frameon=False)
    fig.suptitle(f"{data.metrics.get('case', data.directory.name)}: "
                 f"{FIELD_LABELS.get(field, field)} in tissue\n"
                 f"{orientation_note(data, convention)}\n{SCALE_NOTES[scale]}", fontsize=11)
    return fig, panels


def slice_figure(data: ResultsData, path, times=None, field: str = "c_t",
                 size=(1600, None), cmap: str = "inferno", convention: str = "radiological",
                 scale: str = "per-row") -> Path:
    """Orthogonal slices of ``field`` (µg/mL) through the target and the catheter territory,
    one row per time; ``size`` in pixels, a None height fitted to the panels.

    Examples
    --------
    >>> slice_figure(load_results("results/liver-hai"), "figures/slices.png")  # doctest: +SKIP
    """
    fig, _ = build_slice_figure(data, times, field, size, cmap, convention, scale)
    return save_figure(fig, path)


def _extend(values: np.ndarray, vmin: float, vmax: float) -> str:
    """Colour bar arrows where ``values`` pass the limits."""
    below, above = bool((values < vmin).any()), bool((values > vmax).any())
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither")


def steady_figure(data: ResultsData, path, size=(1600, 560),
                  convention: str = "radiological") -> Path:
    """Save :func:`build_steady_figure` to ``path``."""
    return save_figure(build_steady_figure(data, size, convention), path)


def build_steady_figure(data: ResultsData, size=(1600, 560), convention: str = "radiological"):
    """Perfusion, catheter territory and IFP on the axial plane through :func:`picture_centre`;
    each panel its own colour limits (perfusion from 0; IFP by :func:`spread_limits`, its
    tissue range and rule on the colour bar)."""
    (focus, through), box, tissue = picture_centre(data), tissue_box(data.labels), data.labels > 0
    maps = [("perfusion", PER_S_TO_ML_MIN_100ML, "perfusion (mL/min/100 mL)", "viridis", None),
            ("territory", 1.0, "catheter territory (share of plasma)", "cividis", (0.0, 1.0)),
            ("ifp", PA_TO_MMHG, "interstitial fluid pressure (mmHg)", "plasma", None)]
    maps = [m for m in maps if m[0] in data.fields]
    fig = new_figure(size)
    axes = np.atleast_1d(fig.subplots(1, len(maps)))
    labels, _ = plane(data, data.labels, "axial", focus[2], box)
    anatomy = background_plane(data, "axial", focus[2], box), background_window(data)
    for ax, (name, factor, label, cmap, limits) in zip(axes, maps):
        volume = np.where(tissue, data.fields[name] * factor, np.nan)
        image, extent = plane(data, volume, "axial", focus[2], box)
        vmin, vmax, note = (*limits, "") if limits else (
            spread_limits(volume[tissue], "mmHg") if name == "ifp"
            else (0.0, robust_limits(volume[tissue], 0, 99)[1], ""))
        panel = SlicePanel("axial", focus[2], None, image, labels, extent, "", *anatomy)
        artist = draw_panel(ax, data, panel, cmap, vmin, vmax, convention=convention)
        ax.set_title(label.split(" (")[0].capitalize(), fontsize=12)
        fig.colorbar(artist, ax=ax, orientation="horizontal", shrink=0.85, pad=0.02, aspect=30,
                     extend=_extend(volume[tissue], vmin, vmax)
                     ).set_label(f"{label}\n{note}" if note else label, fontsize=11)
    z = (focus[2] + 0.5) * data.spacing[2] * 1e3
    fig.suptitle(f"{data.metrics.get('case', data.directory.name)}: steady fields, axial "
                 f"plane z = {z:.0f} mm through {through}\n{orientation_note(data, convention)}; "
                 "colour limits per panel", fontsize=13)
    fig.legend(handles=outline_handles(data), loc="outside right center", fontsize=11,
               frameon=False)
    return fig
