"""Metrics of every candidate, the score that ranks them, and split-dose pairs.

Each candidate's exposure over all time follows from its :class:`~.responses.Delivery` and
the doses (``perfusion.transport.total_exposure``) and is summarised by the same function a
run's ``exposure_total`` uses (``perfusion.results.total_exposure.exposure_summary``).

Score (higher is better): ``score = tumor_coverage − normal_fraction_above``, the fraction
of the tumour with AUC ≥ the threshold minus the fraction of the normal tissue with AUC ≥ the
threshold: the catheter position that covers the tumour and spares the organ. Ties (e.g.
full coverage everywhere) go to the higher ``tumor_to_normal_auc``. Without a tumour the
target is all tissue and the score is its coverage.

Pairs: the ``PAIR_POOL`` best single positions whose subtrees are disjoint, two at a time,
each with the dose split ``f ∈ SPLITS`` (and the rest through the other), ranked by the same
score; for tumours fed from two branches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results.total_exposure import exposure_summary

PAIR_POOL = 12
SPLITS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Judge:
    """Everything that turns a delivery into a row: the exposure system, the doses, the
    regions and the IV comparator."""

    system: object
    catheter_dose: float
    iv_dose: float
    target: np.ndarray
    normal: np.ndarray
    threshold: float
    intravenous: tuple | None
    normal_volume_ml: float

    def totals(self, delivery):
        return self.system.totals(self.catheter_dose, self.iv_dose, delivery.plasma_per_rate,
                                  catheter_free=delivery.free_per_dose)

    def row(self, delivery) -> tuple[dict, np.ndarray]:
        """(metrics with the score, the AUC of C_t on the tissue voxels)."""
        totals = self.totals(delivery)
        summary = exposure_summary(totals.tissue, totals.systemic, self.target, self.normal,
                                   self.threshold, self.system.voxel_volume, delivery.blood,
                                   self.intravenous)
        fraction = (summary["normal_volume_above_ml"] / self.normal_volume_ml
                    if self.normal_volume_ml > 0 else 0.0)
        summary["normal_fraction_above"] = fraction
        summary["score"] = summary["tumor_coverage"] - (fraction if self.target is not
                                                        self.normal else 0.0)
        return summary, totals.tissue


def order(rows: list[dict]) -> np.ndarray:
    """Row indices best first: by score, then tumour-to-normal AUC."""
    key = [(-_finite(r["score"]), -_finite(r.get("tumor_to_normal_auc", 0.0))) for r in rows]
    return np.asarray(sorted(range(len(rows)), key=lambda i: key[i]), dtype=np.int64)


def _finite(value: float) -> float:
    return value if np.isfinite(value) else -np.inf


def rank_pairs(tree, vessels: np.ndarray, rows: list[dict], deliveries, judge: Judge) -> list[dict]:
    """Split-dose pairs of the best disjoint single positions (module docstring)."""
    best = [int(i) for i in order(rows)[:PAIR_POOL]]
    below = {i: set(tree.subtree(int(vessels[i])).tolist()) for i in best}
    pairs = []
    for n, i in enumerate(best):
        for j in best[n + 1:]:
            if below[i] & below[j]:
                continue
            for fraction in SPLITS:
                summary, _ = judge.row(deliveries(i).mixed(deliveries(j), fraction))
                pairs.append({"vessel_a": int(vessels[i]), "vessel_b": int(vessels[j]),
                              "dose_fraction_a": fraction, **summary})
    ranked = order(pairs) if pairs else []
    return [pairs[k] for k in ranked]
