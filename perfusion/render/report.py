"""One self-contained HTML report of a results directory (figures embedded as data URIs).

The report reads as a clinical summary: the regional-advantage call-out, the case, the
per-class table (volume [mL], perfusion target vs achieved [mL/min/100 mL], AUC [µg·h/mL] and
C_max [µg/mL] under the catheter and IV, ratios [–]), the parameters with units and sources,
the run's checks, the caveats, the figures, every metric by name with its unit
(:mod:`perfusion.render.metric_names`; the raw ``metrics.json`` collapsible) and provenance.
Sections are a list (:func:`report_sections`); ``write_report``'s ``extra_sections`` are
placed after the figures.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from ..results.load import ResultsData
from .caveats import caveats_section, provenance_section
from .metric_names import metric_name, metric_unit
from .report_tables import checks_section, class_section, number, parameters_section, table
from .slices import format_time

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
.desc{white-space:pre-wrap;color:#444}tr.unconfirmed td:last-child,tr.failed{color:#a40000;
font-weight:600}details{margin:.8em 0}summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:.6em}
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


def _quantity(value, unit: str, scale: float = 1.0) -> str:
    from ..library.units import parse_quantity

    try:
        return f"{number(parse_quantity(value, unit) * scale)}"
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
    """Every number of metrics.json by name, in display units; the raw file below it."""
    flat = flatten_metrics(data.metrics)
    rows = [[metric_name(key), value * metric_unit(key)[1], metric_unit(key)[0], key]
            for key, value in flat.items()]
    marks = ["highlight" if key == "regional_advantage" else None for key in flat]
    raw = html.escape(json.dumps(data.metrics, indent=1, ensure_ascii=False))
    return (f"<h2>Metrics</h2><details><summary>All {len(rows)} metrics, by name, in display "
            "units</summary>" + table(["metric", "value", "unit", "key"], rows, {1}, marks)
            + "</details><details><summary>Raw metrics.json (SI units)</summary>"
            f"<pre>{raw}</pre></details>")


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


def report_sections(data: ResultsData, figures: dict[str, Path],
                    extra_sections=()) -> list[str]:
    """The report's sections in order (HTML fragments; empty ones left out)."""
    metrics, case = data.metrics, data.case
    shown = [_figure(name, Path(p)) for name, p in figures.items()
             if Path(p).suffix.lower() in _MIME and Path(p).is_file()]
    sections = [_callout(data), _summary(data), class_section(metrics),
                parameters_section(metrics, case), checks_section(metrics),
                caveats_section(metrics, case), "<h2>Figures</h2>" + "".join(shown) if shown else "",
                *extra_sections, _metrics_table(data),
                provenance_section(metrics, case, data.directory)]
    return [s for s in sections if s]


def write_report(data: ResultsData, figures: dict[str, Path], path, extra_sections=()) -> Path:
    """Write ``report.html``: :func:`report_sections` (``extra_sections``, HTML fragments,
    after the figures).

    Examples
    --------
    >>> write_report(data, {"curves": Path("figures/curves.png")}, "report.html")  # doctest: +SKIP
    """
    path = Path(path)
    title = html.escape(f"perfusion report: {data.metrics.get('case', data.directory.name)}")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}"
             f"</title><style>{_STYLE}</style></head><body><h1>{title}</h1>",
             *report_sections(data, figures, extra_sections), "</body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(p for p in parts if p), encoding="utf-8")
    return path
