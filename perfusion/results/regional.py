"""Where the regional advantage comes from (docs/model.md §7): its flow, per class, and in and
out of the catheter territory.

For a region ``Ω`` (a class, or a set of tissue voxels) with ``AUC_Ω`` the volume mean of the
per-voxel AUC of the total tissue concentration ``C_t`` and ``AUC_sys`` the plasma AUC,

    R_Ω = (AUC_Ω / AUC_sys)_IA ÷ (AUC_Ω / AUC_sys)_IV .

Collins' well-mixed limit ``R_d = 1 + CL_TB / (Q_p (1 − E))`` holds for the flow ``Q_p`` that
carries the intra-arterial dose, so the metrics name it (mL/min):

- ``regional_advantage_flow``: ``catheter_plasma_ml_min`` ``Q_cath,p``, the plasma flow of
  ``c_cath = c_sys + I_ia / Q_cath,p`` (before any embolisation), ``catheter_blood_ml_min``
  ``Q_cath,b = Q_cath,p / (1 − Hct)``, and the target's (``target``: the tumour, or all
  tissue) ``target_plasma_ml_min = (1 − Hct) ∫_target F dV`` and ``target_blood_ml_min``;
  for a drug carried by red cells too (``[drug] blood_to_plasma`` ``R_b`` given), Collins'
  flow is ``R_b`` times the blood flow: ``blood_to_plasma``, ``catheter_effective_ml_min``,
  ``target_effective_ml_min`` (docs/model.md §6.1);
- ``regional_advantage_by_class.<class>``: ``R_Ω`` over each class;
- ``regional_advantage_territory``: ``inside`` / ``outside``, ``R_Ω`` over the tissue voxels
  whose catheter share of the plasma ``θ`` (``territory`` in ``fields.npz``) is
  ``≥ TERRITORY_INSIDE`` / below it, with their voxel counts (``inside_voxels``,
  ``outside_voxels``).

A ratio whose denominator vanishes is ``null``.
"""
from __future__ import annotations

from ..library.units import M3_S_TO_ML_MIN

#: θ at or above which a tissue voxel counts as inside the catheter territory: most of its
#: plasma came through the catheter.
TERRITORY_INSIDE = 0.5


def regional_metrics(domain, steady, result) -> dict:
    """Flow, per-class and territory regional advantages of a drug run with an IV comparator."""
    if result.intravenous is None:
        return {}
    ia, iv = result.arterial.exposure, result.intravenous.exposure
    means = ia.means
    target = ia.target
    classes = [target] if target is not None else list(means.names)
    target_blood = sum(means.amount(steady.perfusion, c, domain.voxel_volume) for c in classes)
    plasma_fraction = 1 - steady.hematocrit
    ia_class, iv_class = means(ia.auc), means(iv.auc)
    metrics = {
        "regional_advantage_flow": {
            "catheter_plasma_ml_min": result.catheter_plasma_flow * M3_S_TO_ML_MIN,
            "catheter_blood_ml_min": result.catheter_plasma_flow / plasma_fraction * M3_S_TO_ML_MIN,
            "target": target or "all tissue",
            "target_plasma_ml_min": plasma_fraction * target_blood * M3_S_TO_ML_MIN,
            "target_blood_ml_min": target_blood * M3_S_TO_ML_MIN,
            **_effective_flows(result, target_blood)},
        "regional_advantage_by_class": {
            c: _advantage(ia_class[c], ia, iv_class[c], iv) for c in means.names},
    }
    if steady.territory is not None:
        xp, be = domain.backend.xp, domain.backend
        inside = domain.mask & (steady.territory >= TERRITORY_INSIDE)
        outside = domain.mask & ~inside
        territory = {}
        for name, region in (("inside", inside), ("outside", outside)):
            count = be.sum(region)
            territory[f"{name}_voxels"] = int(count)
            territory[name] = None if count == 0 else _advantage(
                be.sum(xp.where(region, ia.auc, 0.0)) / count, ia,
                be.sum(xp.where(region, iv.auc, 0.0)) / count, iv)
        metrics["regional_advantage_territory"] = territory
    return metrics


def _effective_flows(result, target_blood: float) -> dict:
    """For a drug in red cells (``R_b`` given): ``R_b`` and the flows that carry it,
    ``catheter_effective_ml_min = R_b Q_cath,b`` and ``target_effective_ml_min``."""
    r_b = result.drug.blood_to_plasma
    if r_b is None:
        return {}
    return {"blood_to_plasma": r_b,
            "catheter_effective_ml_min": result.catheter_effective_flow * M3_S_TO_ML_MIN,
            "target_effective_ml_min": r_b * target_blood * M3_S_TO_ML_MIN}


def _advantage(ia_auc: float, ia, iv_auc: float, iv) -> float | None:
    """``(AUC/AUC_sys)_IA ÷ (AUC/AUC_sys)_IV``, or None when a denominator vanishes."""
    if ia.auc_systemic <= 0 or iv_auc <= 0:
        return None
    return (ia_auc / ia.auc_systemic) / (iv_auc / iv.auc_systemic)
