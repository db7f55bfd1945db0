"""The catheter on an arterial tree (issue 6, DESIGN §2.6).

The catheter sits in one segment ``s_c``: given by id (``vessel``), as the segment whose
axis is nearest to a tip ``position``, or by what it ``feeds``: with ``τ_t`` the share of
terminal ``t``'s kernel on voxels of that class and ``Q_t`` its flow, the class's arterial
inflow through segment ``s`` is ``F_s = Σ_{t below s} Q_t τ_t``; the catheter goes to the
segment with the smallest flow among those with ``F_s ≥ f F_root`` (``f`` the
``feed_fraction``: the most distal vessel still carrying that share). The terminals below
``s_c`` become the catheterised inlets: the infused drug divides at every bifurcation in
proportion to the flow, so every catheterised terminal carries the concentration
``I / Q_{s_c}`` and the steady territory of ``perfusion.territory`` holds unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..case.checks import KeyedCaseError


@dataclass(frozen=True)
class CatheterPlacement:
    """Where the catheter sits and which inlets it feeds."""

    supply: str
    inlets: tuple[str, ...]
    segment: int | None = None        # tree supplies
    flow: float = 0.0                 # blood flow through the catheterised vessel [m³/s]
    class_share: dict | None = None   # per class: share of its arterial inflow via the catheter

    def summary(self) -> dict:
        return {"supply": self.supply, "segment": self.segment, "terminals": len(self.inlets)
                if self.segment is not None else None,
                "vessel_flow_ml_min": self.flow * 6e7 if self.segment is not None else None,
                "class_inflow_share": self.class_share}


def place_catheter(case, domain, supplies: dict) -> CatheterPlacement | None:
    """Resolve ``case.catheter`` on the solved supplies."""
    spec = case.catheter
    if spec is None:
        return None
    supply = supplies[spec.supply]
    if supply.feed is None:
        return CatheterPlacement(spec.supply, tuple(spec.inlets))
    tree, flow = supply.feed.tree, supply.tree_flow
    class_inflow = {c: _class_inflow(supply, domain, c) for c in domain.present_classes}
    if spec.vessel is not None:
        if spec.vessel >= len(tree.segments):
            raise KeyedCaseError("catheter.vessel", f"segment {spec.vessel} does not exist: the "
                                 f"tree of supply {spec.supply!r} has segments 0…"
                                 f"{len(tree.segments) - 1} (see fields/tree_{spec.supply}.vtp, "
                                 "cell array segment_id)")
        segment = spec.vessel
    elif spec.position is not None:
        segment, _ = tree.nearest_segment(spec.position)
    else:
        through = class_inflow[spec.feeds]
        total = _root_total(tree, through)
        if total <= 0:
            raise KeyedCaseError("catheter.feeds", f"no terminal of the tree of {spec.supply!r} "
                                 f"feeds class {spec.feeds!r}; place the catheter by vessel or "
                                 "position instead")
        candidates = np.flatnonzero(through >= spec.feed_fraction * total * (1 - 1e-12))
        segment = int(candidates[np.argmin(flow.segment_flow[candidates])])
    share = {c: float(v[segment] / _root_total(tree, v)) if _root_total(tree, v) > 0 else 0.0
             for c, v in class_inflow.items()}
    return CatheterPlacement(spec.supply, tuple(supply.feed.terminal_inlets(segment)), segment,
                             float(flow.segment_flow[segment]), share)


def _class_inflow(supply, domain, class_name: str) -> np.ndarray:
    """Per segment, the arterial inflow to ``class_name`` through it (kernel-deposited)."""
    feed, flow = supply.feed, supply.tree_flow
    tree = feed.tree
    mask = (domain.labels == domain.class_names.index(class_name)).ravel()
    through = np.zeros(len(tree.segments))
    through[tree.terminal_segments] = flow.terminal_flow * feed.kernels.share(mask)
    for s in range(len(tree.segments) - 1, -1, -1):     # reverse topological order
        above = tree.parent[tree.segments[s, 0]]
        if above >= 0:
            through[above] += through[s]
    return through


def _root_total(tree, through: np.ndarray) -> float:
    return float(through[np.isin(tree.segments[:, 0], tree.roots)].sum())
