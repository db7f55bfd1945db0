"""Exposure over all time: the metrics a catheter position is judged by (docs/model.md §10).

From the time integrals of ``perfusion.transport.total_exposure`` (AUC of ``C_t`` per tissue
voxel, ``∫c_sys dt``; SI, kg·s/m³), the target ``T`` (the tumour) and the normal tissue
``N`` (class ``normal`` where the case has one, else every class but the target and a
necrotic core), with ``A`` the AUC threshold (``exposure.auc_threshold``) and ``V`` the voxel
volume:

- ``tumor_auc``, ``normal_auc``: class means of the AUC; ``tumor_to_normal_auc`` their ratio;
- ``tumor_coverage = |{v ∈ T: AUC_v ≥ A}| / |T|``; ``normal_volume_above = V |{v ∈ N: AUC_v ≥ A}|``;
- ``tumor_auc_share = Σ_T AUC / Σ AUC`` (the target's share of the tissue's exposure);
- ``tumor_blood_share = Σ_T F θ / Σ F θ``: the share of the catheter's blood that perfuses
  the target (``F`` perfusion, ``θ`` catheter territory);
- ``regional_advantage = (AUC_T/AUC_sys)_IA ÷ (AUC_T/AUC_sys)_IV`` (docs/model.md §7).

``perfusion run`` reports these under ``exposure_total`` and ``perfusion plan`` ranks catheter
positions by them, through this one function, so a plan row and a run agree. The run also
reports them for its own time-stepped window continued by the linear tail from its end state
(``window_and_tail``): the full model's exposure over all time where the window is long
enough for the drug left at its end to be in the linear regime.
"""
from __future__ import annotations

import numpy as np

from ..library.units import M3_TO_ML


def regions(labels: np.ndarray, class_names, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(target, normal) boolean masks over the tissue voxels with class ``labels``."""
    names = list(class_names)
    if target is None:
        tissue = labels > 0
        return tissue, tissue
    chosen = labels == names.index(target)
    if "normal" in names and target != "normal":
        return chosen, labels == names.index("normal")
    excluded = {names.index(n) for n in ("necrotic",) if n in names}
    return chosen, (labels > 0) & ~chosen & ~np.isin(labels, list(excluded))


def exposure_summary(tissue_auc: np.ndarray, systemic_auc: float, target: np.ndarray,
                     normal: np.ndarray, threshold: float, voxel_volume: float,
                     blood: np.ndarray | None = None, intravenous=None) -> dict:
    """The metrics of one catheter position (module docstring), SI except the volume [mL].

    ``intravenous``: (tissue AUC, systemic AUC) of the IV comparator, for the regional
    advantage; ``blood``: the catheter's blood ``F θ`` per voxel."""
    tumor = float(tissue_auc[target].mean()) if target.any() else float("nan")
    normal_mean = float(tissue_auc[normal].mean()) if normal.any() else float("nan")
    total = float(tissue_auc.sum())
    summary = {
        "tumor_auc": tumor, "normal_auc": normal_mean,
        "tumor_to_normal_auc": tumor / normal_mean if normal_mean > 0 else float("nan"),
        "tumor_coverage": float((tissue_auc[target] >= threshold).mean()) if target.any()
        else float("nan"),
        "normal_volume_above_ml": float((tissue_auc[normal] >= threshold).sum())
        * voxel_volume * M3_TO_ML,
        "tumor_auc_share": float(tissue_auc[target].sum()) / total if total > 0 else float("nan"),
        "systemic_auc": systemic_auc,
    }
    if blood is not None:
        carried = float(blood.sum())
        summary["tumor_blood_share"] = (float(blood[target].sum()) / carried if carried > 0
                                        else float("nan"))
    if intravenous is not None:
        iv_tissue, iv_systemic = intravenous
        iv_ratio = float(iv_tissue[target].mean()) / iv_systemic if iv_systemic > 0 else 0.0
        summary["regional_advantage"] = (tumor / systemic_auc / iv_ratio
                                         if systemic_auc > 0 and iv_ratio > 0 else float("nan"))
    return summary


def total_exposure_metrics(domain, totals, target: str | None, threshold: float) -> dict:
    """``metrics.json`` → ``exposure_total`` of a run (``transport.total_exposure.RunTotals``):
    the summary from the doses, per-class mean AUC, and the run's own window plus its linear
    tail with their relative difference on the target (time step, and saturation where the
    drug is not linear)."""
    system = totals.system
    labels = np.asarray(domain.labels).ravel()[system.index]
    target_mask, normal_mask = regions(labels, domain.class_names, target)
    iv = (None if totals.intravenous is None
          else (totals.intravenous.tissue, totals.intravenous.systemic))
    arterial = totals.arterial
    metrics = exposure_summary(arterial.tissue, arterial.systemic, target_mask, normal_mask,
                               threshold, domain.voxel_volume, totals.blood, iv)
    metrics["auc"] = {name: float(arterial.tissue[labels == i].mean())
                      for i, name in enumerate(domain.class_names) if i and (labels == i).any()}
    metrics["linear_model"] = system.linear
    metrics["target"] = target or "all tissue"
    if totals.window_and_tail is not None:
        continued = totals.window_and_tail
        reference = float(continued.tissue[target_mask].mean())
        metrics["window_and_tail_target_auc"] = reference
        metrics["window_and_tail_relative_difference"] = (
            abs(metrics["tumor_auc"] - reference) / reference if reference > 0 else float("nan"))
        metrics["window_and_tail"] = exposure_summary(
            continued.tissue, continued.systemic, target_mask, normal_mask, threshold,
            domain.voxel_volume, totals.blood)
    return metrics
