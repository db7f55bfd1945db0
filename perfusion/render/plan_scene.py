"""The 3D part of ``plan.html``: the planned supply's arterial tree coloured by each candidate
vessel's score, as an offline vtk.js page (:func:`.viewer.standalone_page`).

Grid frame, millimetres. Candidate vessels (the segments with a row in ``plan.csv``) are
tubes coloured by score (viridis, the colour bar is the page's: vtk.js draws no 2D actors);
the other segments are grey; the organ (faint) and the tumour (and necrotic core) surfaces
come from the plan's label image (:func:`.scene.class_surfaces`); the case's own catheter
vessel is wrapped in the palette's catheterised-subtree sleeve. Tube radii are the vessel
radii, widened to stay visible (:func:`.tree_scene.tree_lines`).
"""
from __future__ import annotations

import numpy as np

from .headless import pyvista_offscreen
from .palette import PALETTE
from .plan_files import PlanMaps, PlanTable, tree_path
from .scene import class_surfaces
from .tree_scene import HIGHLIGHT_WIDENING, SLEEVE_OPACITY, tree_lines
from .viewer import standalone_page

SCORE_COLOURMAP = "viridis"
OTHER_VESSELS = "#b0b0b0"


def score_limits(scores: np.ndarray) -> tuple[float, float]:
    """The colour range of the score: its finite minimum and maximum (widened when equal)."""
    finite = scores[np.isfinite(scores)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _subset(pyvista, mesh, cells: np.ndarray, widening: float = 1.0):
    """The line cells ``cells`` of ``mesh`` as their own PolyData with its tube radii."""
    lines = np.asarray(mesh.lines).reshape(-1, 3)[cells].ravel()
    sub = pyvista.PolyData(np.asarray(mesh.points), lines=lines)
    sub.point_data["tube_radius"] = widening * np.asarray(mesh.point_data["tube_radius"])
    return sub


def plan_scene_page(table: PlanTable, maps: PlanMaps) -> str:
    """The self-contained vtk.js page of the tree coloured by score."""
    pyvista = pyvista_offscreen()
    plotter = pyvista.Plotter(off_screen=True, window_size=(900, 700))
    plotter.set_background("white")
    layers = []
    for meaning, surface in class_surfaces(pyvista, maps).items():
        plotter.add_mesh(surface, color=PALETTE[meaning], opacity=0.1 if meaning == "organ" else 0.5)
        layers.append((meaning, "layer", 1))
    extent = float((np.array(maps.labels.shape) * maps.spacing * 1e3).max())
    mesh, arrays = tree_lines(pyvista, tree_path(table), extent)
    segment_ids = np.asarray(arrays.get("segment_id", np.arange(mesh.n_cells)), dtype=np.int64)
    scores = dict(zip(table.vessels.tolist(), table.columns["score"].tolist()))
    score = np.array([scores.get(int(s), np.nan) for s in segment_ids])
    candidate = np.isfinite(score)
    if (~candidate).any():
        plotter.add_mesh(_subset(pyvista, mesh, np.flatnonzero(~candidate)).tube(
            scalars="tube_radius", absolute=True, n_sides=8), color=OTHER_VESSELS)
        layers.append(("other vessels (not candidates, grey)", "layer", 1))
    if candidate.any():
        tubes = _subset(pyvista, mesh, np.flatnonzero(candidate))
        tubes.cell_data["score"] = score[candidate]
        tubes = tubes.cell_data_to_point_data(pass_cell_data=True)
        plotter.add_mesh(tubes.tube(scalars="tube_radius", absolute=True, n_sides=8),
                         scalars="score", cmap=SCORE_COLOURMAP, clim=score_limits(score),
                         show_scalar_bar=False)
        layers.append(("candidate vessels (colour: score)", "layer", 1))
    case_vessel = table.meta.get("case_vessel")
    if case_vessel is not None and (segment_ids == int(case_vessel)).any():
        sleeve = _subset(pyvista, mesh, np.flatnonzero(segment_ids == int(case_vessel)),
                         HIGHLIGHT_WIDENING)
        plotter.add_mesh(sleeve.tube(scalars="tube_radius", absolute=True, n_sides=8),
                         color=PALETTE["catheterised subtree"], opacity=SLEEVE_OPACITY)
        layers.append((f"case catheter vessel {case_vessel}", "layer", 1))
    plotter.camera_position = "iso"
    plotter.reset_camera()
    return standalone_page(plotter, layers, f"perfusion plan: {table.meta['case']} tree")
