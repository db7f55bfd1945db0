"""Arterial trees in the 3D scene: tubes coloured by flow, the catheterised subtree marked.

Reads every ``fields/tree_<supply>.vtp`` of a results directory. Tube radii are the
vessel radii, widened to at least ``MIN_TUBE`` of the scene's extent so that small
vessels stay visible; colour is ``log10`` of the segment flow [mL/min]. The catheterised
subtree (cell array ``catheter``) is wrapped in a wider translucent tube of the palette's
"catheterised subtree" colour (:mod:`.palette`), and the catheter tip (its most upstream node)
is returned for the catheter marker.

The files are read as plain line cells (:mod:`perfusion.io.vtp`), pictures needing no
physics: as the results store trees, line cell ``s`` is segment ``s`` from its upstream to
its downstream node, with cell arrays ``radius``, ``flow`` [m³/s] and ``catheter``, points
and radii in the unit of the file's ``length_unit`` field data (``"mm"``; metres in results
written before the field existed), drawn in millimetres.
"""
from __future__ import annotations

import numpy as np

from ..errors import ResultsError
from ..io.vtp import read_vtp_lines
from ..library.units import M3_S_TO_ML_MIN, M_TO_MM, file_length_metres
from .palette import PALETTE

MIN_TUBE = 0.0025          # minimum drawn tube radius, as a fraction of the scene's extent
HIGHLIGHT_WIDENING = 1.6  # the catheterised subtree's sleeve radius / the vessel's tube radius
SLEEVE_OPACITY = 0.65     # the sleeve's: cyan stands out from viridis teal, flow shows through


def add_trees(plotter, pyvista, directory, extent_mm: float) -> list[np.ndarray]:
    """Add the results' trees to ``plotter``; return the catheter tip positions [mm]."""
    tips = []
    for path in sorted((directory / "fields").glob("tree_*.vtp")):
        mesh, cells = tree_lines(pyvista, path, extent_mm)
        points, lines = np.asarray(mesh.points), np.asarray(mesh.lines)
        segments = lines.reshape(-1, 3)[:, 1:]
        flow = np.log10(np.maximum(np.abs(cells["flow"]) * M3_S_TO_ML_MIN, 1e-9))
        mesh.cell_data["flow"] = flow
        mesh = mesh.cell_data_to_point_data(pass_cell_data=True)
        plotter.add_mesh(mesh.tube(scalars="tube_radius", absolute=True, n_sides=8),
                         scalars="flow", cmap="viridis", clim=(np.percentile(flow, 5), flow.max()),
                         scalar_bar_args={"title": "log10 flow [mL/min]\n", "vertical": True,
                                          "position_x": 0.88, "position_y": 0.12,
                                          "height": 0.38, "color": "black", "fmt": "%.1f"})
        flag = cells.get("catheter")
        if flag is not None and flag.any():
            inside = np.flatnonzero(flag == 1)
            sub = pyvista.PolyData(points, lines=lines.reshape(-1, 3)[inside].ravel())
            sub.point_data["tube_radius"] = HIGHLIGHT_WIDENING * mesh.point_data["tube_radius"]
            plotter.add_mesh(sub.tube(scalars="tube_radius", absolute=True, n_sides=8),
                             color=PALETTE["catheterised subtree"], opacity=SLEEVE_OPACITY,
                             ambient=0.5)
            feeding = _incoming(segments, len(points))[segments[inside, 0]]
            first = inside[(feeding < 0) | (flag[np.maximum(feeding, 0)] == 0)][0]
            tips.append(points[segments[first, 0]])
    return tips


def tree_lines(pyvista, path, extent_mm: float):
    """A tree file as line PolyData [mm], line cell ``s`` = segment ``s``, with point array
    ``tube_radius`` (the vessel radius, at least ``MIN_TUBE`` × ``extent_mm``), and the file's
    cell arrays."""
    tree = read_vtp_lines(path)
    try:
        to_mm = file_length_metres(tree.field_data, 1.0) * M_TO_MM
    except ValueError as exc:
        raise ResultsError(f"{path}: {exc}") from None
    cells = tree.cell_data
    segments = np.array(tree.lines, dtype=np.int64).reshape(-1, 2)
    points = tree.points * to_mm
    mesh = pyvista.PolyData(points, lines=np.column_stack([np.full(len(segments), 2),
                                                            segments]).ravel())
    radius = np.zeros(len(points))
    radius[segments[:, 1]] = cells["radius"] * to_mm
    radius[segments[:, 0]] = np.maximum(radius[segments[:, 0]], cells["radius"] * to_mm)
    mesh.point_data["tube_radius"] = np.maximum(radius, MIN_TUBE * extent_mm)
    return mesh, cells


def _incoming(segments: np.ndarray, nodes: int) -> np.ndarray:
    """The segment feeding each node (−1: a root), from (upstream, downstream) segments."""
    incoming = np.full(nodes, -1, dtype=np.int64)
    incoming[segments[:, 1]] = np.arange(len(segments))
    return incoming
