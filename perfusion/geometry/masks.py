"""Tissue classes from one binary mask file per class (e.g. grey and white matter).

``geometry.masks = { grey = "grey.nii.gz", white = "white.nii.gz" }`` reads every file
(any format of :func:`~perfusion.geometry.readers.read_image`), takes its non-zero voxels
as that class and stacks them into one label volume with values ``1 … n`` in the order
given. The files must share the voxel size and the voxel-to-world affine; files whose
shapes differ are cropped to their common extent from voxel ``[0, 0, 0]`` (they share an
origin, so the voxels that remain coincide) and the log says so. A voxel claimed by two
masks is an error: a tissue class is a partition.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import GeometryError
from .readers import LabelImage, read_image

log = logging.getLogger(__name__)


def stack_masks(masks: dict[str, str]) -> tuple[LabelImage, dict[int, str]]:
    """(a label image with values 1…n, the label map ``{value: class}``)."""
    images = {name: read_image(path) for name, path in masks.items()}
    first = check_same_grid(images, "geometry.masks")
    shape = tuple(min(image.data.shape[a] for image in images.values()) for a in range(3))
    labels = np.zeros(shape, dtype=np.int16)
    for value, (name, image) in enumerate(images.items(), start=1):
        if image.data.shape != shape:
            log.warning("geometry.masks.%s: %s is %s voxels; cropped to the common %s",
                        name, image.path, "×".join(map(str, image.data.shape)),
                        "×".join(map(str, shape)))
        inside = image.data[:shape[0], :shape[1], :shape[2]] != 0
        if not inside.any():
            raise GeometryError(f"geometry.masks.{name}: {image.path} has no non-zero voxel")
        overlap = inside & (labels != 0)
        if overlap.any():
            other = list(images)[int(labels[overlap][0]) - 1]
            raise GeometryError(f"geometry.masks.{name}: {int(overlap.sum())} voxels of "
                                f"{image.path} are also in geometry.masks.{other}; the masks "
                                "must not overlap")
        labels[inside] = value
    stacked = LabelImage(data=labels, spacing=first.spacing, affine=first.affine,
                         path=" + ".join(str(image.path) for image in images.values()))
    return stacked, {value: name for value, name in enumerate(masks, start=1)}


def check_same_grid(images: dict[str, LabelImage], key: str) -> LabelImage:
    """The first image, after checking that every image has its affine (``key.name`` in
    the message naming the file that differs)."""
    first_name, first = next(iter(images.items()))
    for name, image in images.items():
        if not np.allclose(image.affine, first.affine, rtol=1e-6, atol=1e-6):
            raise GeometryError(f"{key}.{name}: {image.path} is not on the grid of "
                                f"{key}.{first_name} ({first.path}): their affines "
                                "differ; resample the masks onto one grid first")
    return first
