"""The 3D scene (PyVista): organ outline, tumour surfaces, drug isosurfaces, trees, inlets.

Coordinates are the grid frame in millimetres (voxel (i, j, k) spans [i h, (i+1) h] on each
axis, docs/model.md §1.1). Colours have one meaning in every case (:mod:`.palette`). The organ
is a faint surface with an opaque outline in its legend colour. Drug: isosurfaces of the AUC
of total tissue concentration [µg·h/mL] (or, at a chosen time, of C_t [µg/mL]) at 10, 50 and
90 % of the target's (tumour's) class mean of that field, each level a fixed colour named in
the legend with its value. Inlets are spheres coloured by supply kind, arterial trees tubes
coloured by flow (:mod:`.tree_scene`); the catheter is a line from outside the organ to its
inlets or its vessel. A ruler of a stated length [mm] and axes labelled with the patient
direction each grid axis increases towards (from the affine; phantoms: grid axes as R, A, S)
give scale and orientation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML, parse_quantity
from ..results.load import ResultsData
from .headless import pyvista_offscreen
from .orientation import axis_codes, scale_bar_mm
from .palette import ISO_LEVELS, ORGAN_OPACITY, PALETTE, supply_colour, supply_legend
from .tree_scene import add_trees

CAMERAS = {"iso": "iso", "xy": "xy", "xz": "xz", "yz": "yz"}
WINDOW_CENTRE = (0.38, 0.0)   # the view's centre shifted right [normalised viewport], so the
                             # organ sits left of the legend
LEGEND_SIZE = 0.33           # the legend's width, as a fraction of the window's
LEGEND_BACKGROUND = "#f2f2f2"
LEGEND_TEXT = "#1a1a1a"
TUMOUR_CLASSES = {"tumor": "tumour", "necrotic": "necrotic core"}


@dataclass(frozen=True)
class IsoLevel:
    """One drawn isosurface: palette key, fraction of the target mean, value, opacity."""

    key: str
    fraction: float
    value: float
    opacity: float


def inlets(data: ResultsData) -> list[tuple[dict, str, np.ndarray, bool]]:
    """(supply, inlet, position mm, catheterised) for every inlet of the resolved case."""
    catheter = data.case.get("catheter", {})
    spacing_mm = data.spacing * 1e3
    found = []
    for supply in data.case.get("supplies", []):
        for inlet in supply.get("inlets", []):
            if "position" in inlet:
                position = np.array([parse_quantity(p, "m") for p in inlet["position"]]) * 1e3
            else:
                position = (np.asarray(inlet["voxel"]) + 0.5) * spacing_mm
            on_catheter = catheter.get("supply") == supply["name"] and inlet["name"] in catheter.get("inlets", [])
            found.append((supply, inlet["name"], position, on_catheter))
    return found


def scene_grid(pyvista, data: ResultsData, arrays: dict[str, np.ndarray]):
    """Cell arrays on the results grid [mm], interpolated to points for contouring."""
    grid = pyvista.ImageData(dimensions=np.array(data.labels.shape) + 1, spacing=data.spacing * 1e3)
    for name, values in arrays.items():
        grid.cell_data[name] = values.ravel(order="F")
    return grid.cell_data_to_point_data()


def class_surfaces(pyvista, data: ResultsData) -> dict[str, object]:
    """Smoothed surfaces [mm] keyed by palette meaning: ``organ``, ``tumour``, ``necrotic core``."""
    arrays = {"organ": (data.labels > 0).astype(float)}
    for name, meaning in TUMOUR_CLASSES.items():
        if name in data.class_names and data.class_mask(name).any():
            arrays[meaning] = data.class_mask(name).astype(float)
    grid = scene_grid(pyvista, data, arrays)
    return {meaning: grid.contour([0.5], scalars=meaning).smooth(n_iter=30) for meaning in arrays}


def iso_levels(data: ResultsData, values: np.ndarray) -> list[IsoLevel]:
    """:data:`ISO_LEVELS` as values of ``values``: fractions of its mean over the target class
    (the tissue when there is none); empty when that mean is not positive."""
    mask = data.class_mask(data.target) if data.target else data.labels > 0
    mean = float(values[mask].mean()) if mask.any() else 0.0
    return [IsoLevel(key, fraction, fraction * mean, opacity)
            for key, fraction, opacity in ISO_LEVELS] if mean > 0 else []


def drug_field(data: ResultsData, time: float | None) -> tuple[np.ndarray, str, str] | None:
    """(values, name, unit): the AUC [µg·h/mL], or C_t [µg/mL] at the output nearest ``time``."""
    if not data.has_drug:
        return None
    if time is None and "auc" in data.fields:
        return data.fields["auc"].astype(float) * KG_S_M3_TO_UG_H_ML, "AUC", "µg·h/mL"
    index = data.nearest_output(time if time is not None else (data.end_of_infusion() or 0.0))
    minutes = data.fields["drug_times"][index] / 60
    return (data.fields["c_t"][index].astype(float) * KG_M3_TO_UG_ML,
            f"C_t at t = {minutes:.0f} min", "µg/mL")


def scene_figure(data: ResultsData, path: Path, time: float | None = None, size=(1200, 900),
                 camera: str = "iso") -> Path:
    """Render the 3D scene to ``path`` (PNG) and return it; ``time`` [s]: draw C_t at that
    output time instead of the AUC."""
    pyvista = pyvista_offscreen()
    plotter = pyvista.Plotter(off_screen=True, window_size=list(size))
    plotter.set_background("white")
    legend = []
    surfaces = class_surfaces(pyvista, data)
    organ_bounds = np.reshape(surfaces["organ"].bounds, (3, 2))
    for meaning, surface in surfaces.items():
        if meaning == "organ":
            plotter.add_mesh(surface, color=PALETTE["organ"], opacity=ORGAN_OPACITY,
                             silhouette={"color": PALETTE["organ"], "line_width": 2.0})
        else:
            plotter.add_mesh(surface, color=PALETTE[meaning], opacity=0.6)
        legend.append([meaning, PALETTE[meaning]])
    drug = drug_field(data, time)
    title = "steady state"
    if drug is not None:
        values, title, unit = drug
        grid = scene_grid(pyvista, data, {"drug": values})
        for level in iso_levels(data, values):
            surface = grid.contour([level.value], scalars="drug")
            if surface.n_points:
                plotter.add_mesh(surface, color=PALETTE[level.key], opacity=level.opacity)
                legend.append([f"{title.split(' at ')[0]} {level.fraction:.0%} of {data.target or 'tissue'}"
                               f" mean: {level.value:.3g} {unit}", PALETTE[level.key]])
    extent = np.array(data.labels.shape) * data.spacing * 1e3
    radius = 0.012 * float(extent.max())
    tips = add_trees(plotter, pyvista, data.directory, float(extent.max()))
    legend += [["catheterised subtree", PALETTE["catheterised subtree"]]] if tips else []
    for supply, _, position, on_catheter in inlets(data):
        plotter.add_mesh(pyvista.Sphere(radius=radius * (1.8 if on_catheter else 1), center=position),
                         color=supply_colour(supply))
        tips += [position] if on_catheter else []
    for tip in tips:
        catheter_line(plotter, pyvista, tip, extent, radius)
    legend += [["catheter", PALETTE["catheter"]]] if tips else []
    add_legend(plotter, pyvista, [*supply_legend(data.case.get("supplies", [])), *legend])
    plotter.add_text(f"{title}: isosurfaces" if drug is not None else title, font_size=12,
                     color="black", position="upper_left")
    _scale_and_orientation(plotter, data, organ_bounds)
    focus = (np.array(data.focus()) + 0.5) * data.spacing * 1e3
    plotter.camera_position = CAMERAS[camera]
    plotter.camera.focal_point = focus
    plotter.reset_camera_clipping_range()
    plotter.camera.zoom(1.15)
    plotter.camera.SetWindowCenter(*WINDOW_CENTRE)    # the organ left of the legend
    plotter.screenshot(str(path))
    plotter.close()
    return Path(path)


def orientation_letters(data: ResultsData) -> tuple[str, str, str]:
    """The patient direction grid axes i, j, k increase towards (phantoms: R, A, S)."""
    from .slices import grid_axes_only

    return ("R", "A", "S") if grid_axes_only(data) else axis_codes(data.fields["affine"])


def ruler_ends(organ_bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scale ruler's ends [mm]: a round length along the grid's first axis, centred under
    the organ on the front lower edge of its bounding box ((min, max) per axis, mm), the
    edge nearest the iso camera."""
    length = scale_bar_mm(2 * float(np.ptp(organ_bounds[0])))
    middle = np.array([organ_bounds[0].mean(), organ_bounds[1, 1], organ_bounds[2, 0]])
    half = np.array([length / 2, 0.0, 0.0])
    return middle - half, middle + half


def _scale_and_orientation(plotter, data: ResultsData, organ_bounds: np.ndarray) -> None:
    """A ruler of a round length [mm] under the organ (:func:`ruler_ends`), and labelled axes."""
    start, end = ruler_ends(organ_bounds)
    ruler = plotter.add_ruler(start, end, title="", number_labels=2, show_labels=False,
                              tick_color="black", tick_length=8)
    ruler.GetProperty().SetLineWidth(3)
    below = np.array([0.0, 0.0, 0.1 * float(np.ptp(organ_bounds[2]))])
    plotter.add_point_labels([(start + end) / 2 - below], [f"{np.linalg.norm(end - start):g} mm"],
                             font_size=18, text_color="black", shape_opacity=0.0,
                             show_points=False, always_visible=True)
    letters = orientation_letters(data)
    plotter.add_axes(xlabel=letters[0], ylabel=letters[1], zlabel=letters[2], color="black")


def add_legend(plotter, pyvista, entries) -> None:
    """The legend, upper right: dark text on a light box, each swatch a ``(label, colour)``
    entry's drawn colour (VTK draws an entry's text in its colour unless that is unset)."""
    height = 0.032 * len(entries)
    legend = plotter.add_legend([list(entry) for entry in entries], bcolor=LEGEND_BACKGROUND,
                                border=True, face="rectangle", loc=None)
    legend.SetPosition(0.99 - LEGEND_SIZE, 0.95 - height)      # inside the frame, top right
    legend.SetPosition2(LEGEND_SIZE, height)
    for index, (_, colour) in enumerate(entries):
        swatch = pyvista.wrap(legend.GetEntrySymbol(index)).copy()
        swatch.cell_data["colour"] = np.tile(np.array(pyvista.Color(colour).int_rgb, np.uint8),
                                             (swatch.n_cells, 1))
        legend.SetEntrySymbol(index, swatch)
        legend.SetEntryColor(index, -1.0, -1.0, -1.0)
    legend.GetEntryTextProperty().SetColor(pyvista.Color(LEGEND_TEXT).float_rgb)


def catheter_tube(pyvista, tip, extent, radius):
    """The catheter [mm]: a tube of ``radius`` from above the organ (``extent``: the grid's
    size, mm) down to its tip."""
    return pyvista.Tube(pointa=tip + np.array([0.0, 0.0, 0.45 * extent[2]]), pointb=tip,
                        radius=radius)


def catheter_line(plotter, pyvista, tip, extent, radius) -> None:
    """The catheter (:func:`catheter_tube`), labelled at its upper end."""
    tube = catheter_tube(pyvista, tip, extent, radius * 0.35)
    plotter.add_mesh(tube, color=PALETTE["catheter"])
    start = tip + np.array([0.0, 0.0, 0.45 * extent[2]])
    plotter.add_point_labels([start], ["catheter"], font_size=16, text_color="black",
                             shape_opacity=0.0, show_points=False)
