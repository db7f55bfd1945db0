"""Exports of a results directory for imaging and meshing tools: NIfTI maps and a voxel mesh.

:func:`export_nifti` writes each map as ``<name>.nii.gz`` on the input image's grid, with
its affine (voxel index → voxel centre, world millimetres, RAS+), so the maps overlay on the
patient's scan in 3D Slicer or ITK-SNAP. :func:`export_mesh` writes the tissue voxels
(``labels > 0``) as hexahedra (``tissue.vtu`` and ``tissue.xdmf``) in the same world frame,
for ParaView, meshio and finite-element tools. Lengths are in millimetres, as in every VTK
file of the results, and each mesh file says so: ``tissue.xdmf`` in an
``<Information Name="length_unit" Value="mm">``, ``tissue.vtu`` in the field data
``metres_per_length_unit`` = 0.001 (a number: meshio, which writes and reads the mesh, fails
on a string array there). Units on the way out (SI in ``fields.npz``):

=========  ===================================================  ================
name       quantity                                             unit
=========  ===================================================  ================
auc        AUC of the total tissue drug concentration           µg·h/mL
cmax       peak total tissue drug concentration                 µg/mL
perfusion  blood perfusion (all supplies)                       mL/min/100 mL
territory  catheter share of the plasma                         – (0 … 1)
ifp        interstitial fluid pressure                          mmHg
labels     tissue class index (``class_names`` of the results)  –
=========  ===================================================  ================

Maps a run did not make are skipped: a steady-only run has no ``auc``/``cmax``, a case
without a catheter no ``territory``. Values are float32 (labels int16). NIfTI-1 stores the
affine in float32, so it round-trips exactly where its entries are float32 numbers (always
for an affine read from a NIfTI-1 image). nibabel and meshio are imported on first use.
"""
from __future__ import annotations

import logging
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..library.units import (FILE_LENGTH_UNIT, KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML,
                             LENGTH_UNIT_FIELD, M_TO_MM, PA_TO_MMHG, PER_S_TO_ML_MIN_100ML)
from .load import ResultsData, load_results

log = logging.getLogger(__name__)

# name: (factor from SI, unit, description); the order of the files and of the cell data.
MAPS = {
    "auc": (KG_S_M3_TO_UG_H_ML, "ug*h/mL", "AUC of total tissue drug concentration"),
    "cmax": (KG_M3_TO_UG_ML, "ug/mL", "peak total tissue drug concentration"),
    "perfusion": (PER_S_TO_ML_MIN_100ML, "mL/min/100mL", "blood perfusion"),
    "territory": (1.0, "1", "catheter share of plasma"),
    "ifp": (PA_TO_MMHG, "mmHg", "interstitial fluid pressure"),
}
# VTK hexahedron: bottom face (k) counter-clockwise seen from +k, then the top face.
_HEX_CORNERS = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                         [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]])
_MIRRORED = [0, 3, 2, 1, 4, 7, 6, 5]  # the same cell, wound the other way


def export_results(data: ResultsData | str | Path, directory: str | Path) -> dict[str, Path]:
    """Write the NIfTI maps and the tissue mesh into ``directory`` (created); return the paths.

    Examples
    --------
    >>> from perfusion.results.export import export_results                     # doctest: +SKIP
    >>> paths = export_results("results/liver-hai", "results/liver-hai/exports")  # doctest: +SKIP
    >>> sorted(paths)                                                    # doctest: +SKIP
    ['auc', 'cmax', 'ifp', 'labels', 'perfusion', 'territory', 'vtu', 'xdmf']
    """
    return {**export_nifti(data, directory), **export_mesh(data, directory)}


def export_nifti(data: ResultsData | str | Path, directory: str | Path) -> dict[str, Path]:
    """Write ``labels`` and every map present as ``<name>.nii.gz``; return ``{name: path}``.

    Each file has the results' grid shape (array ``[i, j, k]``), exactly the results' affine
    as sform and qform (code 1, scanner), xyzt units mm/s and a ``descrip`` naming the
    quantity and its unit. Values as in the module's table.
    """
    import nibabel

    data, directory = _prepare(data, directory)
    affine = np.asarray(data.fields["affine"], dtype=float)
    paths = {}
    for name, values, unit, description in _maps(data):
        image = nibabel.Nifti1Image(values, affine)
        image.set_sform(affine, code=1)
        image.set_qform(affine, code=1)
        image.header.set_xyzt_units("mm", "sec")
        image.header["descrip"] = f"{name}: {description} [{unit}]".encode()[:80]
        paths[name] = directory / f"{name}.nii.gz"
        nibabel.save(image, paths[name])
    log.info("wrote %d NIfTI maps to %s", len(paths), directory)
    return paths


def export_mesh(data: ResultsData | str | Path, directory: str | Path) -> dict[str, Path]:
    """Write the tissue voxels as a hexahedral mesh, ``tissue.vtu`` and ``tissue.xdmf``.

    One cell per tissue voxel, in the order of ``np.nonzero(labels > 0)`` (C order, ``k``
    fastest), so ``cell_data[name][0] == maps[name][labels > 0]``. Points are the voxel
    corners (index ± 0.5 mapped by the affine) in world millimetres, RAS+, each shared corner
    once; connectivity in VTK hexahedron order, wound so every cell has positive volume even
    where the affine mirrors. Cell data: ``labels`` (int32) and each map present (float32,
    units of the module's table). With h5py installed the XDMF keeps its heavy data in
    ``tissue.h5`` (returned as ``"h5"``); without it the data are inline XML text, written
    by meshio (which imports h5py even then, so a stand-in is used): ~30 s and ~110 MB for
    600 k voxels instead of ~1 s and ~15 MB, so install h5py for large meshes.
    """
    import meshio

    data, directory = _prepare(data, directory)
    labels = np.asarray(data.labels)
    tissue = labels > 0
    points, hexahedra = _voxel_hexahedra(tissue, np.asarray(data.fields["affine"], dtype=float))
    cell_data = {"labels": [labels[tissue].astype(np.int32)]}
    cell_data.update({name: [values[tissue]] for name, values, _, _ in _maps(data)
                      if name != "labels"})
    mesh = meshio.Mesh(points, [("hexahedron", hexahedra)], cell_data=cell_data)
    paths = {"vtu": directory / "tissue.vtu", "xdmf": directory / "tissue.xdmf"}
    meshio.write(paths["vtu"], mesh, binary=True, compression="zlib")
    _insert_after_start_tag(paths["vtu"], "UnstructuredGrid", (
        '<FieldData><DataArray type="Float64" Name="metres_per_length_unit" '
        f'NumberOfTuples="1" format="ascii">{1 / M_TO_MM!r}</DataArray></FieldData>'))
    with h5py_or_stand_in() as have_h5py:
        meshio.write(paths["xdmf"], mesh, data_format="HDF" if have_h5py else "XML",
                     compression_opts=1)
    # The content, an escaped empty <main/>, is for meshio 5.3, which parses an Information's
    # content as its own field data and fails on none; XDMF readers take the Value.
    _insert_after_start_tag(paths["xdmf"], "Grid", (
        f'<Information Name="{LENGTH_UNIT_FIELD}" Value="{FILE_LENGTH_UNIT}">'
        "&lt;main/&gt;</Information>"))
    if have_h5py:
        paths["h5"] = paths["xdmf"].with_suffix(".h5")
    log.info("wrote a %d-cell, %d-point tissue mesh to %s", len(hexahedra), len(points), directory)
    return paths


@contextmanager
def h5py_or_stand_in():
    """Yield whether h5py is installed; without it, stand an empty module in for it.

    meshio 5.3 imports h5py in its XDMF writer and reader even for inline XML data, which
    never touches it; whatever ``sys.modules`` held before is put back on exit.
    """
    try:
        import h5py
    except ImportError:
        h5py = None
    if hasattr(h5py, "File"):
        yield True
        return
    before = sys.modules.get("h5py")
    sys.modules["h5py"] = types.ModuleType("h5py")
    try:
        yield False
    finally:
        if before is None:
            sys.modules.pop("h5py", None)
        else:
            sys.modules["h5py"] = before


def _insert_after_start_tag(path: Path, tag: str, element: str) -> None:
    """Insert ``element`` after the first ``<tag ...>`` start tag of the XML file ``path``
    (meshio writes no field data to ``.vtu`` or ``.xdmf``)."""
    text = path.read_text(encoding="utf-8")
    end = text.index(">", text.index(f"<{tag}")) + 1
    path.write_text(text[:end] + element + text[end:], encoding="utf-8")


def _prepare(data, directory) -> tuple[ResultsData, Path]:
    """The results (loaded when given as a path) and the created output directory."""
    data = data if isinstance(data, ResultsData) else load_results(data)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return data, directory


def _maps(data: ResultsData):
    """``(name, values, unit, description)`` of each map present, then the labels."""
    for name, (factor, unit, description) in MAPS.items():
        if name in data.fields:
            values = (np.asarray(data.fields[name], dtype=float) * factor).astype(np.float32)
            yield name, values, unit, description
    yield "labels", data.labels.astype(np.int16), "1", "tissue class index"


def _voxel_hexahedra(mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner points [mm] and hexahedra (VTK order) of the voxels where ``mask`` is True."""
    corner_shape = tuple(n + 1 for n in mask.shape)
    strides = np.array([corner_shape[1] * corner_shape[2], corner_shape[2], 1])
    i, j, k = np.nonzero(mask)                                    # C order, as mask[mask]
    ids = ((i * strides[0] + j * strides[1] + k)[:, None] + _HEX_CORNERS @ strides)
    used = np.zeros(int(np.prod(corner_shape)), dtype=bool)
    used[ids] = True
    hexahedra = (np.cumsum(used) - 1)[ids]                        # the used corners, renumbered
    if np.linalg.det(affine[:3, :3]) < 0:
        hexahedra = hexahedra[:, _MIRRORED]
    index = np.stack(np.unravel_index(np.flatnonzero(used), corner_shape), axis=1) - 0.5
    points = index @ affine[:3, :3].T + affine[:3, 3]
    return points, hexahedra.astype(np.int64)
