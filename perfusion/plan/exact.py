"""The best candidates re-run with the full model: how far the linear plan is from it.

``rerun_exact(case, plan, k)`` runs ``perfusion run`` (``pipeline.run_case``) for the ``k``
best rows with ``catheter.vessel`` set to the row's vessel, the IV comparator off, and reads
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


def vessel_case(case, vessel: int, compare_iv: bool = False):
    """``case`` with its catheter in ``vessel`` (a segment of its catheter supply's tree)."""
    catheter = case.catheter.model_copy(update={"vessel": int(vessel), "position": None,
                                                "feeds": None})
    simulation = case.simulation.model_copy(update={"compare_iv": compare_iv})
    return case.model_copy(update={"catheter": catheter, "simulation": simulation})


def rerun_exact(case, plan, count: int, backend: str | None = None) -> list[dict]:
    """Re-run the ``count`` best rows of ``plan`` (module docstring); return their metrics."""
    from ..pipeline import run_case

    runs = []
    with tempfile.TemporaryDirectory(prefix="perfusion-plan-") as scratch:
        for row in plan.rows[:count]:
            log.info("exact run: catheter in vessel %d (rank %d)", row["vessel"], row["rank"])
            result = run_case(vessel_case(case, row["vessel"]),
                              Path(scratch) / f"vessel_{row['vessel']}", backend=backend)
            total = result.metrics.get("exposure_total", {})
            exact = total.get("window_and_tail_target_auc")
            if exact:
                row["exact_tumor_auc"] = exact
                row["linear_error"] = row["tumor_auc"] / exact - 1
            runs.append({"vessel": row["vessel"], "exposure_total": total,
                         "seconds": result.metrics.get("timings", {})})
    plan.info["exact_runs"] = runs
    return runs
