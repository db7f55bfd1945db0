"""Where the slice figures cut: orthogonal planes through the target's centre (the tumour)
and through the catheter territory's centre of mass; without a target, through the
territory's centre only (a brain's tissue centre is the midline fissure, far from an MCA
territory); with neither, through the tissue voxels' centre of mass.

Indices are voxels of the grid; extents are millimetres in the grid frame (the outer corner
of voxel (0, 0, 0) is the origin). Views: axial fixes ``k`` (x–y), coronal fixes ``j``
(x–z), sagittal fixes ``i`` (y–z).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results.load import ResultsData

VIEWS = {"axial": (2, ("x", "y")), "coronal": (1, ("x", "z")), "sagittal": (0, ("y", "z"))}
SAME_PLANE_VOXELS = 3   # a territory plane closer than this to the target's is not drawn twice


@dataclass(frozen=True)
class Plane:
    """One cut: its view, its voxel index along the fixed axis and what it passes through."""

    view: str
    index: int
    through: str

    @property
    def shown_axes(self) -> tuple[int, int]:
        """The grid axes drawn (horizontal, vertical)."""
        return tuple(a for a in range(3) if a != VIEWS[self.view][0])


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


def territory_centre(data: ResultsData) -> tuple[float, float, float] | None:
    """Territory-weighted centroid of the tissue voxels [voxel indices]; None without a
    catheter territory (``territory`` in fields.npz) or where it is empty."""
    if "territory" not in data.fields:
        return None
    weight = np.where(data.labels > 0, np.nan_to_num(data.fields["territory"]), 0.0)
    total = weight.sum()
    if total <= 0:
        return None
    return tuple(float((weight.sum(axis=tuple(b for b in range(3) if b != a))
                        * np.arange(weight.shape[a])).sum() / total) for a in range(3))


def _has_target(data: ResultsData) -> bool:
    return data.target is not None and bool(data.class_mask(data.target).any())


def picture_centre(data: ResultsData) -> tuple[tuple[int, int, int], str]:
    """The voxel single-plane pictures (steady fields, animation) cut through, and what it is:
    the target's centre of mass, else the catheter territory's, else the tissue's."""
    centre = None if _has_target(data) else territory_centre(data)
    if centre is not None:
        return tuple(int(round(c)) for c in centre), "catheter territory centre"
    if _has_target(data):
        target = "tumour" if data.target in ("tumor", "tumour") else data.target
        return data.focus(), f"{target} centre"
    return data.focus(), "tissue centre of mass"     # mean voxel, not the bounding box's middle


def slice_planes(data: ResultsData) -> list[Plane]:
    """Axial, coronal and sagittal planes through :func:`picture_centre`; with a target, then
    those through the catheter territory's centre of mass that are not within
    ``SAME_PLANE_VOXELS`` of the target's planes."""
    focus, target = picture_centre(data)
    planes = [Plane(view, focus[axis], target) for view, (axis, _) in VIEWS.items()]
    centre = territory_centre(data) if _has_target(data) else None
    if centre is None:
        return planes
    for number, (view, (axis, _)) in enumerate(VIEWS.items()):
        index = int(round(centre[axis]))
        if abs(index - focus[axis]) < SAME_PLANE_VOXELS:
            planes[number] = Plane(view, focus[axis], f"{target} and territory centre")
        else:
            planes.append(Plane(view, index, "catheter territory centre"))
    return planes
