"""A TotalSegmentator output folder → named structure masks.

TotalSegmentator writes one binary NIfTI per structure, ``<folder>/<structure>.nii.gz``
(``liver.nii.gz``, ``liver_vessels.nii.gz``, ``liver_tumor.nii.gz`` …), all on the input
scan's grid. Each structure named in ``geometry.segments`` is read with
:func:`~perfusion.geometry.readers.read_image` (so voxel size [m] and affine [mm, RAS+] are
exactly those of the NIfTI path) and its non-zero voxels are the mask. The vessel mask
becomes an arterial tree through the tree's own ``mask`` source, not here:
``[supplies.tree] source = "mask", path = "<folder>/liver_vessels.nii.gz"``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import GeometryError
from .masks import check_same_grid
from .readers import read_image
from .segments import Segmentation, check_names

_SUFFIXES = (".nii.gz", ".nii")


def read_totalsegmentator(folder, wanted: list[str]) -> Segmentation:
    """The masks of the ``wanted`` structures of a TotalSegmentator output folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GeometryError(f"geometry.totalsegmentator: {folder} is not a folder; give the "
                            "folder TotalSegmentator wrote (its -o argument)")
    files = {_structure(path): path for path in sorted(folder.iterdir())
             if path.name.lower().endswith(_SUFFIXES)}
    if not files:
        raise GeometryError(f"geometry.totalsegmentator: {folder} holds no .nii.gz files; "
                            "run TotalSegmentator without --ml (one file per structure)")
    check_names(wanted, sorted(files), folder)
    images = {name: read_image(files[name]) for name in wanted}
    first = check_same_grid(images, "geometry.segments")
    for name, image in images.items():
        if image.data.shape != first.data.shape:
            raise GeometryError(f"geometry.segments.{name}: {image.path} is "
                                f"{list(image.data.shape)} voxels, {first.path} "
                                f"{list(first.data.shape)}; use masks of one TotalSegmentator run")
    return Segmentation(masks={name: image.data != 0 for name, image in images.items()},
                        spacing=first.spacing, affine=first.affine, path=folder)


def _structure(path: Path) -> str:
    """``liver_tumor.nii.gz`` → ``liver_tumor``."""
    name = path.name
    return next(name[: -len(suffix)] for suffix in _SUFFIXES if name.lower().endswith(suffix))
