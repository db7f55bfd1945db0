"""Built-in phantoms: an organ (box, sphere or ellipsoid) with spherical tumours.

Voxel ``(i, j, k)`` has its centre at ``x = ((i + ½) h_x, (j + ½) h_y, (k + ½) h_z)``
(the grid frame of docs/model.md §1.1, metres here). A voxel belongs to a shape when its centre
does. Tumours are clipped to the organ; a necrotic core replaces the tumour's centre.
Labels: 0 outside, 1 normal, 2 tumour, 3 necrotic.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeometryError

PHANTOM_CLASSES = ("outside", "normal", "tumor", "necrotic")


def voxel_centres(shape, spacing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcastable coordinates of the voxel centres along each axis [m]."""
    axes = [(np.arange(n) + 0.5) * h for n, h in zip(shape, spacing)]
    return (axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :])


def organ_mask(organ, shape, spacing) -> np.ndarray:
    """Boolean mask of the organ described by an ``OrganSpec``."""
    x = voxel_centres(shape, spacing)
    extent = np.asarray(shape) * np.asarray(spacing)
    centre = np.asarray(organ.center) if organ.center is not None else extent / 2
    if organ.shape == "box":
        if organ.size is None:
            return np.ones(shape, dtype=bool)
        half = np.asarray(organ.size) / 2
        inside = [np.abs(x[a] - centre[a]) <= half[a] for a in range(3)]
        return inside[0] & inside[1] & inside[2]
    radii = np.asarray(organ.radii if organ.shape == "ellipsoid" else [organ.radius] * 3)
    return sum(((x[a] - centre[a]) / radii[a]) ** 2 for a in range(3)) <= 1.0


def ball(centre, radius, shape, spacing) -> np.ndarray:
    """Voxels whose centres lie within ``radius`` of ``centre`` [m]."""
    x = voxel_centres(shape, spacing)
    return sum((x[a] - centre[a]) ** 2 for a in range(3)) <= radius**2


def phantom_labels(geometry, shape, spacing) -> np.ndarray:
    """The label volume (int8, values index ``PHANTOM_CLASSES``) of a phantom geometry."""
    organ = organ_mask(geometry.organ, shape, spacing)
    if not organ.any():
        raise GeometryError("geometry.organ: the organ contains no voxel centre; check its "
                            "center and size against grid.shape × grid.spacing")
    labels = np.where(organ, 1, 0).astype(np.int8)
    for n, tumor in enumerate(geometry.tumors):
        centre = tumor.center if tumor.center is not None else \
            (np.asarray(tumor.voxel) + 0.5) * np.asarray(spacing)
        inside = ball(centre, tumor.radius, shape, spacing) & organ
        if not inside.any():
            raise GeometryError(
                f"geometry.tumors.{n}: the tumour has no voxel inside the organ; move its "
                "centre into the organ or enlarge its radius (it must cover a voxel centre)")
        labels[inside] = 2
        if tumor.necrotic_radius:
            core = ball(centre, tumor.necrotic_radius, shape, spacing) & organ
            labels[core] = 3
    return labels
