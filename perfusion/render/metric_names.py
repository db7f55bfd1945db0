"""Names and display units of ``metrics.json``'s dotted keys, for the report's tables.

``metric_unit(key)`` gives the unit shown and the factor from the stored SI value: AUC
µg·h/mL (= kg·s/m³ / 3.6), concentrations µg/mL (= 1000 × kg/m³), pressures mmHg (= Pa /
133.32), doses mg, times s or min, volumes mL or L, flows mL/min, perfusion mL/min/100 mL;
ratios and fractions "–". ``metric_name(key)`` spells a key out in words
(``iv.auc.tumor`` → "AUC of C_t, tumor (IV comparator)"); unknown words are shown with
spaces for underscores.
"""
from __future__ import annotations

import re

from ..library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML, PA_TO_MMHG

# (regular expression on the dotted key, unit shown, factor from the stored SI value)
_UNITS = [
    (r"(^|\.)(auc|target_auc|auc_bound)(\.|$)|auc_systemic$|auc_kg_s_m3$", "µg·h/mL",
     KG_S_M3_TO_UG_H_ML),
    (r"(^|\.)cmax(\.|$)|cmax_systemic$|concentration_kg_m3$", "µg/mL", KG_M3_TO_UG_ML),
    (r"(^|\.)(ifp_mean|ifp_max)(\.|$)", "mmHg", PA_TO_MMHG),
    (r"_mmhg$", "mmHg", 1.0),
    (r"ml_min_100ml|(^|\.)perfusion_(mean|p99|max|bound)", "mL/min/100 mL", 1.0),
    (r"ml_min(\.|$)|_ml_min\b", "mL/min", 1.0),
    (r"volume_ml|_ml$", "mL", 1.0),
    (r"(^|\.)dose_kg\.|metabolised_kg$", "mg", 1e6),
    (r"time_above_threshold\.", "min", 1 / 60),
    (r"(^|\.)systemic\.(central|peripheral)_volume$", "L", 1e3),
    (r"(^|\.)systemic\.clearance$", "mL/min", 6e7),
    (r"(^|\.)systemic\.k(12|21)$", "1/min", 60.0),
    (r"beta_per_pa_s", "1/(Pa·s)", 1.0),
    (r"conductivity_m2_per_pa_s", "m²/(Pa·s)", 1.0),
    (r"(^|\.)(timings|seconds)(\.|$)|_s$", "s", 1.0),
    (r"_to_|fraction|regional_advantage|territory|relative|mass_balance_error|extraction|"
     r"pattern_mismatch|inflow_vs_targets|auc_share", "–", 1.0),
]

# words of dotted keys → words shown; a key's parts are joined with ", "
_WORDS = {
    "auc": "AUC of C_t", "cmax": "C_max of C_t", "auc_systemic": "systemic plasma AUC",
    "cmax_systemic": "systemic plasma C_max", "auc_bound": "AUC of cell-bound drug",
    "perfusion_mean": "mean perfusion", "perfusion_mean_by_supply": "mean perfusion by supply",
    "ifp_mean": "mean interstitial fluid pressure", "ifp_max": "highest interstitial fluid pressure",
    "class_volume_ml": "volume", "inflow_ml_min": "inflow", "territory_mean": "mean catheter share",
    "surface_outflow_ml_min": "fluid leaving through the surface", "tumor": "tumour",
    "tumor_to_normal_auc": "tumour-to-normal AUC ratio",
    "tumor_to_systemic_auc": "tumour-to-systemic AUC ratio",
    "target_to_systemic_auc": "target-to-systemic AUC ratio", "target_auc": "target AUC",
    "regional_advantage": "regional advantage (target/systemic AUC, IA over IV)",
    "regional_advantage_by_class": "regional advantage by class",
    "regional_advantage_territory": "regional advantage by catheter territory",
    "time_above_threshold": "time above the concentration threshold",
    "target_auc_fraction_above_threshold": "share of the target above the AUC threshold",
    "dose_fraction_in_target": "share of the dose in the target", "dose_kg": "dose",
    "mass_balance_error": "drug mass-balance error", "hepatic_extraction": "organ extraction",
    "organ_clearance_ml_min": "organ clearance", "metabolised_kg": "drug metabolised",
    "total_body_clearance_ml_min": "total-body clearance", "clearance_rest_ml_min":
    "clearance outside the organ", "catheter_flow_ml_min": "catheter flow",
    "target_ml_min_100ml": "target", "achieved_ml_min_100ml": "achieved",
    "beta_per_pa_s": "exchange coefficient β", "conductivity_m2_per_pa_s": "conductivity",
    "seconds": "simulation wall time", "timings": "run time", "iv": "",
    "concentration_kg_m3": "concentration threshold", "auc_kg_s_m3": "AUC threshold",
}

_UNIT_SUFFIX = re.compile(r"_(mmhg|ml_min_100ml|ml_min|ml|kg|kg_m3|kg_s_m3|s)$")


def metric_unit(key: str) -> tuple[str, float]:
    """``(unit shown, factor from the stored value)`` for a dotted metric key."""
    for pattern, unit, factor in _UNITS:
        if re.search(pattern, key):
            return unit, factor
    return "", 1.0


def metric_name(key: str) -> str:
    """A dotted metric key in words (the IV comparator's keys say so)."""
    parts = key.split(".")
    words = [_WORDS.get(part, _UNIT_SUFFIX.sub("", part).replace("_", " ")) for part in parts]
    name = ", ".join(w for w in words if w)
    return f"{name} (IV comparator)" if parts[0] == "iv" else name
