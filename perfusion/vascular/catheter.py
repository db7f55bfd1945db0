"""The catheter on an arterial tree (issue 6, docs/model.md §3.4).

The catheter sits in one segment ``s_c``: given by id (``vessel``), as the segment whose
axis is nearest to a tip ``position``, or by what it ``feeds``: with ``τ_t`` the share of
terminal ``t``'s kernel on voxels of that class and ``Q_t`` its flow, the class's arterial
inflow through segment ``s`` is ``F_s = Σ_{t below s} Q_t τ_t``; the catheter goes to the
segment with the smallest flow among those with ``F_s ≥ f F_root`` (``f`` the
``feed_fraction``: the most distal vessel still carrying that share). The terminals below
``s_c`` become the catheterised inlets. Reported: each class's share of its arterial inflow
through the catheter, ``F_{s_c} / F_root`` (``class_inflow_share``), and the share of the
catheter's blood that perfuses each class, ``F_{s_c} / Q_{s_c}`` (``blood_share``; the
classes' shares add up to 1 by Kirchhoff's law).

Drug split. At each bifurcation below the catheter the drug divides among the children
``c`` in proportion to ``Q_c^σ`` (``σ`` the ``streaming_exponent``): its share of the
infusion is ``d_c = d_p Q_c^σ / Σ_k Q_k^σ``, ``d_{s_c} = 1``. With ``σ = 1`` (well mixed,
the default) ``d_s = Q_s / Q_{s_c}`` and every catheterised terminal carries the
concentration ``I / Q_{s_c}``; ``σ > 1`` models streaming at low infusion rates (the drug
follows the dominant branches). Terminal ``t`` then carries ``I d_t / Q_t``: its source in
the territory solve is weighted by ``a_t = d_t Q_{s_c} / Q_t`` (``Σ Q_t a_t = Q_{s_c}``, so
the drug flux and the territory's flow-weighted mean are unchanged).

Point inlets (``inlets = [...]``) split the same way, in one level: catheterised inlet ``t``
of flow ``Q_t`` gets ``d_t = Q_t^σ / Σ_k Q_k^σ`` of the drug and the source weight
``a_t = d_t Q_cath / Q_t`` with ``Q_cath = Σ_k Q_k`` (:func:`point_inlet_split`); with
``σ = 1`` every weight is 1 and nothing changes (the weights are then left out).

Transit. Plug flow from the catheter tip to the end of segment ``s`` takes
``τ_s = Σ_{path} π r² L / Q`` — well under a second in arteries of a few mm, far below
the drug step (≥ seconds) and the infusion times (minutes): it is reported
(``transit_s``), not applied.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..case.checks import KeyedCaseError
from ..library.units import M3_S_TO_ML_MIN
from .flow.feed import terminal_name


@dataclass(frozen=True)
class CatheterPlacement:
    """Where the catheter sits and which inlets it feeds."""

    supply: str
    inlets: tuple[str, ...]
    segment: int | None = None        # tree supplies
    flow: float = 0.0                 # blood flow through the catheterised vessel [m³/s]
    class_share: dict | None = None   # per class: share of its arterial inflow via the catheter
    blood_share: dict | None = None   # per class: share of the catheter's blood perfusing it
    weights: dict | None = None       # a_t per catheterised inlet (None: all 1)
    drug_share: np.ndarray | None = field(default=None, repr=False)   # d_s per segment
    transit: np.ndarray | None = field(default=None, repr=False)      # τ_s per segment [s]
    streaming_exponent: float = 1.0

    @property
    def inlet_weights(self) -> dict[str, float]:
        """The territory source weight of every catheterised inlet."""
        return self.weights or {name: 1.0 for name in self.inlets}

    def summary(self) -> dict:
        if self.segment is None:
            streaming = {} if self.weights is None else {
                "streaming_exponent": self.streaming_exponent, "inlet_weights": dict(self.weights)}
            return {"supply": self.supply, "inlets": list(self.inlets), **streaming}
        reached = self.transit[np.isfinite(self.transit)]
        return {"supply": self.supply, "segment": self.segment, "terminals": len(self.inlets),
                "vessel_flow_ml_min": self.flow * M3_S_TO_ML_MIN, "class_inflow_share": self.class_share,
                "blood_share": self.blood_share,
                "streaming_exponent": self.streaming_exponent,
                "transit_s": {"max": float(reached.max()), "median": float(np.median(reached))}}

    def with_flows(self, tree, segment_flow) -> "CatheterPlacement":
        """The same catheter with the drug split and transit of new tree flows."""
        share, weights, transit = drug_split(tree, segment_flow, self.segment,
                                             self.streaming_exponent)
        return replace(self, flow=float(segment_flow[self.segment]), weights=weights,
                       drug_share=share, transit=transit)


def place_catheter(case, domain, supplies: dict) -> CatheterPlacement | None:
    """Resolve ``case.catheter`` on the solved supplies."""
    spec = case.catheter
    if spec is None:
        return None
    supply = supplies[spec.supply]
    if supply.feed is None:
        weights = None
        if spec.streaming_exponent != 1.0:
            flows = {inlet.name: inlet.flow for inlet in supply.inlets if inlet.name in spec.inlets}
            weights = point_inlet_split(flows, spec.streaming_exponent)
        return CatheterPlacement(spec.supply, tuple(spec.inlets), weights=weights,
                                 streaming_exponent=spec.streaming_exponent)
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
    catheter_flow = flow.segment_flow[segment]
    blood = {c: float(v[segment] / catheter_flow) if catheter_flow > 0 else 0.0
             for c, v in class_inflow.items()}
    placement = CatheterPlacement(spec.supply, tuple(supply.feed.terminal_inlets(segment)),
                                  segment, class_share=share, blood_share=blood,
                                  streaming_exponent=spec.streaming_exponent)
    return placement.with_flows(tree, flow.segment_flow)


def point_inlet_split(flows: dict[str, float], exponent: float) -> dict[str, float]:
    """``{inlet: a_t}`` of catheterised point inlets of flows ``Q_t``: the drug divides as
    ``d_t = Q_t^σ / Σ Q_k^σ``, and ``a_t = d_t Σ Q_k / Q_t`` (so ``Σ Q_t a_t = Σ Q_k``)."""
    flow = {name: max(q, 0.0) for name, q in flows.items()}
    powered = {name: q ** exponent for name, q in flow.items()}
    total, catheter_flow = sum(powered.values()), sum(flow.values())
    if total <= 0:
        return {name: 1.0 for name in flow}
    return {name: powered[name] / total * catheter_flow / max(flow[name], 1e-300)
            for name in flow}


def drug_split(tree, segment_flow, segment: int, exponent: float):
    """(drug share ``d_s`` per segment (0 outside the subtree), ``{inlet: a_t}``, transit
    time ``τ_s`` per segment (∞ outside)) below the catheter in ``segment``."""
    flow = np.maximum(segment_flow, 0.0)
    share = np.zeros(len(tree.segments))
    transit = np.full(len(tree.segments), np.inf)
    share[segment] = 1.0
    volume = np.pi * tree.radii ** 2 * tree.lengths
    transit[segment] = volume[segment] / max(flow[segment], 1e-300)
    for s in tree.subtree(segment):                  # topological: parents first
        children = tree.children(s)
        if children.size:
            weight = flow[children] ** exponent
            total = weight.sum()
            share[children] = share[s] * (weight / total if total > 0 else 1 / children.size)
            transit[children] = transit[s] + volume[children] / np.maximum(flow[children], 1e-300)
    terminals = tree.terminal_segments
    below = share[terminals] > 0
    weights = {terminal_name(node): float(share[t] * flow[segment] / max(flow[t], 1e-300))
               for node, t in zip(tree.terminals[below], terminals[below])}
    return share, weights, transit


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
    return float(through[tree.root_segments].sum())
