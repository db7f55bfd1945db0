"""The report's clinical tables: per tissue class, the parameters with sources, the checks.

Units shown: volumes mL; perfusion mL/min/100 mL; AUC µg·h/mL (= kg·s/m³ / 3.6); C_max
µg/mL (= 1000 × kg/m³); ratios "–". Parameters are shown in the units of the resolved case
(SI, ``case.resolved.toml``) except perfusion (mL/min/100 mL) and pressures (mmHg); the
body's PK in L, mL/min and 1/min. A source is flagged "unconfirmed" when it says so.
"""
from __future__ import annotations

import html

from ..library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML, PA_TO_MMHG, PER_S_TO_ML_MIN_100ML
from .metric_names import metric_unit

# SI unit in the resolved case → (unit shown, factor)
_SHOWN = {"1/s perfusion": ("mL/min/100 mL", PER_S_TO_ML_MIN_100ML), "Pa": ("mmHg", PA_TO_MMHG),
          "m^2/(Pa*s)": ("m²/(Pa·s)", 1.0), "m/(Pa*s)": ("m/(Pa·s)", 1.0), "1/(Pa*s)": ("1/(Pa·s)", 1.0),
          "m^2/s": ("m²/s", 1.0), "kg/(m^3*s)": ("kg/(m³·s)", 1.0), "kg/m^3": ("kg/m³", 1.0)}


def number(value: float) -> str:
    """A value with 4 significant digits; exponent notation outside 1e-3…1e5."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def table(header: list[str], rows: list[list], numeric: set[int] = frozenset(),
          row_class: list[str | None] | None = None) -> str:
    """An HTML table; cells escaped (numbers formatted), columns in ``numeric`` right-aligned."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{number(c) if isinstance(c, float) else html.escape(str(c))}</td>'
            if j in numeric else f"<td>{html.escape(str(c))}</td>" for j, c in enumerate(row))
        mark = row_class[i] if row_class else None
        body.append(f'<tr class="{mark}">{cells}</tr>' if mark else f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def catheter_route(metrics: dict) -> str:
    """"PV" when the catheter infused into a portal vein, else "IA"."""
    return "PV" if metrics.get("dose_kg", {}).get("portal_venous", 0) > 0 else "IA"


def class_rows(metrics: dict) -> list[dict]:
    """Per class: volume, perfusion target and achieved, AUC and C_max (catheter, IV), AUC
    relative to normal tissue and the regional advantage, in the units of the table."""
    calibration = metrics.get("calibration", {})
    iv = metrics.get("iv", {})
    auc, normal = metrics.get("auc", {}), metrics.get("auc", {}).get("normal")
    rows = []
    for name, volume in metrics.get("class_volume_ml", {}).items():
        targets = [s["classes"][name]["target_ml_min_100ml"] for s in calibration.values()
                   if name in s.get("classes", {})]
        row = {"class": name, "volume_ml": volume,
               "perfusion_target": sum(targets) if targets else None,
               "perfusion_achieved": metrics.get("perfusion_mean", {}).get(name)}
        for label, source in (("", metrics), ("iv_", iv)):
            if name in source.get("auc", {}):
                row[f"{label}auc"] = source["auc"][name] * KG_S_M3_TO_UG_H_ML
                row[f"{label}cmax"] = source["cmax"][name] * KG_M3_TO_UG_ML
        if name in auc and normal:
            row["auc_to_normal"] = auc[name] / normal
        row["regional_advantage"] = metrics.get("regional_advantage_by_class", {}).get(name)
        rows.append(row)
    return rows


def class_section(metrics: dict) -> str:
    """The per-class table, the tumour-to-normal line and the territory table."""
    rows = class_rows(metrics)
    if not rows:
        return ""
    route = catheter_route(metrics)
    columns = [("class", "class"), ("volume [mL]", "volume_ml"),
               ("perfusion target [mL/min/100 mL]", "perfusion_target"),
               ("perfusion achieved [mL/min/100 mL]", "perfusion_achieved"),
               (f"AUC {route} [µg·h/mL]", "auc"), ("AUC IV [µg·h/mL]", "iv_auc"),
               (f"C_max {route} [µg/mL]", "cmax"), ("C_max IV [µg/mL]", "iv_cmax"),
               (f"AUC / AUC normal ({route}) [–]", "auc_to_normal"),
               ("regional advantage [–]", "regional_advantage")]
    columns = [(h, k) for h, k in columns if any(r.get(k) is not None for r in rows)]
    cells = [[r.get(k) if r.get(k) is not None else "–" for _, k in columns] for r in rows]
    target = metrics.get("target")
    text = [table([h for h, _ in columns], cells, set(range(1, len(columns))),
                  ["highlight" if r["class"] == target else None for r in rows])]
    ratios = [f"{route} {metrics['tumor_to_normal_auc']:.3g}"] if "tumor_to_normal_auc" in metrics else []
    if "tumor_to_normal_auc" in metrics.get("iv", {}):
        ratios.append(f"IV {metrics['iv']['tumor_to_normal_auc']:.3g}")
    if ratios:
        text.append(f"<p>Tumour-to-normal AUC: {', '.join(ratios)}.</p>")
    territory = metrics.get("regional_advantage_territory")
    if territory:
        text.append("<p>Regional advantage (tissue AUC per systemic AUC, catheter over IV) inside "
                    "and outside the catheter territory (catheter share of the plasma ≥ 0.5):</p>")
        text.append(table(["where", "regional advantage [–]", "voxels"],
                          [["inside", territory["inside"], territory["inside_voxels"]],
                           ["outside", territory["outside"], territory["outside_voxels"]]],
                          {1, 2}))
    note = ("<p>AUC and C_max: class means of the total tissue concentration C<sub>t</sub>; "
            "regional advantage: (class AUC / systemic AUC) under the catheter over the same "
            "under IV.</p>")
    return "<h2>Tissue classes</h2>" + "".join(text) + note


def unconfirmed(source) -> bool:
    return isinstance(source, str) and "unconfirmed" in source.lower()


def _shown(key: str, value) -> tuple[object, str]:
    """(value, unit) shown for a resolved-case entry ``"6.4e-15 m^2/(Pa*s)"`` (else as is)."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()), ""
    if not isinstance(value, str) or " " not in value:
        return value, "–" if isinstance(value, (int, float)) else ""
    head, unit = value.split(" ", 1)
    try:
        magnitude = float(head)
    except ValueError:
        return value, ""
    shown, factor = _SHOWN.get(f"{unit} {key}", _SHOWN.get(unit, (unit, 1.0)))
    return magnitude * factor, shown


def parameter_rows(metrics: dict, case: dict) -> list[list]:
    """[group, parameter, value, unit, source, flag] of every tissue, drug and body parameter."""
    rows = []
    sources = metrics.get("tissue_sources", {})
    for name, props in case.get("tissue", {}).items():
        for key, value in props.items():
            source = sources.get(name, {}).get(key, "")
            rows.append([f"tissue {name}", key, *_shown(key, value), source])
    drug = metrics.get("drug", {})
    for key, source in drug.get("sources", {}).items():
        value = drug.get("values", {}).get(key.split(".")[0])
        shown = _shown(key, value) if value is not None else ("–", "")
        rows.append([f"drug {drug.get('name', '')}", key, *shown, source or ""])
    for key, source in drug.get("systemic_sources", {}).items():
        value = drug.get("systemic", {}).get(key)
        unit, factor = metric_unit(f"systemic.{key}")
        rows.append(["body (two-compartment PK)", key,
                     value * factor if isinstance(value, (int, float)) else "–", unit, source])
    return [[*row, "unconfirmed" if unconfirmed(row[4]) else ""] for row in rows]


def parameters_section(metrics: dict, case: dict) -> str:
    rows = parameter_rows(metrics, case)
    if not rows:
        return ""
    flagged = sum(1 for r in rows if r[5])
    return (f"<h2>Parameters</h2><p>{len(rows)} parameters; {flagged} rest on sources marked "
            "unconfirmed (check them before relying on the numbers).</p>"
            + table(["group", "parameter", "value", "unit", "source", "flag"], rows, {2},
                    ["unconfirmed" if r[5] else None for r in rows]))


def _value(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(number(float(v)) for v in value) + "]"
    return number(float(value)) if isinstance(value, (int, float)) else str(value)


def checks_section(metrics: dict) -> str:
    """Every invariant check with value, tolerance and pass/fail, then the extremes' warnings."""
    checks = metrics.get("checks", {})
    rows = [[key, check.get("description", ""), _value(check.get("value")),
             _value(check.get("bounds", "")) if "bounds" in check else "",
             _value(check.get("tolerance")), "pass" if check.get("passed") else "FAIL"]
            for key, check in checks.items()]
    text = ["<h2>Checks</h2>"]
    if rows:
        passed = sum(1 for r in rows if r[5] == "pass")
        text.append(f"<p>{passed} of {len(rows)} checks passed.</p>")
        text.append(table(["check", "what", "value", "bounds", "tolerance", "result"], rows,
                          {2, 4}, [None if r[5] == "pass" else "failed" for r in rows]))
    warnings = metrics.get("extremes", {}).get("warnings", [])
    if warnings:
        text.append("<p>Physiological bounds left (extremes):</p><ul>"
                    + "".join(f"<li>{html.escape(w)}</li>" for w in warnings) + "</ul>")
    return "".join(text) if len(text) > 1 else ""
