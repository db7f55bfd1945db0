"""The best candidates re-run with the full model: how far the linear plan is from it.

``rerun_exact(case, plan, k)`` runs ``perfusion run`` (``pipeline.run_case``) for the ``k``
best rows with ``catheter.vessel`` set to the row's vessel, the IV comparator off, for the
plan's reference horizon (``secant``: long enough for the drug left to be in the linear
regime; the case's duration for a linear drug), and reads
each run's ``exposure_total``: ``window_and_tail_target_auc``, the target's AUC over all time
of the full (saturable, time-stepped) model, its own window continued by the linear tail
from its final state. The row gets ``exact_tumor_auc`` and ``linear_error = tumor_auc ÷
exact_tumor_auc − 1``: the saturation the linear plan leaves out (and the run's time-step
error, about 1e-4 at 1 min steps for a linear drug). The runs are written into a temporary
directory and only their metrics are kept.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: The metrics of the full model kept for each re-run row (``exact_<name>``).
EXACT = ("tumor_auc", "normal_auc", "tumor_to_normal_auc", "tumor_coverage",
         "normal_volume_above_ml", "tumor_blood_share")


def vessel_case(case, vessel: int, compare_iv: bool = False, duration: float | None = None):
    """``case`` with its catheter in ``vessel`` (a segment of its catheter supply's tree),
    run for ``duration`` [s] (default the case's) with one output at its end."""
    catheter = case.catheter.model_copy(update={"vessel": int(vessel), "position": None,
                                                "feeds": None})
    update = {"compare_iv": compare_iv}
    if duration is not None and duration != case.simulation.duration:
        update.update(duration=duration, output_every=duration)
    simulation = case.simulation.model_copy(update=update)
    return case.model_copy(update={"catheter": catheter, "simulation": simulation})


def rerun_exact(case, plan, count: int, backend: str | None = None) -> list[dict]:
    """Re-run the ``count`` best rows of ``plan`` (module docstring); return their metrics."""
    from ..pipeline import run_case

    runs = []
    with tempfile.TemporaryDirectory(prefix="perfusion-plan-") as scratch:
        for row in plan.rows[:count]:
            log.info("exact run: catheter in vessel %d (rank %d)", row["vessel"], row["rank"])
            horizon = plan.info.get("reference_horizon_s")
            result = run_case(vessel_case(case, row["vessel"], duration=horizon),
                              Path(scratch) / f"vessel_{row['vessel']}", backend=backend)
            total = result.metrics.get("exposure_total", {})
            exact = total.get("window_and_tail")
            if exact:
                for key in EXACT:
                    row[f"exact_{key}"] = exact[key]
                normal = plan.info["normal_volume_ml"]
                fraction = exact["normal_volume_above_ml"] / normal if normal > 0 else 0.0
                row["exact_score"] = exact["tumor_coverage"] - fraction
                row["linear_error"] = row["tumor_auc"] / exact["tumor_auc"] - 1
            runs.append({"vessel": row["vessel"], "exposure_total": total,
                         "seconds": result.metrics.get("timings", {})})
    plan.info["exact_runs"] = runs
    exact = [r for r in plan.rows if "exact_score" in r]
    for n, row in enumerate(sorted(exact, key=lambda r: (-r["exact_score"],
                                                         -r["exact_tumor_to_normal_auc"]))):
        row["exact_rank"] = n + 1
    return runs
