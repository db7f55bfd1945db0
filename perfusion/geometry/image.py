"""Label images → class-index volumes (docs/model.md §1).

The image's values are mapped to tissue classes by ``geometry.labels``
(default ``{1: normal, 2: tumor}``); every other value is outside. ``geometry.masks``
gives one binary mask per class instead (``perfusion.geometry.masks``), and
``geometry.segments`` names the segments of a 3D Slicer ``.seg.nrrd``, a TotalSegmentator
folder or a DICOM-SEG (``perfusion.geometry.segments``). The voxel spacing
comes from the header unless ``grid.spacing`` overrides it; the affine is kept for
exports that must overlay on the patient's scan.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import GeometryError
from .readers import LabelImage, read_image

log = logging.getLogger(__name__)

DEFAULT_LABELS = {1: "normal", 2: "tumor"}


def load_label_image(geometry, grid) -> tuple[LabelImage, np.ndarray, tuple[str, ...], tuple]:
    """Read the case's image; return (image, class-index volume, class names, spacing [m])."""
    labels_map = geometry.labels or DEFAULT_LABELS
    if geometry.masks:
        from .masks import stack_masks

        image, labels_map = stack_masks(geometry.masks)
    elif geometry.segments is not None:
        from .segments import read_segmented

        image, labels_map = read_segmented(geometry)
    elif geometry.dataset == "lits117":
        from ..library.datasets import fetch_lits117

        image = read_image(fetch_lits117()[1])
    else:
        image = read_image(geometry.path)
    data = image.data
    where = f"geometry.path ({image.path})"
    if np.issubdtype(data.dtype, np.floating):
        if not np.isfinite(data).all():
            raise GeometryError(f"{where}: the label image contains NaN or infinite values; "
                                "a label image must hold integer class values")
        if not np.all(data == np.round(data)):
            raise GeometryError(f"{where}: the label image holds non-integer values; give a "
                                "segmentation (integer labels), not an intensity image")
    if grid.shape is not None and tuple(grid.shape) != data.shape:
        raise GeometryError(f"grid.shape: {list(grid.shape)} does not match the image shape "
                            f"{list(data.shape)} of {image.path}; remove grid.shape or fix it")
    spacing = _spacing(grid, image, where)
    class_names = ("outside", *dict.fromkeys(labels_map.values()))
    index = np.zeros(data.shape, dtype=np.int8)
    present = np.unique(data)
    for value, name in labels_map.items():
        if value not in present:
            raise GeometryError(
                f"geometry.labels: value {value} ({name!r}) does not occur in {image.path}; "
                f"the image holds {present[:20].tolist()}; fix the label map")
        index[data == value] = class_names.index(name)
    if geometry.downsample > 1:
        index = downsample_labels(index, geometry.downsample, len(class_names))
        spacing = tuple(h * geometry.downsample for h in spacing)
        affine = image.affine @ block_affine(geometry.downsample)
        image = LabelImage(data=index, spacing=spacing, affine=affine, path=image.path)
    return image, index, class_names, spacing


def downsample_labels(index: np.ndarray, factor: int, classes: int) -> np.ndarray:
    """Merge ``factor³`` blocks into one voxel holding the block's most common class.

    Outside counts as a class, so a block is tissue only when most of it is; ties go to
    the lower class index. A grid not divisible by ``factor`` is padded with outside.
    """
    pad = [(0, -n % factor) for n in index.shape]
    padded = np.pad(index, pad)
    shape = [n // factor for n in padded.shape]
    blocks = padded.reshape(shape[0], factor, shape[1], factor, shape[2], factor)
    counts = np.stack([(blocks == c).sum(axis=(1, 3, 5)) for c in range(classes)])
    return counts.argmax(axis=0).astype(index.dtype)


def block_affine(factor: int) -> np.ndarray:
    """Index map of a downsampled grid: new voxel I is centred at old index f·I + (f − 1)/2."""
    block = np.diag([factor, factor, factor, 1.0])
    block[:3, 3] = (factor - 1) / 2
    return block


def _spacing(grid, image: LabelImage, where: str) -> tuple[float, float, float]:
    if grid.spacing is not None:
        spacing = grid.spacing if isinstance(grid.spacing, tuple) else (grid.spacing,) * 3
        if image.spacing is not None and not np.allclose(spacing, image.spacing, rtol=1e-6):
            log.info("grid.spacing %s m overrides the header spacing %s m", spacing, image.spacing)
        return tuple(float(h) for h in spacing)
    if image.spacing is None or min(image.spacing) <= 0:
        raise GeometryError(f"{where}: the file stores no voxel size; set it in the case, e.g. "
                            '[grid] spacing = ["0.8 mm", "0.8 mm", "2.5 mm"]')
    return tuple(float(h) for h in image.spacing)
