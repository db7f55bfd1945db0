"""3D Slicer segmentations (``.seg.nrrd``, labelmap representation) → named segment masks.

A ``.seg.nrrd`` is a NRRD whose header names each segment: ``Segment<N>_Name``,
``Segment<N>_LabelValue`` (its voxel value) and ``Segment<N>_Layer`` (which layer holds
it). Segments that do not overlap share one 3-D layer; overlapping ones are written as a
4-D file, one layer per 3-D volume along a ``list`` axis, and are read here too. Files from
Slicer before 4.11 (no ``LabelValue``) hold one binary layer per segment. The grid (voxel
size [m], affine [mm, RAS+]) comes from the space axes exactly as for any NRRD
(:func:`~perfusion.geometry.readers.nrrd_geometry`); Slicer may crop the file to the
segments' extent, and its ``space origin`` then places the cropped grid in the scan.
"""
from __future__ import annotations

import re
from pathlib import Path

import nrrd
import numpy as np

from ..errors import GeometryError
from .readers import LIBRARY_ERRORS, nrrd_geometry
from .segments import Segmentation, check_names

_SEGMENT_NAME = re.compile(r"Segment(\d+)_Name$")
_SPACE_KINDS = {"domain", "space"}


def read_slicer_segmentation(path, wanted: list[str]) -> Segmentation:
    """The masks of the ``wanted`` segments of a 3D Slicer ``.seg.nrrd``."""
    path = Path(path)
    if not path.is_file():
        raise GeometryError(f"geometry.path: {path}: segmentation not found; check the path")
    try:
        data, header = nrrd.read(str(path), index_order="F")
    except LIBRARY_ERRORS as exc:
        raise GeometryError(f"geometry.path: {path}: cannot read this .seg.nrrd "
                            f"({type(exc).__name__}: {exc}); re-save it from 3D Slicer") from exc
    layers = _layers(data, header, path)
    segments = {header[key]: int(match.group(1)) for key in header
                if (match := _SEGMENT_NAME.match(key))}
    if not segments:
        raise GeometryError(f"geometry.path: {path} names no segments (no Segment0_Name "
                            "field): it is not a Slicer segmentation; give it as a label "
                            "image with labels = { 1 = \"normal\" } instead of segments")
    check_names(wanted, list(segments), path)
    spacing, affine = nrrd_geometry(header, path)
    masks = {}
    for name in wanted:
        number = segments[name]
        value = int(header.get(f"Segment{number}_LabelValue", 1))
        default_layer = number if len(layers) > 1 else 0  # before 4.11: a layer each
        layer = int(header.get(f"Segment{number}_Layer", default_layer))
        if layer >= len(layers):
            raise GeometryError(f"geometry.segments.{name}: {path}: the segment is in layer "
                                f"{layer}, the file has {len(layers)}; re-save it from Slicer")
        masks[name] = layers[layer] == value
    return Segmentation(masks=masks, spacing=spacing, affine=affine, path=path)


def _layers(data: np.ndarray, header: dict, path: Path) -> np.ndarray:
    """The data as layers ``[layer, i, j, k]`` (one layer for a 3-D file)."""
    kinds = [str(kind).lower() for kind in header.get("kinds", ["domain"] * data.ndim)]
    if data.ndim == 3:
        return data[None]
    layer_axes = [axis for axis, kind in enumerate(kinds) if kind not in _SPACE_KINDS]
    if data.ndim != 4 or len(layer_axes) != 1:
        raise GeometryError(f"geometry.path: {path}: a segmentation of shape {data.shape} "
                            f"(axis kinds {kinds}) is neither 3-D nor 3-D with one layer "
                            "axis; in 3D Slicer export it as a labelmap (Segmentations → "
                            "Export to files, or Export visible segments to labelmap)")
    return np.moveaxis(data, layer_axes[0], 0)
