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

Organ pharmacology (docs/model.md §6.5, §7): ``auc_bound.<class>`` (AUC of the class mean of
the bound/intracellular pool ``c_c``); ``hepatic_extraction`` ``= 1 − ∫c_venous_outflow dt /
∫c_inflow dt`` (AUC-based, from the time series; the steady extraction under constant
infusion); ``organ_clearance_ml_min`` ``CL_organ``; ``systemic`` (``CL_TB``, ``CL_organ``,
``CL_rest`` with sources); ``iv.total_body_clearance_ml_min`` ``= (eliminated_body +
eliminated_tissue + metabolised) / AUC_sys`` of the IV run's own budget.
"""
from __future__ import annotations

import math

from ..library.units import M3_S_TO_ML_MIN
from .total_exposure import total_exposure_metrics


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
        "auc_bound": dict(exposure.auc_bound_class),
        "metabolised_kg": route.budget.metabolised,
    }
    extraction = _auc_extraction(route.series.rows)
    if extraction is not None:
        metrics["hepatic_extraction"] = extraction
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


def _clearance_metrics(clearance: dict) -> dict:
    """CL_TB, CL_organ, CL_rest [mL/min] with their sources (``parameters.split_clearance``)."""
    return {"total_body_clearance_ml_min": clearance["total_body"] * M3_S_TO_ML_MIN,
            "organ_clearance_ml_min": clearance["organ"] * M3_S_TO_ML_MIN,
            "clearance_rest_ml_min": clearance["rest"] * M3_S_TO_ML_MIN,
            "rest_derived": clearance["derived"], "sources": clearance["sources"]}


def _drug_values(drug) -> dict:
    """The resolved drug parameters as in a case file, SI with units (``"1e-10 m^2/s"``)."""
    from ..case.introspect import unit_of
    from ..case.protocol import DrugSpec
    from ..transport.parameters import DRUG_FIELDS

    values = {}
    for key in (*DRUG_FIELDS, "blood_to_plasma"):
        value, info = getattr(drug, key), DrugSpec.model_fields[key]
        unit = unit_of(info.annotation, info.metadata)
        quantity = isinstance(value, float) and unit is not None and unit.text
        values[key] = f"{value!r} {unit.text}" if quantity else value
    return values


def _auc_extraction(rows: list[dict]) -> float | None:
    """``1 − Σ c_venous Δt / Σ c_inflow Δt`` over the time-series steps (None without inflow)."""
    inflow = venous = 0.0
    previous = 0.0
    for row in rows:
        dt = row["time_s"] - previous
        previous = row["time_s"]
        if "c_inflow" not in row or not math.isfinite(row["c_inflow"]):
            continue
        inflow += row["c_inflow"] * dt
        venous += row["c_venous_outflow"] * dt
    return 1 - venous / inflow if inflow > 0 else None


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
    metrics["drug"] = {"name": result.drug.name, "values": _drug_values(result.drug),
                       "sources": result.drug.sources,
                       "systemic": {**vars(result.pk)}, "systemic_sources": result.pk_sources}
    metrics["dose_kg"] = {"total": dose, "intra_arterial": result.schedule.dose("intra-arterial"),
                          "intravenous": result.schedule.dose("intravenous")}
    if result.schedule.dose("portal-venous") > 0:   # the catheter on a portal supply (§8.2)
        metrics["dose_kg"]["portal_venous"] = result.schedule.dose("portal-venous")
    if getattr(result, "clearance", None) is not None:
        metrics["systemic"] = _clearance_metrics(result.clearance)
        metrics["organ_clearance_ml_min"] = metrics["systemic"]["organ_clearance_ml_min"]
    metrics["time_step"] = result.step
    metrics["thresholds"] = {"concentration_kg_m3": case.exposure.concentration_threshold,
                             "auc_kg_s_m3": threshold}
    if isinstance(result.totals, str):
        metrics["exposure_total"] = {"available": False, "reason": result.totals}
    elif result.totals is not None:
        metrics["exposure_total"] = total_exposure_metrics(domain, result.totals, target,
                                                           threshold)
    if result.intravenous is not None:
        iv = route_metrics(domain, result.intravenous, target, threshold, dose)
        route = result.intravenous
        if route.exposure.auc_systemic > 0:
            removed = (route.body.eliminated + route.budget.tissue_eliminated
                       + route.budget.metabolised)
            iv["total_body_clearance_ml_min"] = (removed / route.exposure.auc_systemic
                                                 * M3_S_TO_ML_MIN)
        metrics["iv"] = iv
        ia_ratio = metrics.get("target_to_systemic_auc")
        iv_ratio = iv.get("target_to_systemic_auc")
        if ia_ratio and iv_ratio:
            metrics["regional_advantage"] = ia_ratio / iv_ratio
    return metrics
