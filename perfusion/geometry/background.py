"""The anatomy under the labels: the CT or MR image of ``geometry.background`` on the solver
grid, for the figures' grey underlay. Its values stay in the image's own units (CT: HU);
no physics reads them.

Each voxel centre of the label grid (before ``geometry.downsample``) is mapped through both
affines (label index → world mm, RAS+ → background index) and the background is linearly
interpolated there; on the same grid (equal affines and shapes) the values are taken as
they are. A background that stores no voxel size (``.npy``, the LiTS ``.mrc``) must have the
label image's shape and is taken to lie on its grid. Points up to one voxel beyond the
background's outermost voxel centres take its edge values; label voxels further out are
outside its field of view and get its minimum (air on a CT), with a warning when tissue
lies there. With ``downsample = f`` the values are averaged over each f×f×f block, the
blocks the labels are merged over. Held as float32: 4 bytes per grid voxel.
"""
from __future__ import annotations

import logging

import numpy as np

from ..case.geometry_spec import DATASET_BACKGROUND
from ..errors import GeometryError
from .image import block_affine
from .readers import LabelImage, read_image

log = logging.getLogger(__name__)

KEY = "geometry.background"
_SNAP = 1e-6  # index units: affine entries this close to an integer are that integer


def background_on_grid(geometry, labels: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """The background image on the grid of ``labels`` (float32, the image's units).

    ``affine`` maps the grid's voxel indices to world millimetres (RAS+), as the domain's.
    Raises :class:`GeometryError` naming ``geometry.background`` for an unreadable file, a
    shape that does not fit or a field of view that misses the grid.
    """
    factor = geometry.downsample
    image = _read(geometry)
    fine_shape = tuple(n * factor for n in labels.shape)
    fine_affine = np.asarray(affine, float) @ np.linalg.inv(block_affine(factor))
    if image.spacing is None:
        if tuple(-(-n // factor) for n in image.data.shape) != labels.shape:
            raise GeometryError(
                f"{KEY}: {image.path} stores no voxel size, so it must lie on the label image's "
                f"grid, but its shape {list(image.data.shape)} is not the labels' "
                f"{[n * factor for n in labels.shape]}; give the image the labels were drawn "
                "on, in a format with a header (NIfTI, NRRD)")
        to_background = np.eye(4)
    else:
        to_background = np.linalg.inv(image.affine) @ fine_affine
    fine = _resample(np.asarray(image.data, dtype=np.float32), to_background, fine_shape)
    values = block_mean(fine, factor)
    outside = ~np.isfinite(values)
    if outside.all():
        raise GeometryError(
            f"{KEY}: {image.path} does not overlap the label grid (its field of view, "
            f"{_extent(image.affine, image.data.shape)} mm, misses the labels', "
            f"{_extent(affine, labels.shape)} mm); give the scan the labels were drawn on, or "
            "remove geometry.background")
    tissue_outside = int((outside & (labels > 0)).sum())
    if tissue_outside:
        log.warning("%s: %d of %d tissue voxels lie outside %s's field of view; drawn as its "
                    "minimum", KEY, tissue_outside, int((labels > 0).sum()), image.path.name)
    values[outside] = np.nanmin(values)
    log.info("%s: %s on the %s grid, values %.4g…%.4g", KEY, image.path.name,
             "×".join(map(str, labels.shape)), values.min(), values.max())
    return values


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean of the finite values of each ``factor³`` block (NaN where a block has none);
    the shape must be divisible by ``factor``."""
    if factor == 1:
        return values
    shape = [n // factor for n in values.shape]
    blocks = values.reshape(shape[0], factor, shape[1], factor, shape[2], factor)
    finite = np.isfinite(blocks)
    count = finite.sum(axis=(1, 3, 5))
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3, 5), dtype=np.float64)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)


def _read(geometry) -> LabelImage:
    path = geometry.background
    if path == DATASET_BACKGROUND:
        from ..library.datasets import fetch_lits117

        path = fetch_lits117()[0]
    try:
        return read_image(path)
    except GeometryError as exc:
        raise GeometryError(f"{KEY}: {exc}") from None


def _resample(values: np.ndarray, to_background: np.ndarray, shape) -> np.ndarray:
    """``values`` at the background indices ``to_background @ [i, j, k, 1]`` of every voxel of
    ``shape`` (linear; NaN beyond one voxel outside the image)."""
    matrix = np.where(np.abs(to_background - np.round(to_background)) < _SNAP,
                      np.round(to_background), to_background)
    if np.array_equal(matrix, np.eye(4)) and values.shape == tuple(shape):
        return values
    from scipy.ndimage import affine_transform

    padded = np.pad(values, 1, mode="edge")   # interpolate up to one voxel past the edge
    return affine_transform(padded, matrix[:3, :3], offset=matrix[:3, 3] + 1,
                            output_shape=tuple(shape), output=np.float32, order=1,
                            mode="constant", cval=np.nan)


def _extent(affine: np.ndarray, shape) -> str:
    """World bounding box [mm] of a grid's voxel centres, as ``x a…b, y c…d, z e…f``."""
    corners = np.array([[i, j, k, 1.0] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                        for k in (0, shape[2] - 1)]) @ np.asarray(affine, float).T
    low, high = corners[:, :3].min(axis=0), corners[:, :3].max(axis=0)
    return ", ".join(f"{axis} {lo:.0f}…{hi:.0f}" for axis, lo, hi in zip("xyz", low, high))
