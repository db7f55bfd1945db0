"""The report's caveats (written from the resolved case and the metrics) and its provenance.

Caveats: a phantom geometry, point inlets instead of a tree (hot spots at the inlets, and the
``extremes`` warnings), ``C_t`` including the intravascular drug ``v_p c_p``, the parameters
whose sources are unconfirmed, the catheter's route (arterial or portal) and an embolisation.
Provenance: version, git commit, command line, backend, the SHA-256 of every input file
(``metrics.json`` ``inputs``), run times [s].
"""
from __future__ import annotations

import html
from datetime import datetime, timezone

from .report_tables import parameter_rows, table


def caveats(metrics: dict, case: dict) -> list[str]:
    """The caveats of this run, each one sentence or a few (plain text)."""
    notes = []
    geometry = case.get("geometry", {})
    if geometry.get("kind") == "phantom":
        notes.append("Phantom geometry: the organ and tumours are ellipsoids and spheres, not a "
                     "patient's anatomy; distances and volumes are illustrative.")
    supplies = case.get("supplies", [])
    point = [s.get("name", "") for s in supplies if "tree" not in s and s.get("inlets")]
    if point:
        warnings = metrics.get("extremes", {}).get("warnings", [])
        extra = (f" {len(warnings)} physiological bound(s) are exceeded (see Checks)."
                 if warnings else "")
        notes.append(f"Point inlets rather than an arterial tree ({', '.join(point)}): blood "
                     "enters at a few points, so perfusion, pressure and drug show hot spots "
                     f"around the inlets that a real vascular tree would spread out.{extra}")
    if "auc" in metrics:
        notes.append("C_t is the total tissue concentration, including the drug inside the "
                     "blood vessels (v_p c_p): in well-perfused tissue during the infusion it "
                     "is partly intravascular drug that never reaches the cells.")
    flagged = [f"{row[0]} {row[1]}" for row in parameter_rows(metrics, case) if row[5]]
    if flagged:
        notes.append(f"{len(flagged)} parameters are not confirmed for this organ (their "
                     f"sources say unconfirmed): {', '.join(flagged)}.")
    notes.extend(_route_notes(metrics, case))
    embolization = metrics.get("embolization")
    if embolization:
        notes.append(f"Embolisation at t = {embolization.get('time_s', 0) / 60:.3g} min: "
                     f"{embolization.get('supply', '')} flow in the territory scaled by "
                     f"{embolization.get('factor', '')} (catheter flow × "
                     f"{embolization.get('catheter_flow_ratio', float('nan')):.3g}); the "
                     "fields after it are the re-solved ones.")
    return notes


def _route_notes(metrics: dict, case: dict) -> list[str]:
    catheter = case.get("catheter", {}).get("supply")
    others = [s.get("name", "") for s in case.get("supplies", []) if s.get("name") != catheter]
    notes = []
    if metrics.get("dose_kg", {}).get("portal_venous", 0) > 0:
        notes.append(f"The catheter infuses into the portal venous supply ({catheter}): the "
                     "tumour, fed mostly by arteries, receives little of it directly.")
    if catheter and others and "auc" in metrics:
        notes.append(f"The catheter delivers into {catheter} only; {', '.join(others)} "
                     "carry the systemic plasma concentration.")
    return notes


def caveats_section(metrics: dict, case: dict) -> str:
    notes = caveats(metrics, case)
    if not notes:
        return ""
    return "<h2>Caveats</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"


def provenance_section(metrics: dict, case: dict, directory) -> str:
    """Version, commit, command line, backend, input files' SHA-256, run times."""
    recorded = {**case.get("provenance", {}), **{k: metrics[k] for k in (
        "version", "git_commit", "command_line", "backend", "precision", "device") if k in metrics}}
    rows = [[key.replace("_", " "), recorded[key]] for key in (
        "version", "git_commit", "command_line", "backend", "precision", "device") if key in recorded]
    if "git_commit" not in recorded:
        rows.append(["git commit", "not recorded (not run from a git checkout)"])
    rows += [[f"time: {k}", f"{v:.3g} s"] for k, v in metrics.get("timings", {}).items()
             if isinstance(v, (int, float))]
    rows += [["results", str(directory.resolve())],
             ["report written", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")]]
    text = "<h2>Provenance</h2>" + table(["item", "value"], rows)
    inputs = metrics.get("inputs", [])
    if inputs:
        text += ("<p>Input files (SHA-256 of their bytes at run time):</p>"
                 + table(["key", "file", "SHA-256"],
                         [[f["key"], f["path"], f["sha256"]] for f in inputs]))
    return text
