"""Orthogonal slices of a results directory, and the figure helpers the other renders share.

Units shown: concentration µg/mL (= 1000 × kg/m³), perfusion mL/min/100 mL (= 6000 × 1/s),
interstitial fluid pressure (IFP) mmHg (= Pa / 133.32), territory fraction [-]. Axes are the
grid frame in mm: the outer corner of voxel (0, 0, 0) is the origin, so voxel ``i`` spans
``[i, i + 1) × spacing`` (the frame positions in case files use). Views: axial fixes ``k``
(x–y), coronal fixes ``j`` (x–z), sagittal fixes ``i`` (y–z).

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

DPI = 100
VIEWS = {"axial": (2, ("x", "y")), "coronal": (1, ("x", "z")), "sagittal": (0, ("y", "z"))}
OUTSIDE_COLOUR = "0.82"
FIELD_LABELS = {"c_t": "total tissue concentration $C_t$", "c_e": "extracellular $c_e$",
                "c_c": "cell-associated $c_c$"}
# (colour, line style, width) of each outline; other user classes cycle through _EXTRA.
_OUTLINE_STYLE = {"tissue": ("black", "-", 1.4), "tumour": ("#00d8ff", "--", 1.8),
                  "necrotic": ("#7dff4a", ":", 2.0)}
_EXTRA = [("#ff6ad5", "-.", 1.6), ("white", (0, (5, 1, 1, 1)), 1.6)]


@dataclass
class SlicePanel:
    """One plotted plane: the values drawn (NaN outside), their labels and where they sit."""

    view: str
    index: int                 # voxel index of the plane along the fixed axis
    time_s: float | None
    image: np.ndarray          # [a, b]: first axis horizontal, in display units
    labels: np.ndarray         # [a, b] class indices
    extent: tuple[float, float, float, float]  # mm: (x0, x1, y0, y1)
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


def tissue_box(labels: np.ndarray, margin: int = 2) -> tuple[slice, slice, slice]:
    """The tissue's bounding box grown by ``margin`` voxels (the whole grid if no tissue)."""
    where = np.argwhere(labels > 0)
    if not len(where):
        return tuple(slice(0, n) for n in labels.shape)
    low, high = where.min(axis=0) - margin, where.max(axis=0) + margin + 1
    return tuple(slice(max(int(lo), 0), min(int(hi), n))
                 for lo, hi, n in zip(low, high, labels.shape))


def plane(data: ResultsData, volume: np.ndarray, view: str, index: int, box=None):
    """The ``view`` plane of ``volume`` through ``index``, cropped to ``box``; its extent [mm]."""
    axis, _ = VIEWS[view]
    box = box or tuple(slice(0, n) for n in volume.shape)
    cut = list(box)
    cut[axis] = index
    shown = [a for a in range(3) if a != axis]
    mm = data.spacing * 1e3
    extent = (box[shown[0]].start * mm[shown[0]], box[shown[0]].stop * mm[shown[0]],
              box[shown[1]].start * mm[shown[1]], box[shown[1]].stop * mm[shown[1]])
    return volume[tuple(cut)], extent


def _outline_masks(labels: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    masks = {"tissue": labels > 0}
    if "tumor" in names:
        tumour = labels == names.index("tumor")
        if "necrotic" in names:
            tumour |= labels == names.index("necrotic")
        masks["tumour"] = tumour
    if "necrotic" in names:
        masks["necrotic"] = labels == names.index("necrotic")
    for name in names[1:]:
        if name not in ("normal", "tumor", "necrotic"):
            masks[name] = labels == names.index(name)
    return masks


def _style(name: str, order: int):
    return _OUTLINE_STYLE.get(name, _EXTRA[order % len(_EXTRA)])


def _rim(colour: str, width: float) -> list:
    """A dark rim that keeps light outlines visible on light colours."""
    from matplotlib import patheffects

    return [] if colour == "black" else [patheffects.withStroke(linewidth=width + 1.6,
                                                                foreground="black")]


def draw_outlines(ax, labels: np.ndarray, names: list[str], extent) -> None:
    """Contours of tissue, tumour (with its core), necrotic core and any user class."""
    up = 4   # contour a 4× nearest-upsampled mask: the line follows the voxel faces
    a, b = labels.shape[0] * up, labels.shape[1] * up
    x = np.linspace(extent[0], extent[1], 2 * a + 1)[1::2]   # sub-voxel centres
    y = np.linspace(extent[2], extent[3], 2 * b + 1)[1::2]
    for order, (name, mask) in enumerate(_outline_masks(labels, names).items()):
        if mask.any() and not mask.all():
            colour, style, width = _style(name, order)
            fine = np.kron(mask.T, np.ones((up, up))).astype(float)
            contour = ax.contour(x, y, fine, levels=[0.5], colors=[colour],
                                 linestyles=[style], linewidths=width)
            contour.set_path_effects(_rim(colour, width))


def outline_handles(data: ResultsData):
    """Legend entries for the outlines present anywhere in the grid."""
    from matplotlib.lines import Line2D

    masks = _outline_masks(data.labels, data.class_names)
    return [Line2D([], [], color=c, linestyle=s, linewidth=w, label=name, path_effects=_rim(c, w))
            for order, name in enumerate(masks) if masks[name].any()
            for c, s, w in [_style(name, order)]]


def draw_panel(ax, data: ResultsData, panel: SlicePanel, cmap, vmin, vmax):
    """Draw one panel (image, outlines, mm axes); returns the image artist."""
    _, (xlabel, ylabel) = VIEWS[panel.view]
    ax.set_facecolor(OUTSIDE_COLOUR)
    image = ax.imshow(np.ma.masked_invalid(panel.image).T, origin="lower", extent=panel.extent,
                      cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", aspect="equal")
    draw_outlines(ax, panel.labels, data.class_names, panel.extent)
    ax.set_xlabel(f"{xlabel} (mm)")
    ax.set_ylabel(f"{ylabel} (mm)")
    panel.ax = ax
    return image


def robust_limits(values: np.ndarray, low=1.0, high=99.5) -> tuple[float, float]:
    """Percentile colour limits of finite ``values``, widened if they coincide."""
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in np.percentile(values, [low, high]))
    return (vmin, vmax) if vmax > vmin else (vmin, vmin + max(abs(vmin), 1e-12))


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
    """Axial, coronal and sagittal planes through the focus at each time (µg/mL, NaN outside)."""
    values = drug_field(data, field)
    times = default_times(data) if times is None else [float(t) for t in times]
    focus, box, labels = data.focus(), tissue_box(data.labels), data.labels
    panels = []
    for time in times:
        output = data.nearest_output(time)
        volume = np.where(labels > 0, values[output] * KG_M3_TO_UG_ML, np.nan)
        for view, (axis, _) in VIEWS.items():
            image, extent = plane(data, volume, view, focus[axis], box)
            label_plane, _ = plane(data, labels, view, focus[axis], box)
            panels.append(SlicePanel(view, focus[axis], float(data.fields["drug_times"][output]),
                                     image, label_plane, extent))
    return panels


def build_slice_figure(data: ResultsData, times=None, field: str = "c_t",
                       size=(1600, 1000), cmap: str = "inferno"):
    """The slice figure and its panels (with ``.ax`` set), unsaved: for tests and callers."""
    panels = slice_panels(data, times, field)
    outputs = sorted({data.nearest_output(p.time_s) for p in panels})
    tissue = data.labels > 0
    vmin, vmax = robust_limits(data.fields[field][outputs][:, tissue] * KG_M3_TO_UG_ML)
    rows = len(outputs)
    widths = [p.extent[1] - p.extent[0] for p in panels[:3]]
    fig = new_figure(size, layout="compressed")
    axes = np.atleast_2d(fig.subplots(rows, 3, gridspec_kw={"width_ratios": widths}))
    end = data.end_of_infusion()
    for ax, panel in zip(axes.flat, panels):
        image = draw_panel(ax, data, panel, cmap, vmin, vmax)
        axis = VIEWS[panel.view][0]
        where = (panel.index + 0.5) * data.spacing[axis] * 1e3
        when = format_time(panel.time_s)
        if end is not None and abs(panel.time_s - end) < 1:
            when += " (end of infusion)"
        ax.set_title(f"t = {when}\n{panel.view}, {'xyz'[axis]} = {where:.0f} mm", fontsize=11)
    bar = fig.colorbar(image, ax=axes, shrink=0.9, extend="both", pad=0.02)
    bar.set_label(f"{FIELD_LABELS.get(field, field)} (µg/mL)", fontsize=12)
    fig.legend(handles=outline_handles(data), loc="outside lower center", ncol=4, fontsize=11,
               frameon=False)
    fig.suptitle(f"{data.metrics.get('case', data.directory.name)}: drug in tissue through "
                 f"the {data.target or 'tissue'} centre", fontsize=14)
    return fig, panels


def slice_figure(data: ResultsData, path, times=None, field: str = "c_t",
                 size=(1600, 1000), cmap: str = "inferno") -> Path:
    """Orthogonal slices of ``field`` (µg/mL) through the focus, one row per time.

    Examples
    --------
    >>> slice_figure(load_results("results/liver-hai"), "figures/slices.png")  # doctest: +SKIP
    """
    fig, _ = build_slice_figure(data, times, field, size, cmap)
    return save_figure(fig, path)


def steady_figure(data: ResultsData, path, size=(1600, 560)) -> Path:
    """Perfusion, catheter territory and IFP on the axial plane through the focus."""
    focus, box, tissue = data.focus(), tissue_box(data.labels), data.labels > 0
    maps = [("perfusion", PER_S_TO_ML_MIN_100ML, "perfusion (mL/min/100 mL)", "viridis", None),
            ("territory", 1.0, "catheter territory (share of plasma)", "cividis", (0.0, 1.0)),
            ("ifp", PA_TO_MMHG, "interstitial fluid pressure (mmHg)", "plasma", None)]
    maps = [m for m in maps if m[0] in data.fields]
    fig = new_figure(size)
    axes = np.atleast_1d(fig.subplots(1, len(maps)))
    labels, _ = plane(data, data.labels, "axial", focus[2], box)
    for ax, (name, factor, label, cmap, limits) in zip(axes, maps):
        volume = np.where(tissue, data.fields[name] * factor, np.nan)
        image, extent = plane(data, volume, "axial", focus[2], box)
        vmin, vmax = limits or (0.0, robust_limits(volume[tissue], 0, 99)[1])
        artist = draw_panel(ax, data, SlicePanel("axial", focus[2], None, image, labels, extent),
                            cmap, vmin, vmax)
        ax.set_title(label.split(" (")[0].capitalize(), fontsize=12)
        fig.colorbar(artist, ax=ax, orientation="horizontal", shrink=0.85, pad=0.02, aspect=30,
                     extend="neither" if limits else "max").set_label(label, fontsize=11)
    z = (focus[2] + 0.5) * data.spacing[2] * 1e3
    fig.suptitle(f"{data.metrics.get('case', data.directory.name)}: steady fields, axial "
                 f"plane z = {z:.0f} mm", fontsize=14)
    fig.legend(handles=outline_handles(data), loc="outside right center", fontsize=11,
               frameon=False)
    return save_figure(fig, path)
