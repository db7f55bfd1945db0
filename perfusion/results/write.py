"""The results directory (README.md, Results directory), written atomically.

Everything is written into a hidden sibling ``.<name>.partial-<pid>`` and moved into place
only when complete (``metrics.json`` last), so a failed or killed run never leaves a folder
that looks like a result. An existing result of the same name (figures, report and exports
included) is replaced only with ``overwrite`` (``--overwrite``), and only then.

``fields.npz`` holds SI arrays of shape ``grid.shape``: ``labels`` (class index),
``class_names``, ``spacing`` [m], ``affine`` [mm], ``perfusion`` [1/s], ``p_<supply>`` and
``perfusion_<supply>`` [Pa, 1/s], ``territory`` [-], ``ifp`` [Pa], ``interstitial_velocity``
[m/s] (grid + (3,)), ``filtration`` [1/s]; after an embolisation the re-solved supply's
``p_<supply>_embolized``, ``perfusion_<supply>_embolized`` and ``perfusion_embolized``,
``territory_embolized`` (also in ``fields/steady_embolized.vti``); with
``geometry.background`` the case's CT/MR on the grid, ``background`` (float32, the image's
own units, e.g. HU; fields.npz only).

The VTK files (``fields/*.vti``, ``fields/tree_<supply>.vtp``) hold the same SI values but
lengths (spacing, points, radii) in millimetres, stated in their field data
``length_unit`` = ``"mm"``, like every export.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import tomli_w

from ..errors import ResultsError
from ..vascular.tree_file import write_tree_vtp
from ..io.vti import write_pvd, write_vti
from ..io.vtk_xml import ZLIB_LEVEL
from ..library.units import FILE_LENGTH_UNIT, LENGTH_UNIT_FIELD, M_TO_MM


def steady_fields(domain, steady) -> dict[str, np.ndarray]:
    """The steady arrays on the host, by their contract names."""
    host = domain.backend.to_host
    fields = {"labels": domain.labels, "perfusion": host(steady.perfusion)}
    for name, supply in steady.supplies.items():
        fields[f"p_{name}"] = host(supply.pressure)
        fields[f"perfusion_{name}"] = host(supply.perfusion)
    if steady.territory is not None:
        fields["territory"] = host(steady.territory)
    fields["ifp"] = host(steady.interstitial.pressure)
    fields["interstitial_velocity"] = host(steady.interstitial.velocity)
    fields["filtration"] = host(steady.interstitial.filtration)
    return fields


def embolized_fields(domain, embolized) -> dict[str, np.ndarray]:
    """The fields embolisation re-solves (the catheterised supply's pressure and perfusion,
    total perfusion, territory), named ``<name>_embolized``."""
    host, name = domain.backend.to_host, embolized.catheter_territory.supply
    supply = embolized.supplies[name]
    return {"perfusion_embolized": host(embolized.perfusion),
            f"p_{name}_embolized": host(supply.pressure),
            f"perfusion_{name}_embolized": host(supply.perfusion),
            "territory_embolized": host(embolized.territory)}


def write_results(directory: str | Path, *, resolved: dict, metrics: dict,
                  fields: dict[str, np.ndarray], domain, histories: list[dict],
                  drug=None, trees: dict | None = None, overwrite: bool = False) -> Path:
    """Write a complete results directory atomically; return its path.

    ``drug`` (a ``DrugResult``) adds ``auc``/``cmax`` maps, the snapshots as
    ``fields/drug_NNNN.vti`` + ``fields/drug.pvd`` and in ``fields.npz``, and the time series;
    ``trees`` (``{file name: (tree, point_data, cell_data)}``) the arterial trees as ``.vtp``.
    """
    directory = Path(directory).resolve()
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"cannot create {directory.parent} ({exc}); choose another -o DIR") from None
    partial = directory.parent / f".{directory.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        (partial / "fields").mkdir(parents=True)
        (partial / "case.resolved.toml").write_text(tomli_w.dumps(resolved), encoding="utf-8")
        write_fields_vti(partial / "fields" / "steady.vti", fields, domain)
        arrays = dict(fields)
        for file_name, (tree, points, cells) in (trees or {}).items():
            write_tree_vtp(partial / "fields" / file_name, tree, point_data=points, cell_data=cells)
        if drug is not None:
            arrays.update(write_drug_outputs(partial, drug, domain))
        if domain.background is not None:
            arrays["background"] = domain.background
        save_npz(partial / "fields" / "fields.npz", {
            **arrays, "class_names": np.array(domain.class_names),
            "spacing": np.asarray(domain.spacing), "affine": domain.affine,
            "patient_oriented": np.asarray(domain.patient_oriented)})
        (partial / "solver_history.json").write_text(json.dumps(histories), encoding="utf-8")
        (partial / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        _move_into_place(partial, directory, overwrite)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return directory


def write_fields_vti(path: Path, fields: dict[str, np.ndarray], domain) -> None:
    """Voxel arrays as ``.vti`` cell data, grid frame, spacing in millimetres; the file's
    field data says so (``length_unit`` = ``"mm"``)."""
    write_vti(path, fields, tuple(M_TO_MM * h for h in domain.spacing),
              field_data={LENGTH_UNIT_FIELD: FILE_LENGTH_UNIT})


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` at zlib level ``ZLIB_LEVEL`` (NumPy's is fixed at 6);
    ``np.load`` reads it the same way."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZLIB_LEVEL) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def write_drug_outputs(partial: Path, drug, domain) -> dict[str, np.ndarray]:
    """Snapshots, PVD collection and time series; returns the arrays for ``fields.npz``."""
    host = domain.backend.to_host
    exposure = drug.arterial.exposure
    arrays = {"auc": host(exposure.auc), "cmax": host(exposure.cmax)}
    if drug.intravenous is not None:
        arrays["auc_iv"] = host(drug.intravenous.exposure.auc)
    if drug.embolized is not None:
        embolized = embolized_fields(domain, drug.embolized)
        write_fields_vti(partial / "fields" / "steady_embolized.vti",
                         {"labels": domain.labels, **embolized}, domain)
        arrays.update(embolized)
    entries = []
    snapshots = drug.arterial.snapshots.taken
    for number, (time, fields) in enumerate(snapshots):
        name = f"drug_{number:04d}.vti"
        write_fields_vti(partial / "fields" / name, fields, domain)
        entries.append((time, name))
    write_pvd(partial / "fields" / "drug.pvd", entries)
    arrays["drug_times"] = np.array([t for t, _ in snapshots])
    for key in ("c_e", "c_c", "c_t"):
        arrays[key] = np.stack([f[key] for _, f in snapshots])
    write_csv(partial / "timeseries.csv", drug.arterial.series.rows)
    if drug.intravenous is not None:
        write_csv(partial / "timeseries_iv.csv", drug.intravenous.series.rows)
    return arrays


def write_csv(path: Path, rows: list[dict]) -> None:
    """Rows of equal keys as CSV (full float precision)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: repr(float(v)) if isinstance(v, float) else v for k, v in row.items()}
                         for row in rows)


def check_output_dir(directory: str | Path, overwrite: bool = False) -> Path:
    """Fail before any work if ``directory`` cannot receive results.

    It may be missing, empty, or — with ``overwrite`` — a previous perfusion result (replaced
    when the run is complete); anything else is left alone.
    """
    directory = Path(directory).resolve()
    if directory.exists():
        if not directory.is_dir():
            raise ResultsError(f"{directory} is a file; choose another -o DIR")
        if not (directory / "metrics.json").exists() and any(directory.iterdir()):
            raise ResultsError(f"{directory} exists and is not a perfusion result; choose "
                               "another -o DIR or remove it")
        if (directory / "metrics.json").exists() and not overwrite:
            raise ResultsError(f"{directory} already holds results; pass --overwrite "
                               "(run_case(..., overwrite=True)) to replace them, figures, "
                               "report and exports included, or choose another -o DIR")
    parent = next((p for p in [directory, *directory.parents] if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK):
        raise ResultsError(f"cannot write results under {parent}; choose another -o DIR")
    return directory


def _move_into_place(partial: Path, directory: Path, overwrite: bool) -> None:
    check_output_dir(directory, overwrite)
    if directory.exists():
        old = directory.parent / f".{directory.name}.old-{os.getpid()}"
        directory.rename(old)
        partial.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    else:
        partial.rename(directory)
