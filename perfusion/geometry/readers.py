"""Label volumes from image files: NIfTI, NRRD, MetaImage, VTK ImageData, NumPy and MRC.

:func:`read_image` returns a :class:`LabelImage`: the file's values, unconverted, as a 3-D
array indexed ``[i, j, k]`` (``i`` the fastest axis on disk), the voxel size in metres and
the voxel-index-to-world affine in millimetres, RAS+ (the NIfTI convention; NRRD in an LPS
space and MetaImage, which is always LPS, are converted). NaN and label values are checked
by the domain builder, not here.

Units of the voxel size: NIfTI ``xyzt_units`` and NRRD ``space units`` are honoured
(millimetres when absent); MetaImage is in millimetres; MRC in Ångström; the ``spacing``
array of an ``.npz`` in metres. A ``.vti`` is read in the unit its ``length_unit`` field data
names (perfusion writes ``"mm"``); without it, spacings all below 0.02 are read as metres
(what perfusion wrote before it had the field), larger ones as millimetres (imaging tools).
A format that stores no voxel size (``.npy``), or a header whose voxel size is not positive,
gives ``spacing=None`` and an identity affine; the case must then give ``grid.spacing``.
"""
from __future__ import annotations

import logging
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mrcfile
import nibabel
import nrrd
import numpy as np
from nibabel.filebasedimages import ImageFileError

from ..errors import GeometryError
from ..io.vti import read_vti
from ..library.units import LENGTH_UNIT_FIELD, file_length_metres

log = logging.getLogger(__name__)

_LENGTH_UNITS_MM = {"": 1.0, "unknown": 1.0, "mm": 1.0, "millimeter": 1.0, "m": 1e3,
                    "meter": 1e3, "cm": 10.0, "um": 1e-3, "µm": 1e-3, "micron": 1e-3}
_NRRD_SPACES = {"right-anterior-superior": "RAS", "left-anterior-superior": "LAS",
                "left-posterior-superior": "LPS", "ras": "RAS", "las": "LAS", "lps": "LPS",
                "rast": "RAS", "last": "LAS", "lpst": "LPS"}
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_VTI_METRES_BELOW = 0.02  # a 2 cm voxel is implausible in metres, a 20 µm one in millimetres
# What the libraries raise on a truncated or foreign file (SimpleITK: RuntimeError).
LIBRARY_ERRORS = (OSError, EOFError, ValueError, KeyError, RuntimeError, zlib.error,
                   zipfile.BadZipFile, ImageFileError, nrrd.NRRDError)

Reader = Callable[[Path], tuple]  # path -> (data, spacing [m] or None, affine [mm, RAS+])


@dataclass(frozen=True)
class LabelImage:
    """A label volume as read from a file.

    Attributes
    ----------
    data : numpy.ndarray
        3-D array of the file's values (integers or floats, not converted), ``[i, j, k]``.
    spacing : tuple of float or None
        Voxel size [m]; None when the file stores none.
    affine : numpy.ndarray
        4×4 map from voxel index to the voxel's centre in world millimetres, RAS+.
    path : pathlib.Path
        The file read.
    """

    data: np.ndarray
    spacing: tuple[float, float, float] | None
    affine: np.ndarray
    path: Path


def read_image(path: str | os.PathLike) -> LabelImage:
    """Read a 3-D label volume with its voxel size and orientation.

    Parameters
    ----------
    path : str or os.PathLike
        ``.nii``, ``.nii.gz``, ``.nrrd``, ``.nhdr``, ``.mha``, ``.mhd``, ``.vti``, ``.npy``,
        ``.npz`` or ``.mrc`` file. A ``.vti`` gives its ``labels`` array (else its first),
        from cell data or, failing that, point data (each point a voxel); an ``.npz`` gives
        its ``labels`` array (else its only array) and an optional ``spacing`` [m].

    Returns
    -------
    LabelImage
        Data ``[i, j, k]`` (trailing singleton axes removed), spacing [m], affine [mm, RAS+].

    Raises
    ------
    GeometryError
        Missing file, unknown suffix, unreadable or corrupt file, not 3-D, or empty.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "labels.npz"
    >>> np.savez(out, labels=np.ones((4, 5, 6), np.uint8), spacing=[1e-3, 1e-3, 2e-3])
    >>> image = read_image(out)
    >>> image.data.shape, image.spacing
    ((4, 5, 6), (0.001, 0.001, 0.002))
    """
    path = Path(path)
    suffix = ".nii.gz" if path.name.lower().endswith(".nii.gz") else path.suffix.lower()
    if not path.is_file():
        raise GeometryError(f"{path}: label image not found; check the path (and that it is "
                            "a file, not a directory).")
    reader = _READERS.get(suffix)
    if reader is None:
        raise GeometryError(f"{path}: unknown image format {suffix or '(no suffix)'!r}; "
                            f"supported: {', '.join(_READERS)}. Convert the label volume to "
                            "one of these (e.g. NIfTI with 3D Slicer or nibabel).")
    try:
        data, spacing, affine = reader(path)
    except LIBRARY_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [""])[-1]  # SimpleITK: a traceback
        raise GeometryError(f"{path}: cannot read this {suffix} file ({type(exc).__name__}: "
                            f"{detail}); it may be truncated or not really {suffix}: re-export "
                            "it from the tool that made it.") from exc
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise GeometryError(f"{path}: expected a 3-D label volume, got an array of shape "
                            f"{data.shape}; export a single 3-D segmentation.")
    if data.size == 0 or data.dtype.kind not in "biuf":
        raise GeometryError(f"{path}: holds no usable labels (shape {data.shape}, dtype "
                            f"{data.dtype}); export a non-empty integer segmentation.")
    if spacing is not None and not all(np.isfinite(h) and h > 0 for h in spacing):
        log.warning("%s: ignoring the voxel size %s in the header (not positive); give "
                    "grid.spacing in the case", path, spacing)
        spacing, affine = None, np.eye(4)
    spacing = None if spacing is None else tuple(float(h) for h in spacing)
    voxel = ("none in the header" if spacing is None
             else " × ".join(f"{1e3 * h:.4g}" for h in spacing) + " mm")
    log.info("%s: %s %s labels, voxel size %s", path, data.shape, data.dtype, voxel)
    return LabelImage(data=data, spacing=spacing, affine=affine, path=path)


def _read_nifti(path: Path):
    """NIfTI-1/2 through nibabel; the affine is RAS+ already."""
    image = nibabel.load(path)
    to_mm = _unit_mm(image.header.get_xyzt_units()[0], path)
    affine = np.array(image.affine, dtype=float)
    affine[:3] *= to_mm
    spacing = tuple(zoom * to_mm / 1e3 for zoom in image.header.get_zooms()[:3])
    return np.asanyarray(image.dataobj), spacing, affine


def _read_nrrd(path: Path):
    """NRRD (attached or detached header) through pynrrd, index order ``[i, j, k]``."""
    data, header = nrrd.read(str(path), index_order="F")
    return (data, *nrrd_geometry(header, path))


def nrrd_geometry(header: dict, path: Path) -> tuple:
    """(spacing [m] or None, affine [mm, RAS+]) of a NRRD header's space axes (axes without
    a direction, such as the layers of a 3D Slicer segmentation, are skipped)."""
    units = {str(unit) for unit in header.get("space units", [""])}
    if len(units) != 1:
        raise GeometryError(f"{path}: mixed space units {sorted(units)}; use one length unit.")
    to_mm = _unit_mm(units.pop(), path)
    directions = np.asarray(header.get("space directions", np.full((1, 3), np.nan)), float)
    directions = directions[np.isfinite(directions).all(axis=1)]
    affine = np.eye(4)
    spacings = np.asarray(header.get("spacings", [np.nan] * 3), float)[:3]
    if directions.shape[0] >= 3 and directions.shape[1] == 3 and np.isfinite(directions[:3]).all():
        affine[:3, :3] = directions[:3].T * to_mm
        affine[:3, 3] = np.asarray(header.get("space origin", np.zeros(3)), float) * to_mm
        spacing = np.linalg.norm(affine[:3, :3], axis=0) / 1e3
        return tuple(spacing), _to_ras(affine, str(header.get("space", "")), path)
    if spacings.shape == (3,) and np.isfinite(spacings).all():
        affine[:3, :3] = np.diag(spacings * to_mm)
        return tuple(spacings * to_mm / 1e3), affine
    return None, affine


def _read_metaimage(path: Path):
    """MetaImage through SimpleITK (imported here: an optional dependency); LPS to RAS+."""
    try:
        import SimpleITK as sitk
    except ImportError as exc:
        raise GeometryError(f"{path}: reading MetaImage (.mha/.mhd) needs SimpleITK; "
                            "install it (pip install SimpleITK) or convert to NIfTI.") from exc
    image = sitk.ReadImage(str(path))
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise GeometryError(f"{path}: has {image.GetNumberOfComponentsPerPixel()} components "
                            "per voxel; a label volume has one.")
    data = sitk.GetArrayFromImage(image).transpose()  # SimpleITK gives [k, j, i]
    return (data, *sitk_geometry(image))


def sitk_geometry(image) -> tuple:
    """(spacing [m], affine [mm, RAS+]) of a SimpleITK image (whose frame is LPS)."""
    dim = min(image.GetDimension(), 3)
    direction = np.asarray(image.GetDirection(), float).reshape(image.GetDimension(), -1)
    affine = np.eye(4)
    affine[:dim, :dim] = direction[:dim, :dim] * np.asarray(image.GetSpacing()[:dim])
    affine[:dim, 3] = image.GetOrigin()[:dim]
    return tuple(h / 1e3 for h in image.GetSpacing()[:3]), _LPS_TO_RAS @ affine


def _read_vti(path: Path):
    """VTK ImageData: the ``labels`` (else first) cell array, else point array."""
    image = read_vti(path)
    arrays, where = ((image.cell_data, "cell") if image.cell_data
                     else (image.point_data, "point"))
    if not arrays:
        raise GeometryError(f"{path}: holds no data arrays; save the label array with it.")
    name = "labels" if "labels" in arrays else next(iter(arrays))
    log.info("%s: using the %s data array %r (arrays: %s)", path, where, name, list(arrays))
    spacing = np.asarray(image.spacing)
    guess = 1.0 if (np.abs(spacing) < _VTI_METRES_BELOW).all() else 1e-3  # metres per unit
    try:
        to_mm = 1e3 * file_length_metres(image.field_data, guess)
    except ValueError as exc:
        raise GeometryError(f"{path}: {exc}; re-save it with length_unit \"mm\".") from None
    stated = image.field_data.get(LENGTH_UNIT_FIELD)
    log.info("%s: reading spacing %s in %s", path, image.spacing,
             f"{stated} (its {LENGTH_UNIT_FIELD})" if stated else
             f"{'metres' if guess == 1.0 else 'millimetres'} (no {LENGTH_UNIT_FIELD}: by size)")
    centre = 0.5 if where == "cell" else 0.0  # cells: the voxel centre is half a step in
    affine = np.eye(4)
    affine[:3, :3] = image.direction * spacing * to_mm
    affine[:3, 3] = (np.asarray(image.origin) + image.direction @ (centre * spacing)) * to_mm
    return arrays[name], tuple(spacing * to_mm / 1e3), affine


def _read_npy(path: Path):
    """A bare NumPy array: no voxel size."""
    return np.load(path, allow_pickle=False), None, np.eye(4)


def _read_npz(path: Path):
    """NumPy archive: ``labels`` (or the only array) and an optional ``spacing`` [m]."""
    with np.load(path, allow_pickle=False) as archive:
        names = [name for name in archive.files if name != "spacing"]
        if "labels" not in archive.files and len(names) != 1:
            raise GeometryError(f"{path}: holds arrays {archive.files}; name the label "
                                "volume 'labels' (np.savez(path, labels=..., spacing=...)).")
        data = archive["labels" if "labels" in archive.files else names[0]]
        spacing = archive["spacing"] if "spacing" in archive.files else None
    if spacing is None:
        return data, None, np.eye(4)
    spacing = np.asarray(spacing, float).ravel()
    if spacing.shape != (3,):
        raise GeometryError(f"{path}: 'spacing' must hold 3 values in metres, got {spacing}.")
    return data, tuple(spacing), np.diag([*(spacing * 1e3), 1.0])


def _read_mrc(path: Path):
    """MRC2014 through mrcfile; data stored ``[z, y, x]``, voxel size in Ångström."""
    with mrcfile.open(path, permissive=True) as mrc:
        if mrc.data is None:
            raise GeometryError(f"{path}: mrcfile found no data block (invalid header); "
                                "re-export the volume.")
        header = mrc.header
        data = np.array(mrc.data)
        voxel = np.array([mrc.voxel_size.x, mrc.voxel_size.y, mrc.voxel_size.z], float)
        origin = np.array([header.origin.x, header.origin.y, header.origin.z], float)
        # File axes (slowest first) hold the map axes (maps, mapr, mapc): 1 = X, 2 = Y, 3 = Z.
        file_axes = [int(header.maps), int(header.mapr), int(header.mapc)]
    if data.ndim == 3:
        if sorted(file_axes) != [1, 2, 3]:
            log.warning("%s: invalid axis order %s in the header; assuming z, y, x",
                        path, file_axes)
            file_axes = [3, 2, 1]
        data = data.transpose([file_axes.index(axis) for axis in (1, 2, 3)])
    if not (voxel > 0).all():
        log.info("%s: the header stores no voxel size", path)
        return data, None, np.eye(4)
    affine = np.diag([*(voxel * 1e-7), 1.0])
    affine[:3, 3] = origin * 1e-7
    return data, tuple(voxel * 1e-10), affine


def _unit_mm(unit: str, path: Path) -> float:
    """Millimetres per length unit, as the header names it."""
    key = unit.strip().lower()
    if key not in _LENGTH_UNITS_MM:
        raise GeometryError(f"{path}: unknown length unit {unit!r} in the header; use mm.")
    return _LENGTH_UNITS_MM[key]


def _to_ras(affine: np.ndarray, space: str, path: Path) -> np.ndarray:
    """Convert an affine in the named NRRD ``space`` to RAS+."""
    code = _NRRD_SPACES.get(space.lower().removesuffix("-time"))
    if code is None:
        log.info("%s: space %r is not anatomical; keeping its axes as RAS", path, space)
        return affine
    return np.diag([*(-1.0 if letter in "LP" else 1.0 for letter in code), 1.0]) @ affine


_READERS: dict[str, Reader] = {
    ".nii": _read_nifti, ".nii.gz": _read_nifti, ".nrrd": _read_nrrd, ".nhdr": _read_nrrd,
    ".mha": _read_metaimage, ".mhd": _read_metaimage, ".vti": _read_vti, ".npy": _read_npy,
    ".npz": _read_npz, ".mrc": _read_mrc}
