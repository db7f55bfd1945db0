"""A DICOM CT/MR series and its DICOM-SEG segmentation → named segment masks on the series' grid.

The series is read with SimpleITK (slices sorted by position); its grid gives the voxel
size [m] and the affine [mm, RAS+] (DICOM's patient frame is LPS, converted as for
MetaImage: :func:`~perfusion.geometry.readers.sitk_geometry`). The DICOM-SEG is read with
highdicom: its segments are named by their Segment Label, and each frame is placed on the
series slice whose SOP Instance UID it references, so the masks lie voxel for voxel on the
series (slices the SEG leaves out are empty). The folder may hold several series: the one
the SEG references is used. pydicom and highdicom are the optional ``dicom`` extra.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import GeometryError
from .readers import sitk_geometry
from .segments import Segmentation, check_names

log = logging.getLogger(__name__)

_INSTALL = "install the dicom extra: pip install 'perfusion-ia[dicom]' (pydicom, highdicom)"


def read_dicom_segmentation(series_folder, seg_path, wanted: list[str]) -> Segmentation:
    """The masks of the ``wanted`` segments of a DICOM-SEG, on the series it segments."""
    try:
        import highdicom
        import pydicom
        import SimpleITK as sitk
    except ImportError as exc:
        raise GeometryError(f"geometry.segmentation: reading DICOM needs {exc.name}; "
                            f"{_INSTALL}") from exc
    series_folder, seg_path = Path(series_folder), Path(seg_path)
    if not series_folder.is_dir():
        raise GeometryError(f"geometry.dicom: {series_folder} is not a folder; give the folder "
                            "of the CT/MR series")
    try:
        seg = highdicom.seg.segread(seg_path)
    except (OSError, ValueError, AttributeError, pydicom.errors.InvalidDicomError) as exc:
        raise GeometryError(f"geometry.segmentation: {seg_path}: not a readable DICOM-SEG "
                            f"({type(exc).__name__}: {exc}); export the segmentation as "
                            "DICOM-SEG") from exc
    segments = {seg.get_segment_description(number).segment_label: number
                for number in seg.segment_numbers}
    check_names(wanted, list(segments), seg_path)
    files = _referenced_series(sitk, series_folder, seg, seg_path)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    image = reader.Execute()
    instances = [str(pydicom.dcmread(name, stop_before_pixels=True,
                                     specific_tags=["SOPInstanceUID"]).SOPInstanceUID)
                 for name in files]
    numbers = [segments[name] for name in wanted]
    try:
        pixels = seg.get_pixels_by_source_instance(
            instances, segment_numbers=numbers, assert_missing_frames_are_empty=True)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise GeometryError(f"geometry.segmentation: {seg_path} cannot be placed on the slices "
                            f"of {series_folder} ({exc}); export the SEG from this series") from exc
    shape = image.GetSize()
    if pixels.shape[:3] != (shape[2], shape[1], shape[0]):
        raise GeometryError(f"geometry.segmentation: {seg_path} has frames of "
                            f"{list(pixels.shape[1:3])} pixels, the series {list(shape[1::-1])}"
                            "; export the SEG on the series' own grid")
    spacing, affine = sitk_geometry(image)
    masks = {name: np.ascontiguousarray(pixels[..., n].transpose(2, 1, 0) > 0)  # [k, j, i]
             for n, name in enumerate(wanted)}
    log.info("%s: %d segments on the %d slices of %s", seg_path, len(masks), len(files),
             series_folder)
    return Segmentation(masks=masks, spacing=spacing, affine=affine, path=seg_path)


def _referenced_series(sitk, folder: Path, seg, seg_path: Path) -> list[str]:
    """The files, sorted by position, of the series in ``folder`` that the SEG references."""
    referenced = {series for _, series, _ in seg.get_source_image_uids()}
    present = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not present:
        raise GeometryError(f"geometry.dicom: {folder} holds no DICOM series; give the folder "
                            "of the CT/MR slices")
    matching = [uid for uid in present if uid in referenced]
    if not matching:
        raise GeometryError(f"geometry.segmentation: {seg_path} does not reference the series "
                            f"in {folder} (it references {sorted(referenced)}; the folder holds "
                            f"{list(present)}); give the series the SEG was drawn on")
    return list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), matching[0]))
