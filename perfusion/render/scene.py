"""The 3D scene (PyVista): organ translucent, tumour surfaces, drug isosurfaces, inlets.

Coordinates are the grid frame in millimetres (voxel (i, j, k) spans [i h, (i+1) h] on each
axis, docs/model.md §1.1). Drug: isosurfaces of total tissue concentration C_t [µg/mL] at three
levels (20%, 50% and 85% of the tissue's 99.5th percentile) at the chosen time,
coloured by value with a labelled bar. Inlets are spheres coloured by supply, arterial trees
tubes coloured by flow (``perfusion.render.tree_scene``); the catheter is drawn as a line
coming from outside the organ to its inlets or its vessel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..library.units import KG_M3_TO_UG_ML, parse_quantity
from ..results.load import ResultsData
from .headless import pyvista_offscreen
from .tree_scene import add_trees

LEVELS = (0.2, 0.5, 0.85)
SUPPLY_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]
CAMERAS = {"iso": "iso", "xy": "xy", "xz": "xz", "yz": "yz"}


def _inlets(data: ResultsData) -> list[tuple[str, str, np.ndarray, bool]]:
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
            found.append((supply["name"], inlet["name"], position, on_catheter))
    return found


def _grid(pyvista, data: ResultsData, arrays: dict[str, np.ndarray]):
    grid = pyvista.ImageData(dimensions=np.array(data.labels.shape) + 1, spacing=data.spacing * 1e3)
    for name, values in arrays.items():
        grid.cell_data[name] = values.ravel(order="F")
    return grid.cell_data_to_point_data()


def scene_figure(data: ResultsData, path: Path, time: float | None = None, size=(1200, 900),
                 cmap: str = "inferno", camera: str = "iso") -> Path:
    """Render the 3D scene to ``path`` (PNG) and return it."""
    pyvista = pyvista_offscreen()
    tissue = (data.labels > 0).astype(float)
    arrays = {"tissue": tissue}
    tumour_classes = [c for c in ("tumor", "necrotic") if c in data.class_names]
    if tumour_classes:
        arrays["tumour"] = np.isin(data.labels, [data.class_names.index(c) for c in tumour_classes]).astype(float)
    title = "steady state"
    if data.has_drug:
        index = data.nearest_output(time if time is not None else (data.end_of_infusion() or 0.0))
        arrays["drug"] = data.fields["c_t"][index].astype(float) * KG_M3_TO_UG_ML
        title = f"C_t at t = {data.fields['drug_times'][index] / 60:.0f} min"
    grid = _grid(pyvista, data, arrays)
    plotter = pyvista.Plotter(off_screen=True, window_size=list(size))
    plotter.set_background("white")
    plotter.add_mesh(grid.contour([0.5], scalars="tissue").smooth(n_iter=30), color="#c9a27e",
                     opacity=0.15)
    if "tumour" in arrays:
        plotter.add_mesh(grid.contour([0.5], scalars="tumour").smooth(n_iter=30), color="#2f6f4f",
                         opacity=0.5)
    if "drug" in arrays:
        top = float(np.percentile(arrays["drug"][data.labels > 0], 99.5))
        levels = [fraction * top for fraction in LEVELS] if top > 0 else []
        if levels:
            surfaces = grid.contour(levels, scalars="drug")
            if surfaces.n_points:
                plotter.add_mesh(surfaces, scalars="drug", cmap=cmap, opacity=0.45,
                                 clim=(0.0, top),
                                 scalar_bar_args={"title": "C_t [µg/mL]\n", "vertical": True,
                                                  "title_font_size": 18, "label_font_size": 14,
                                                  "position_x": 0.86, "position_y": 0.2,
                                                  "height": 0.55, "n_labels": 5,
                                                  "fmt": "%.3g", "color": "black"})
    supplies = sorted({s for s, *_ in _inlets(data)})
    extent = np.array(data.labels.shape) * data.spacing * 1e3
    radius = 0.012 * float(extent.max())
    for tip in add_trees(plotter, pyvista, data.directory, float(extent.max())):
        _catheter(plotter, pyvista, tip, extent, radius)
    for supply, name, position, on_catheter in _inlets(data):
        colour = SUPPLY_COLOURS[supplies.index(supply) % len(SUPPLY_COLOURS)]
        plotter.add_mesh(pyvista.Sphere(radius=radius * (1.8 if on_catheter else 1), center=position),
                         color=colour)
        if on_catheter:
            _catheter(plotter, pyvista, position, extent, radius)
    legend = [[s.replace("_", " "), SUPPLY_COLOURS[i % len(SUPPLY_COLOURS)]] for i, s in enumerate(supplies)]
    legend += [["organ", "#c9a27e"]] + ([["tumour", "#2f6f4f"]] if "tumour" in arrays else [])
    plotter.add_legend(legend, bcolor="white",
                       size=(0.2, 0.2), loc="lower left")
    plotter.add_text(title, font_size=14, color="black", position="upper_left")
    focus = (np.array(data.focus()) + 0.5) * data.spacing * 1e3
    if camera == "iso":
        plotter.camera_position = "iso"
    else:
        plotter.camera_position = CAMERAS[camera]
    plotter.camera.focal_point = focus
    plotter.reset_camera_clipping_range()
    plotter.camera.zoom(1.15)
    plotter.screenshot(str(path))
    plotter.close()
    return Path(path)


def _catheter(plotter, pyvista, tip, extent, radius) -> None:
    """The catheter: a line from above the organ down to its tip [mm]."""
    start = tip + np.array([0.0, 0.0, 0.45 * extent[2]])
    plotter.add_mesh(pyvista.Tube(pointa=start, pointb=tip, radius=radius * 0.35), color="black")
    plotter.add_point_labels([start], ["catheter"], font_size=16, text_color="black",
                             shape_opacity=0.0, show_points=False)
