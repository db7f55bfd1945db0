"""``plan.html``: one self-contained, offline page to choose a catheter position from a
``perfusion plan`` directory (:mod:`.plan_files`).

It holds: the arterial tree in 3D coloured by score, non-candidates grey (:mod:`.plan_scene`,
an ``<iframe srcdoc>``; left out, with the reason on the page, where OpenGL or vtk.js is
missing); the ranked table of every candidate; and, for the vessel chosen (table row or select
box), its numbers and two maps in three planes through the target's centre of mass (axial
fixes k: x–y, coronal fixes j: x–z, sagittal fixes i: y–z; grid frame, mm, cropped to the
tissue): the territory (share of each voxel's blood that comes through the vessel [-],
0 to 1) and the AUC of total tissue concentration [µg·h/mL], linear from 0 to ``auc_max`` (the
99.5th percentile of the embedded AUC planes, at least the threshold, which the colour bar
marks). Maps are uint8 codes (0–254 over the range, 255 outside the tissue), deflated and
base64-embedded for the :data:`MAP_CANDIDATES` best ranks only, which keeps the page's size
bounded; inline JavaScript inflates them (``DecompressionStream``) and paints ``<canvas>``es.
Nothing is fetched, so the page works from ``file://``.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import zlib
from pathlib import Path

import numpy as np

from ..errors import RenderingError
from .headless import require
from .plan_files import PlanMaps, PlanTable, load_plan_maps, load_plan_table
from .plan_page_script import PAGE_SCRIPT, PAGE_STYLE
from .plan_scene import SCORE_COLOURMAP, plan_scene_page, score_limits
from .planes import VIEWS, plane, tissue_box

log = logging.getLogger(__name__)

MAP_CANDIDATES = 100     # candidates whose maps are embedded (best ranks)
OUTSIDE_CODE = 255       # map code of voxels outside the tissue
LEVELS = 254             # codes 0..254 span each map's range
MAP_COLOURMAPS = {"territory": "Blues", "auc": "inferno"}
#: the table's columns: (plan.csv column, heading, unit, scale, decimals)
TABLE = (("rank", "rank", "", 1, 0), ("vessel", "vessel", "", 1, 0),
         ("radius_mm", "radius", "mm", 1, 2), ("flow_ml_min", "flow", "mL/min", 1, 3),
         ("terminals", "terminals", "", 1, 0), ("tumor_blood_share", "target blood share", "%", 100, 1),
         ("tumor_coverage", "target coverage", "%", 100, 1),
         ("tumor_auc", "target AUC", "µg·h/mL", 1, 3), ("normal_auc", "normal AUC", "µg·h/mL", 1, 3),
         ("normal_volume_above_ml", "normal volume ≥ threshold", "mL", 1, 2),
         ("tumor_to_normal_auc", "target/normal AUC", "", 1, 2),
         ("regional_advantage", "regional advantage", "", 1, 2), ("score", "score", "", 1, 3))


def plan_page(plan_dir: Path) -> Path:
    """Write ``plan_dir/plan.html`` and return it."""
    table, maps = load_plan_table(plan_dir), load_plan_maps(plan_dir)
    try:
        scene = plan_scene_page(table, maps)
    except RenderingError as exc:
        log.warning("plan.html without its 3D tree: %s", exc)
        scene = None
    path = Path(plan_dir) / "plan.html"
    path.write_text(page_html(table, maps, scene), encoding="utf-8")
    return path


def focus_voxel(maps: PlanMaps, target: str) -> tuple[int, int, int]:
    """The voxel the planes pass through: the target's centre of mass (the tissue's if the
    label image has no such class or it is empty)."""
    mask = maps.class_mask(target) if target in maps.class_names else maps.labels > 0
    if not mask.any():
        mask = maps.labels > 0
    return tuple(int(round(c)) for c in np.argwhere(mask).mean(axis=0))


def quantise(values: np.ndarray, top: float) -> np.ndarray:
    """uint8 codes: 0..``LEVELS`` for 0..``top`` (clipped), ``OUTSIDE_CODE`` for NaN."""
    codes = np.clip(np.round(np.nan_to_num(values / top, nan=0.0) * LEVELS), 0, LEVELS)
    return np.where(np.isnan(values), OUTSIDE_CODE, codes).astype(np.uint8)


def _planes(maps: PlanMaps, volume: np.ndarray, focus, box) -> list[np.ndarray]:
    """The three planes of ``volume``, each stored row by row from the top (vertical axis
    decreasing) so that row 0 is the canvas's top."""
    return [plane(maps, volume, view, focus[axis], box)[0].T[::-1]
            for view, (axis, _) in VIEWS.items()]


def map_data(table: PlanTable, maps: PlanMaps) -> dict:
    """The embedded maps and their geometry (see the module docstring)."""
    target = str(table.meta["target"])
    focus = focus_voxel(maps, target)
    box = tissue_box(maps.labels)
    row_of = {int(v): i for i, v in enumerate(maps.vessels)}
    chosen = [int(v) for v in table.vessels[:MAP_CANDIDATES] if int(v) in row_of]
    territory, auc = [], []
    for vessel in chosen:
        territory.append(_planes(maps, maps.volume(maps.territory[row_of[vessel]]), focus, box))
        auc.append(_planes(maps, maps.volume(maps.auc[row_of[vessel]]), focus, box))
    shown = np.concatenate([p.ravel() for planes in auc for p in planes]) if auc else np.zeros(1)
    finite = shown[np.isfinite(shown)]
    auc_max = max(float(np.percentile(finite, 99.5)) if finite.size else 0.0, table.threshold,
                  1e-12)
    blob = b"".join(quantise(p, top).tobytes() for planes_t, planes_a in zip(territory, auc)
                    for planes, top in ((planes_t, 1.0), (planes_a, auc_max)) for p in planes)
    label_planes = _planes(maps, maps.labels, focus, box)
    views = []
    for (view, (axis, names)), labelled in zip(VIEWS.items(), label_planes):
        extent = plane(maps, maps.labels, view, focus[axis], box)[1]
        views.append({"name": view, "index": int(focus[axis]), "fixed": "ijk"[axis],
                      "axes": list(names), "width": int(labelled.shape[1]),
                      "height": int(labelled.shape[0]), "extent_mm": [float(e) for e in extent]})
    labels = b"".join(p.astype(np.uint8).tobytes() for p in label_planes)
    return {"views": views, "vessels": chosen, "auc_max": auc_max,
            "target_label": maps.class_names.index(target) if target in maps.class_names else -1,
            "maps": base64.b64encode(zlib.compress(blob, 9)).decode("ascii"),
            "labels": base64.b64encode(zlib.compress(labels, 9)).decode("ascii"),
            "luts": {name: _lut(colourmap) for name, colourmap in
                     {**MAP_COLOURMAPS, "score": SCORE_COLOURMAP}.items()}}


def _lut(colourmap: str) -> list[str]:
    """``LEVELS`` + 1 colours (hex) of a matplotlib colour map, low to high."""
    colours = require("matplotlib").colormaps[colourmap](np.linspace(0, 1, LEVELS + 1))
    return ["#%02x%02x%02x" % tuple(int(round(255 * c)) for c in rgba[:3]) for rgba in colours]


def _cell(value: float, scale: float, decimals: int) -> str:
    return "–" if not np.isfinite(value) else f"{value * scale:.{decimals}f}"


def _table_html(table: PlanTable, mapped: set[int]) -> str:
    """The ranked table: one row per candidate; rows with maps are selectable."""
    heads = "".join(f'<th scope="col">{html.escape(label)}' + (f" ({unit})" if unit else "")
                    + "</th>" for _, label, unit, *_ in TABLE)
    rows = []
    for index, vessel in enumerate(table.vessels.tolist()):
        cells = "".join(f"<td>{_cell(table.columns[key][index], scale, decimals)}</td>"
                        for key, _, _, scale, decimals in TABLE)
        attributes = (f' tabindex="0" data-vessel="{vessel}"' if vessel in mapped
                      else f' class="nomaps" data-vessel="{vessel}" title="no maps embedded"')
        rows.append(f"<tr{attributes}>{cells}</tr>")
    return (f'<table id="candidates"><caption>Candidates ranked by score ({len(rows)}); '
            f"click a row or press Enter on it to show its maps</caption><thead><tr>{heads}"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _rows_json(table: PlanTable) -> list[dict]:
    """Each candidate's displayed numbers, keyed by heading with its unit."""
    return [{"vessel": int(vessel), "numbers": [
        [label + (f" ({unit})" if unit else ""), _cell(table.columns[key][index], scale, decimals)]
        for key, label, unit, scale, decimals in TABLE]}
        for index, vessel in enumerate(table.vessels.tolist())]


def page_html(table: PlanTable, maps: PlanMaps, scene: str | None) -> str:
    """The page's text; ``scene``: the 3D tree page (None: left out)."""
    meta = table.meta
    data = map_data(table, maps)
    low, high = score_limits(table.columns["score"])
    case_vessel = meta.get("case_vessel")
    payload = {**data, "rows": _rows_json(table), "threshold": table.threshold,
               "case_vessel": case_vessel, "score_range": [low, high]}
    options = "".join(f'<option value="{v}">#{r} — vessel {v}'
                      f'{" (case catheter)" if v == case_vessel else ""}</option>'
                      for v, r in zip(table.vessels.tolist(), table.columns["rank"].astype(int))
                      if v in set(data["vessels"]))
    if scene is None:
        three_d = ("<p class=note>The 3D tree is left out: rendering it needs OpenGL and "
                   "trame-vtk here (pip install 'perfusion-ia[render]').</p>")
    else:
        three_d = (f'<iframe id="tree3d" title="3D arterial tree, candidate vessels coloured by '
                   f'score, others grey" srcdoc="{html.escape(scene, quote=True)}"></iframe>'
                   f'<div class="bar" id="scorebar" role="img" aria-label="score colour bar, '
                   f'{low:.3g} to {high:.3g}"></div><div class="ticks"><span>score {low:.3g}'
                   f'</span><span>{high:.3g}</span></div>')
    limited = (f"Maps are embedded for the best {len(data['vessels'])} of {len(table.vessels)} "
               "candidates (rows in grey have numbers only)." if len(data["vessels"]) <
               len(table.vessels) else f"Maps are embedded for all {len(table.vessels)} candidates.")
    title = f"perfusion plan: {meta['case']}"
    embedded = json.dumps(payload).replace("</", "<\\/")     # no early </script>
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{PAGE_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Catheter positions on the <b>{html.escape(str(meta['supply']))}</b> tree ranked for the
<b>{html.escape(str(meta['target']))}</b>: {html.escape(str(meta['score']))}.
Coverage and normal volume count AUC ≥ {table.threshold:.3g} µg·h/mL. {limited}
The case's own catheter vessel: {'none' if case_vessel is None else case_vessel}.</p>
<div class="top"><section class="scene" aria-label="3D tree">{three_d}</section>
<section class="chosen" aria-label="chosen candidate">
<label for="vessel">Candidate vessel</label> <select id="vessel">{options}</select>
<dl id="numbers"></dl><div id="maps"></div></section></div>
{_table_html(table, set(data["vessels"]))}
<script id="plan-data" type="application/json">{embedded}</script>
<script>{PAGE_SCRIPT}</script></body></html>
"""
