"""The files of a ``perfusion plan`` directory, read for its figures (no physics).

``plan.csv``: one row per candidate catheter position (a vessel = a segment id of the arterial
tree), ranked (rank 1 = best score); the columns read here are :data:`COLUMNS` (further
columns are kept but not required): coverage = fraction of the target volume with
AUC ≥ threshold [-], AUCs [µg·h/mL], ``normal_volume_above_ml`` = normal-tissue volume with
AUC ≥ threshold [mL], radius [mm], flow [mL/min]. ``plan.json``: the case, supply, target,
``auc_threshold_ug_h_ml``, the score's definition, ``case_vessel`` (the case's own catheter
vessel or null). ``plan_maps.npz``: per candidate (in ``plan.csv`` order) the AUC [µg·h/mL]
and territory [-] on the tissue voxels ``tissue_index`` (flat C-order indices into ``shape``),
with the label image, its class names and ``spacing_mm``.
A missing file, column or key raises :class:`~perfusion.errors.ResultsError` naming the file,
the key and the fix.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ResultsError

COLUMNS = ("rank", "vessel", "radius_mm", "flow_ml_min", "terminals", "tumor_blood_share",
           "tumor_coverage", "tumor_to_normal_auc", "tumor_auc", "normal_auc",
           "normal_volume_above_ml", "regional_advantage", "score")
META_KEYS = ("case", "supply", "target", "auc_threshold_ug_h_ml", "score", "case_vessel")
MAP_KEYS = ("vessel", "tissue_index", "shape", "spacing_mm", "labels", "class_names", "auc",
            "territory")
FIX = "write the directory with `perfusion plan CASE -o DIR`"


@dataclass(frozen=True)
class PlanTable:
    """``plan.csv`` as float columns (rows in rank order) and ``plan.json``."""

    directory: Path
    columns: dict[str, np.ndarray]
    meta: dict

    @property
    def vessels(self) -> np.ndarray:
        return self.columns["vessel"].astype(np.int64)

    @property
    def threshold(self) -> float:
        """The AUC threshold [µg·h/mL]."""
        return float(self.meta["auc_threshold_ug_h_ml"])


@dataclass(frozen=True)
class PlanMaps:
    """``plan_maps.npz``; ``labels``, ``class_names``, ``spacing`` [m] and :meth:`class_mask`
    as :class:`~perfusion.results.load.ResultsData` has them, so the scene's surface and plane
    helpers read it alike."""

    vessels: np.ndarray        # (C,) segment ids, in plan.csv order
    tissue_index: np.ndarray   # (N,) flat C-order voxel indices
    labels: np.ndarray         # shape, class label per voxel
    class_names: list[str]
    spacing: np.ndarray        # (3,) [m]
    auc: np.ndarray            # (C, N) [µg·h/mL]
    territory: np.ndarray      # (C, N) [-]

    def class_mask(self, name: str) -> np.ndarray:
        return self.labels == self.class_names.index(name)

    def volume(self, values: np.ndarray, outside: float = np.nan) -> np.ndarray:
        """One candidate's tissue values on the whole grid, ``outside`` elsewhere."""
        full = np.full(self.labels.size, outside, dtype=np.float32)
        full[self.tissue_index] = values
        return full.reshape(self.labels.shape)


def load_plan_table(directory: str | Path) -> PlanTable:
    """Read ``plan.csv`` and ``plan.json`` of a plan directory."""
    directory = Path(directory)
    csv_path, json_path = directory / "plan.csv", directory / "plan.json"
    for path in (csv_path, json_path):
        if not path.is_file():
            raise ResultsError(f"{path} is missing: not a plan directory; {FIX}")
    with csv_path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        raise ResultsError(f"{csv_path} has no candidate rows; {FIX} with a smaller "
                           "min_radius_mm so that some vessels qualify")
    missing = [name for name in COLUMNS if name not in rows[0]]
    if missing:
        raise ResultsError(f"{csv_path}: column {', '.join(missing)} missing; {FIX}")
    columns = {}
    for name in rows[0]:
        try:
            columns[name] = np.array([float(row[name] or "nan") for row in rows])
        except ValueError:
            if name in COLUMNS:
                raise ResultsError(f"{csv_path}: column {name} holds a value that is not a "
                                   f"number; {FIX}") from None
    order = np.argsort(columns["rank"], kind="stable")
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    absent = [key for key in META_KEYS if key not in meta]
    if absent:
        raise ResultsError(f"{json_path}: key {', '.join(absent)} missing; {FIX}")
    return PlanTable(directory, {name: values[order] for name, values in columns.items()}, meta)


def load_plan_maps(directory: str | Path) -> PlanMaps:
    """Read ``plan_maps.npz`` of a plan directory."""
    path = Path(directory) / "plan_maps.npz"
    if not path.is_file():
        raise ResultsError(f"{path} is missing: not a plan directory; {FIX}")
    with np.load(path, allow_pickle=False) as stored:
        absent = [key for key in MAP_KEYS if key not in stored.files]
        if absent:
            raise ResultsError(f"{path}: array {', '.join(absent)} missing; {FIX}")
        arrays = {key: stored[key] for key in MAP_KEYS}
    shape = tuple(int(n) for n in arrays["shape"])
    return PlanMaps(vessels=arrays["vessel"].astype(np.int64),
                    tissue_index=arrays["tissue_index"].astype(np.int64),
                    labels=arrays["labels"].reshape(shape),
                    class_names=[str(name) for name in arrays["class_names"]],
                    spacing=np.asarray(arrays["spacing_mm"], dtype=float) * 1e-3,
                    auc=arrays["auc"], territory=arrays["territory"])


def tree_path(table: PlanTable) -> Path:
    """The arterial tree of the planned supply, ``fields/tree_<supply>.vtp``."""
    path = table.directory / "fields" / f"tree_{table.meta['supply']}.vtp"
    if not path.is_file():
        raise ResultsError(f"{path} is missing (plan.json supply = {table.meta['supply']!r}); "
                           f"{FIX}")
    return path
