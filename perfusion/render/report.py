"""One self-contained HTML report of a results directory (figures embedded as data URIs).

Units shown: AUC µg·h/mL (= kg·s/m³ / 3.6), concentrations µg/mL (= 1000 × kg/m³),
pressures mmHg (= Pa / 133.32), doses mg, times s, volumes mL, flows mL/min, perfusion
mL/min/100 mL; ratios and fractions are dimensionless. A metric's unit comes from its
dotted key (``auc.tumor`` → µg·h/mL), see ``_UNITS``; unknown keys are shown as stored.
"""
from __future__ import annotations

import base64
import html
import re
from datetime import datetime, timezone
from pathlib import Path

from ..library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML, PA_TO_MMHG
from ..results.load import ResultsData
from .slices import format_time

# (regular expression on the dotted key, unit shown, factor from the stored SI value)
_UNITS = [
    (r"(^|\.)(auc|target_auc)(\.|$)|auc_systemic$|auc_kg_s_m3$", "µg·h/mL", KG_S_M3_TO_UG_H_ML),
    (r"(^|\.)cmax(\.|$)|cmax_systemic$|concentration_kg_m3$", "µg/mL", KG_M3_TO_UG_ML),
    (r"(^|\.)(ifp_mean|ifp_max)(\.|$)", "mmHg", PA_TO_MMHG),
    (r"ml_min_100ml|(^|\.)perfusion_mean", "mL/min/100 mL", 1.0),
    (r"ml_min(\.|$)|_ml_min\b", "mL/min", 1.0),
    (r"volume_ml|_ml$", "mL", 1.0),
    (r"(^|\.)dose_kg\.", "mg", 1e6),
    (r"time_above_threshold\.", "min", 1 / 60),
    (r"(^|\.)systemic\.(central|peripheral)_volume$", "L", 1e3),
    (r"(^|\.)systemic\.clearance$", "mL/min", 6e7),
    (r"(^|\.)systemic\.k(12|21)$", "1/min", 60.0),
    (r"beta_per_pa_s", "1/(Pa·s)", 1.0),
    (r"conductivity_m2_per_pa_s", "m²/(Pa·s)", 1.0),
    (r"(^|\.)(timings|seconds)(\.|$)|_s$", "s", 1.0),
    (r"_to_|fraction|regional_advantage|territory|relative|mass_balance_error|"
     r"pattern_mismatch|inflow_vs_targets", "–", 1.0),
]
_CAPTIONS = {
    "slices": "Total tissue concentration C<sub>t</sub> on orthogonal planes through the target "
              "centre, at the end of the infusion and at the end of the run.",
    "steady": "Steady fields on the axial plane through the target: perfusion, the catheter's "
              "share of the plasma (territory) and interstitial fluid pressure.",
    "scene": "Three-dimensional view of the tissue and the drug.",
    "animation": "Total tissue concentration on the axial plane through the target over the run.",
    "curves": "Class-mean tissue concentration and systemic plasma concentration; "
              "intra-arterial solid, intravenous comparator dashed; infusion shaded.",
    "dvh": "Exposure–volume histogram: share of each class's volume with AUC at or above a "
           "level; dotted line: the exposure threshold.",
}
_MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".svg": "image/svg+xml", ".mp4": "video/mp4", ".webm": "video/webm"}
_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1240px;
margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .8em;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.highlight{background:#fff3c4;font-weight:600}.callout{background:#fff3c4;border-left:5px solid
#e0a800;padding:.6em 1em;font-size:1.15em;margin:1em 0}figure{margin:1.5em 0}figure img,
figure video{max-width:100%;border:1px solid #ddd}figcaption{color:#555;margin-top:.3em}
.desc{white-space:pre-wrap;color:#444}
"""


def flatten_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Every number in ``metrics`` (nested dicts walked; lists, strings and flags skipped)."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def metric_unit(key: str) -> tuple[str, float]:
    """``(unit shown, factor from the stored value)`` for a dotted metric key."""
    for pattern, unit, factor in _UNITS:
        if re.search(pattern, key):
            return unit, factor
    return "", 1.0


def _number(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _quantity(value, unit: str, scale: float = 1.0) -> str:
    from ..library.units import parse_quantity

    try:
        return f"{_number(parse_quantity(value, unit) * scale)}"
    except Exception:   # a malformed entry is shown as written rather than failing the report
        return str(value)


def _summary(data: ResultsData) -> str:
    case, metrics = data.case, data.metrics
    grid = metrics.get("grid", {})
    shape = grid.get("shape", list(data.labels.shape))
    voxel = " × ".join(f"{s * 1e3:g}" for s in data.spacing)
    rows = [("Case", metrics.get("case", case.get("case", {}).get("name", "")))]
    rows.append(("Grid", f"{' × '.join(str(n) for n in shape)} voxels of {voxel} mm"))
    volumes = metrics.get("class_volume_ml", {})
    rows.append(("Classes", ", ".join(f"{name}: {volumes[name]:.4g} mL" if name in volumes else name
                                       for name in data.class_names[1:])))
    drug = case.get("drug", {}).get("name") or metrics.get("drug", {}).get("name")
    rows.append(("Drug", drug or "none (steady fields only)"))
    for spec in case.get("infusion", []):
        amount = (f"{_quantity(spec['dose'], 'kg', 1e6)} mg" if "dose" in spec
                  else f"{_quantity(spec.get('rate', '0 kg/s'), 'kg/s', 6e7)} mg/min")
        repeat = f", × {spec.get('repeat')}" if spec.get("repeat", 1) != 1 else ""
        start = float(_quantity(spec["start"], "s"))
        duration = float(_quantity(spec["duration"], "s"))
        rows.append(("Infusion", f"{spec['route']}: {amount} from t = {format_time(start)} "
                                 f"over {format_time(duration)}{repeat}"))
    simulation = case.get("simulation", {})
    if "duration" in simulation and data.has_drug:
        rows.append(("Simulated", format_time(float(_quantity(simulation["duration"], "s")))))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    description = case.get("case", {}).get("description", "")
    text = f'<p class="desc">{html.escape(description)}</p>' if description else ""
    return f"<h2>Case</h2>{text}<table>{body}</table>"


def _metrics_table(data: ResultsData) -> str:
    rows = []
    for key, value in flatten_metrics(data.metrics).items():
        unit, factor = metric_unit(key)
        mark = ' class="highlight"' if key == "regional_advantage" else ""
        rows.append(f"<tr{mark}><td><code>{html.escape(key)}</code></td>"
                    f'<td class="num">{_number(value * factor)}</td>'
                    f"<td>{html.escape(unit)}</td></tr>")
    return ("<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>unit</th></tr>"
            + "".join(rows) + "</table>")


def _callout(data: ResultsData) -> str:
    advantage = data.metrics.get("regional_advantage")
    if not isinstance(advantage, (int, float)):
        return ""
    target = data.metrics.get("target") or "tissue"
    return (f'<div class="callout">Regional advantage <b>{advantage:.3g}×</b>: the '
            f"{html.escape(target)} gets this many times more exposure per unit of systemic "
            "exposure from the intra-arterial infusion than from the same dose given "
            "intravenously.</div>")


def _figure(name: str, path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    uri = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    caption = _CAPTIONS.get(name, html.escape(name))
    media = (f'<video controls loop src="{uri}"></video>' if mime.startswith("video")
             else f'<img src="{uri}" alt="{html.escape(name)}">')
    return f"<figure>{media}<figcaption><b>{html.escape(name)}</b>: {caption}</figcaption></figure>"


def _provenance(data: ResultsData) -> str:
    metrics = data.metrics
    rows = [(key, metrics[key]) for key in ("version", "backend", "precision", "device")
            if key in metrics]
    rows += [(f"time: {k}", f"{v:.3g} s") for k, v in metrics.get("timings", {}).items()
             if isinstance(v, (int, float))]
    rows += [("results", str(data.directory.resolve())),
             ("report written", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))]
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    return f"<h2>Provenance</h2><table>{body}</table>"


def write_report(data: ResultsData, figures: dict[str, Path], path) -> Path:
    """Write ``report.html``: case, metrics, figures (embedded) and provenance.

    Examples
    --------
    >>> write_report(data, {"curves": Path("figures/curves.png")}, "report.html")  # doctest: +SKIP
    """
    path = Path(path)
    title = html.escape(f"perfusion report: {data.metrics.get('case', data.directory.name)}")
    shown = [_figure(name, Path(p)) for name, p in figures.items()
             if Path(p).suffix.lower() in _MIME and Path(p).is_file()]
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}"
             f"</title><style>{_STYLE}</style></head><body><h1>{title}</h1>", _callout(data),
             _summary(data), "<h2>Figures</h2>" + "".join(shown) if shown else "",
             _metrics_table(data), _provenance(data), "</body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(p for p in parts if p), encoding="utf-8")
    return path
