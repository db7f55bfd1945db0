"""The plan directory: ``plan.csv``, ``pairs.csv``, ``plan.json``, ``plan_maps.npz`` and the tree.

Columns (``plan.csv``, best first): ``rank``, ``vessel`` (segment id: ``catheter.vessel``
in a case), ``radius_mm``, ``flow_ml_min``, ``terminals``, ``depth`` (bifurcations from the
root), ``tumor_blood_share``, ``tumor_coverage``, ``tumor_to_normal_auc``, ``tumor_auc`` and
``normal_auc`` [µg·h/mL], ``normal_volume_above_ml``, ``normal_fraction_above``,
``tumor_auc_share``, ``regional_advantage``, ``systemic_auc`` [µg·h/mL], ``score``; with
``--exact k``, for the re-run rows, the full model's (its window and linear tail; ``exact``)
``exact_rank``, ``exact_score``, ``exact_tumor_coverage``, ``exact_tumor_to_normal_auc``,
``exact_tumor_auc``, ``exact_normal_auc``, ``exact_normal_volume_above_ml`` and
``linear_error`` (plan ÷ exact − 1 of the tumour AUC). AUCs are over all time
(``perfusion.transport.total_exposure``); ``tumor_*`` is the plan's target. Everything is
written into ``DIR.partial`` and moved into place when complete, so an interrupted plan
never leaves a directory that looks finished. ``plan_maps.npz`` holds the territory and AUC
maps of the best ``run.MAP_ROWS`` rows (in rank order).
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from ..errors import ResultsError
from ..library.units import KG_S_M3_TO_UG_H_ML, M_TO_MM
from ..results.trees import tree_files
from ..vascular.tree_file import write_tree_vtp
from .rank import PAIR_POOL, SPLITS

COLUMNS = ("rank", "vessel", "radius_mm", "flow_ml_min", "terminals", "depth",
           "tumor_blood_share", "tumor_coverage", "tumor_to_normal_auc", "tumor_auc",
           "normal_auc", "normal_volume_above_ml", "normal_fraction_above", "tumor_auc_share",
           "regional_advantage", "systemic_auc", "score")
EXACT_COLUMNS = ("exact_rank", "exact_score", "exact_tumor_coverage", "exact_tumor_to_normal_auc",
                 "exact_tumor_auc", "exact_normal_auc", "exact_normal_volume_above_ml",
                 "linear_error")
PAIR_COLUMNS = ("vessel_a", "vessel_b", "dose_fraction_a", *COLUMNS[6:])
AUC_COLUMNS = {"tumor_auc", "normal_auc", "systemic_auc", "exact_tumor_auc", "exact_normal_auc"}
SCORE = ("score = tumour coverage − normal fraction above (fractions of each volume with AUC "
         "over all time ≥ the threshold); ties by tumour-to-normal AUC")


def check_plan_dir(directory: Path, overwrite: bool) -> Path:
    """Refuse a directory that is not an earlier plan (or, without ``overwrite``, is one)."""
    directory = Path(directory).resolve()
    if directory.exists():
        if not (directory / "plan.json").exists() and any(directory.iterdir()):
            raise ResultsError(f"{directory} exists and is not a perfusion plan; choose another "
                               "-o DIR or remove it")
        if (directory / "plan.json").exists() and not overwrite:
            raise ResultsError(f"{directory} already holds a plan; pass --overwrite to replace "
                               "it, or choose another -o DIR")
    return directory


def _shown(row: dict, columns) -> dict:
    return {c: (row[c] * KG_S_M3_TO_UG_H_ML if c in AUC_COLUMNS and c in row else row.get(c, ""))
            for c in columns}


def _csv(path: Path, rows: list[dict], columns) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(_shown(row, columns))


def write_plan(plan, directory: Path, overwrite: bool = False) -> Path:
    """Write ``plan`` (``run.Plan``) into ``directory`` (module docstring)."""
    directory = check_plan_dir(directory, overwrite)
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "fields").mkdir(parents=True)
    exact = any("exact_tumor_auc" in row for row in plan.rows)
    _csv(partial / "plan.csv", plan.rows, COLUMNS + (EXACT_COLUMNS if exact else ()))
    _csv(partial / "pairs.csv", plan.pairs, PAIR_COLUMNS)
    info = dict(plan.info, score=SCORE,
                auc_threshold_ug_h_ml=plan.info["auc_threshold_kg_s_m3"] * KG_S_M3_TO_UG_H_ML,
                pairs=f"the {PAIR_POOL} best single positions with disjoint subtrees, two at a "
                      f"time, dose fractions {', '.join(map(str, SPLITS))} through vessel_a")
    (partial / "plan.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    domain = plan.domain
    np.savez_compressed(
        partial / "plan_maps.npz",
        vessel=np.array([r["vessel"] for r in plan.rows[:len(plan.auc)]]),
        tissue_index=plan.index, shape=np.array(domain.shape),
        spacing_mm=np.array(domain.spacing) * M_TO_MM, labels=np.asarray(domain.labels, np.uint8),
        class_names=np.array(domain.class_names), auc=plan.auc * np.float32(KG_S_M3_TO_UG_H_ML),
        territory=plan.territory)
    for name, (tree, points, cells) in tree_files(plan.steady).items():
        write_tree_vtp(partial / "fields" / name, tree, point_data=points, cell_data=cells)
    if directory.exists():
        shutil.rmtree(directory)
    partial.rename(directory)
    return directory
