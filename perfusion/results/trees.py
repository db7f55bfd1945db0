"""Tree outputs: ``fields/tree_<supply>.vtp`` and the ``trees``/``catheter`` metrics.

Per segment: ``segment_id``, ``flow`` [m³/s], ``catheter`` (1 in the catheterised
subtree), ``transit`` [s] (plug-flow time from the catheter tip, −1 outside), and after a
drug run ``drug_plasma_peak`` [kg/m³]: the peak plasma drug concentration in the segment,
``c_sys(t)`` outside the catheterised subtree and ``c_sys(t) + I(t) d_s / ((1 − Hct) Q_s)``
inside it (``d_s`` the segment's share of the infusion, ``perfusion.vascular.catheter``).
Per node: ``pressure`` [Pa].
Conservation per tree: root inflow, ``Σ_t Q_t`` and ``∫ F_s dV`` side by side.
"""
from __future__ import annotations

import numpy as np

from ..library.units import M3_S_TO_ML_MIN, MMHG
from ..vascular.tree import TreeError


def tree_metrics(steady, domain) -> dict:
    """``metrics.json`` entries of the tree supplies (empty without trees)."""
    trees = {}
    for name, supply in steady.supplies.items():
        if supply.feed is None:
            continue
        flow, tree = supply.tree_flow, supply.feed.tree
        delivered = float(domain.backend.sum(supply.perfusion)) * domain.voxel_volume
        terminals = float(flow.terminal_flow.sum())
        trees[name] = {
            **tree.summary(),
            "murray_exponent_fit": _murray(tree),
            "root_inflow_ml_min": flow.inflow * M3_S_TO_ML_MIN,
            "terminal_outflow_ml_min": terminals * M3_S_TO_ML_MIN,
            "tissue_perfusion_ml_min": delivered * M3_S_TO_ML_MIN,
            "conservation_relative_error": max(abs(terminals - flow.inflow),
                                               abs(delivered - flow.inflow)) / flow.inflow,
            "root_pressure_mmhg": (float(flow.node_pressure[tree.roots[0]])
                                   + steady.venous_pressure) / MMHG,
            "solve": flow.report.summary(),
        }
    metrics = {"trees": trees} if trees else {}
    if steady.catheter is not None and steady.catheter.segment is not None:
        metrics["catheter"] = steady.catheter.summary()
    return metrics


def tree_files(steady, drug=None) -> dict:
    """``{file name: (tree, point_data, cell_data)}`` for ``fields/``."""
    files = {}
    for name, supply in steady.supplies.items():
        if supply.feed is None:
            continue
        tree, flow = supply.feed.tree, supply.tree_flow
        cells = {"segment_id": np.arange(len(tree.segments), dtype=np.int64),
                 "flow": flow.segment_flow}
        placement = steady.catheter
        if placement is not None and placement.supply == name and placement.segment is not None:
            cells["catheter"] = (placement.drug_share > 0).astype(np.uint8)
            cells["transit"] = np.where(np.isfinite(placement.transit), placement.transit, -1.0)
            if drug is not None:
                cells["drug_plasma_peak"] = _peak_plasma(drug, placement, flow.segment_flow,
                                                         steady.hematocrit)
        points = {"pressure": flow.node_pressure + steady.venous_pressure}
        files[f"tree_{name}.vtp"] = (tree, points, cells)
    return files


def _peak_plasma(drug, placement, segment_flow, hematocrit) -> np.ndarray:
    rows = drug.arterial.series.rows
    time = np.array([0.0] + [r["time_s"] for r in rows])
    infused = np.array([0.0] + [r["infused_ia_kg"] for r in rows])
    systemic = np.array([r["c_sys"] for r in rows])
    rate = np.diff(infused) / np.maximum(np.diff(time), 1e-300)
    share = placement.drug_share
    plasma = (1 - hematocrit) * np.maximum(segment_flow, 1e-300)
    peak = (systemic[:, None] + rate[:, None] * share[None, :] / plasma[None, :]).max(axis=0)
    return np.where(share > 0, peak, systemic.max())


def _murray(tree) -> float | None:
    from ..vascular.sources.generate import fitted_murray_exponent

    try:
        return float(fitted_murray_exponent(tree))
    except (TreeError, FloatingPointError):
        return None
