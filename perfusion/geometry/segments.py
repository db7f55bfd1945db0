"""Named segmentations → one label volume: 3D Slicer, TotalSegmentator and DICOM-SEG.

Each source module reads the segments the case names in ``geometry.segments`` (segment or
structure name → tissue class) as boolean masks ``[i, j, k]`` on the source's own grid
(voxel size [m], affine [mm, RAS+], the same convention as
:func:`~perfusion.geometry.readers.read_image`). :func:`paint_segments` stacks them into a
label volume with values ``1 … n`` in the order given: where two overlap the later one
wins (an organ mask that contains its tumours: list the organ first, the tumours after).
The label map ``{value: class}`` lets several segments share a class (``"tumor 1"`` and
``"tumor 2"`` both ``tumor``).
"""
from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GeometryError
from .readers import LabelImage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segmentation:
    """The named segments of one source.

    Attributes
    ----------
    masks : dict of str to numpy.ndarray
        Segment name → boolean mask ``[i, j, k]``, in the order of ``geometry.segments``.
    spacing : tuple of float
        Voxel size [m].
    affine : numpy.ndarray
        4×4 voxel index → voxel centre, world millimetres, RAS+.
    path : pathlib.Path
        The file or folder read (for messages).
    """

    masks: dict[str, np.ndarray]
    spacing: tuple[float, float, float] | None
    affine: np.ndarray
    path: Path


def read_segmented(geometry) -> tuple[LabelImage, dict[int, str]]:
    """The label image and label map of a ``.seg.nrrd`` path, TotalSegmentator folder or
    DICOM series with its DICOM-SEG (whichever the geometry names)."""
    if geometry.totalsegmentator is not None:
        from .totalsegmentator import read_totalsegmentator

        segmentation = read_totalsegmentator(geometry.totalsegmentator, list(geometry.segments))
    elif geometry.dicom is not None:
        from .dicom import read_dicom_segmentation

        segmentation = read_dicom_segmentation(geometry.dicom, geometry.segmentation,
                                               list(geometry.segments))
    else:
        from .slicer import read_slicer_segmentation

        segmentation = read_slicer_segmentation(geometry.path, list(geometry.segments))
    return paint_segments(segmentation, geometry.segments)


def segmented_shape(geometry) -> tuple[int, int, int]:
    """The label volume's shape ``[i, j, k]``, from headers where the format allows."""
    if geometry.totalsegmentator is not None:
        from .readers import nibabel

        name = next(iter(geometry.segments))
        folder = Path(geometry.totalsegmentator)
        path = next((folder / f"{name}{suffix}" for suffix in (".nii.gz", ".nii")
                     if (folder / f"{name}{suffix}").is_file()), None)
        if path is not None:
            return tuple(int(n) for n in nibabel.load(path).shape[:3])
    elif geometry.dicom is None:
        from .readers import nrrd

        header = nrrd.read_header(str(geometry.path))
        kinds = header.get("kinds", ["domain"] * len(header["sizes"]))
        return tuple(int(n) for n, kind in zip(header["sizes"], kinds)
                     if str(kind).lower() in ("domain", "space"))
    return read_segmented(geometry)[0].data.shape


def paint_segments(segmentation: Segmentation,
                   segments: dict[str, str]) -> tuple[LabelImage, dict[int, str]]:
    """(a label image with values 1…n in the order of ``segments``, ``{value: class}``)."""
    shape = next(iter(segmentation.masks.values())).shape
    labels = np.zeros(shape, dtype=np.int16)
    for value, name in enumerate(segments, start=1):
        mask = segmentation.masks[name]
        if mask.shape != shape:
            raise GeometryError(f"geometry.segments.{name}: {segmentation.path}: the segment "
                                f"is {list(mask.shape)} voxels, the others {list(shape)}; "
                                "export all segments on one grid")
        if not mask.any():
            raise GeometryError(f"geometry.segments.{name}: segment {name!r} of "
                                f"{segmentation.path} is empty (no voxel); remove it from "
                                "geometry.segments or re-export the segmentation")
        covered = int(np.count_nonzero(labels[mask]))
        if covered:
            log.info("geometry.segments.%s: paints over %d voxels of earlier segments",
                     name, covered)
        labels[mask] = value
    for value, name in enumerate(segments, start=1):
        if not (labels == value).any():
            raise GeometryError(f"geometry.segments.{name}: every voxel of segment {name!r} "
                                "is painted over by a later segment; list it after them")
    image = LabelImage(data=labels, spacing=segmentation.spacing,
                       affine=segmentation.affine, path=segmentation.path)
    return image, {value: segments[name] for value, name in enumerate(segments, start=1)}


def check_names(wanted: list[str], present: list[str], path) -> None:
    """Raise naming the file and the names it holds if a wanted segment is not among them."""
    for name in wanted:
        if name not in present:
            close = difflib.get_close_matches(name, present, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise GeometryError(f"geometry.segments.{name}: {path} has no segment {name!r}"
                                f"{hint}; it holds {present}; fix the name in "
                                "geometry.segments")
