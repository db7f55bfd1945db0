"""Exposure metrics of a drug run (docs/model.md §10).

Class means of total tissue concentration ``C_t``: ``auc.<class>`` [kg·s/m³] and
``cmax.<class>`` [kg/m³] (peak of the class-mean curve); ``auc_systemic`` (plasma
``∫c_sys dt``); ``auc_share.<class>`` (the class's share of the tissue's drug exposure,
``AUC_c V_c / Σ AUC_k V_k``); ``tumor_to_normal_auc``; ``tumor_to_systemic_auc``;
``regional_advantage = (AUC_target/AUC_sys)_IA ÷ (AUC_target/AUC_sys)_IV`` (target: tumour,
or all tissue when there is none), which for a well-mixed region at steady state equals
Collins' ``R_d = 1 + CL_TB/(Q_p(1 − E))`` with ``Q_p`` the region's plasma flow;
``time_above_threshold.<class>`` [s]; ``target_auc_fraction_above_threshold``; the fraction
of the dose in the target (peak and at the end); ``mass_balance_error``.
"""
from __future__ import annotations


def route_metrics(domain, route, target: str | None, auc_threshold: float, dose: float) -> dict:
    """Metrics of one route (IA or IV)."""
    exposure = route.exposure
    auc = exposure.means(exposure.auc)
    metrics = {
        "auc": auc, "cmax": dict(exposure.cmax_class), "auc_systemic": exposure.auc_systemic,
        "cmax_systemic": exposure.systemic_peak,
        "time_above_threshold": dict(exposure.time_above),
        "mass_balance_error": route.budget.error(route.tissue_amount, route.body),
        "seconds": round(route.seconds, 3),
    }
    target_auc = _target_auc(domain, exposure, auc, target)
    metrics["target"] = target or "all tissue"
    metrics["target_auc"] = target_auc
    counts = exposure.means.counts
    exposed = sum(auc[c] * counts[c] for c in auc)
    if exposed > 0:
        metrics["auc_share"] = {c: auc[c] * counts[c] / exposed for c in auc}
    if "tumor" in auc and "normal" in auc and auc["normal"] > 0:
        metrics["tumor_to_normal_auc"] = auc["tumor"] / auc["normal"]
    if exposure.auc_systemic > 0:
        metrics["target_to_systemic_auc"] = target_auc / exposure.auc_systemic
        if "tumor" in auc:
            metrics["tumor_to_systemic_auc"] = auc["tumor"] / exposure.auc_systemic
    if target is not None:
        xp = domain.backend.xp
        mask = exposure.means.masks[target]
        above = domain.backend.sum(xp.where(mask & (exposure.auc > auc_threshold), 1.0, 0.0))
        metrics["target_auc_fraction_above_threshold"] = above / exposure.means.counts[target]
        metrics["dose_fraction_in_target"] = {"peak": exposure.target_amount_peak / dose,
                                              "final": exposure.target_amount_final / dose}
    return metrics


def _target_auc(domain, exposure, auc: dict, target: str | None) -> float:
    if target is not None:
        return auc[target]
    counts = exposure.means.counts
    return sum(auc[c] * counts[c] for c in auc) / sum(counts.values())


def drug_metrics(case, domain, result) -> dict:
    """The drug part of ``metrics.json``: IA metrics at the top level, IV under ``iv``."""
    target = result.arterial.exposure.target
    threshold = case.exposure.auc_threshold
    dose = result.schedule.dose()
    metrics = route_metrics(domain, result.arterial, target, threshold, dose)
    metrics["drug"] = {"name": result.drug.name, "sources": result.drug.sources,
                       "systemic": {**vars(result.pk)}, "systemic_sources": result.pk_sources}
    metrics["dose_kg"] = {"total": dose, "intra_arterial": result.schedule.dose("intra-arterial"),
                          "intravenous": result.schedule.dose("intravenous")}
    metrics["time_step"] = result.step
    metrics["thresholds"] = {"concentration_kg_m3": case.exposure.concentration_threshold,
                             "auc_kg_s_m3": threshold}
    if result.intravenous is not None:
        iv = route_metrics(domain, result.intravenous, target, threshold, dose)
        metrics["iv"] = iv
        ia_ratio = metrics.get("target_to_systemic_auc")
        iv_ratio = iv.get("target_to_systemic_auc")
        if ia_ratio and iv_ratio:
            metrics["regional_advantage"] = ia_ratio / iv_ratio
    return metrics
