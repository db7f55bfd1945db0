"""Axis labels of the sweep summary figure: parameters and headline metrics in words and units.

A parameter's dotted key (``tissue.tumor.perfusion``) becomes words ("tumour perfusion"), with
list indices counted from 1 ("infusion 1 dose"); its unit is the one its values are written in
("40 mL/min/(100 mL)" → "[mL/min/100 mL]"), and the values are plotted as written. The
headline metrics (``summary.csv``, SI) are shown in clinical units: AUC µg·h/mL, perfusion
mL/min/100 mL, ratios [–].
"""
from __future__ import annotations

from ..library.units import KG_S_M3_TO_UG_H_ML

_WORDS = {"tumor": "tumour", "supplies": "supply", "inlets": "inlet", "tissue": "",
          "tumors": "tumour", "geometry": "", "simulation": "", "systemic": "body"}

# headline column → (label, factor from the SI value in summary.csv)
METRIC_LABELS = {
    "auc_tumor": ("tumour AUC [µg·h/mL]", KG_S_M3_TO_UG_H_ML),
    "auc_normal": ("normal-tissue AUC [µg·h/mL]", KG_S_M3_TO_UG_H_ML),
    "tumor_to_normal_auc": ("tumour-to-normal AUC [–]", 1.0),
    "regional_advantage": ("regional advantage, IA over IV [–]", 1.0),
    "perfusion_mean_tumor": ("tumour perfusion [mL/min/100 mL]", 1.0),
    "mass_balance_error": ("drug mass-balance error [–]", 1.0),
}


def value_unit(values) -> str:
    """The unit the values are written in (``"20 mg"`` → ``mg``), or "" for bare numbers."""
    for value in values:
        if isinstance(value, str) and " " in value:
            unit = value.split(" ", 1)[1].strip()
            return unit.replace("/(100 mL)", "/100 mL").replace("^2", "²").replace("^3", "³")
    return ""


def parameter_label(key: str, values) -> str:
    """``tissue.tumor.perfusion`` with values in mL/min/(100 mL) → "tumour perfusion [mL/min/100 mL]"."""
    words = []
    for part in key.split("."):
        if part.isdigit():
            words.append(str(int(part) + 1))
        else:
            word = _WORDS.get(part, part.replace("_", " "))
            if word:
                words.append(word)
    unit = value_unit(values)
    return " ".join(words) + (f" [{unit}]" if unit else "")


def varied_parameters(keys, rows: list[dict]) -> list[str]:
    """The keys whose values differ between the rows (constant parameters left out)."""
    return [key for key in keys
            if len({str(row[key]) for row in rows}) > 1]
