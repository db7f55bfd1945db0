"""Embolisation (docs/model.md §8.3): occlude the catheter's territory and re-solve the perfusion.

At the embolisation time the catheterised supply's conductivity ``K_s`` and capillary
conductance ``β_s`` are multiplied by ``factor`` in the voxels whose catheter share ``w``
exceeds ``territory_threshold``, and the catheterised inlets' flows (fixed-flow inlets) by
the same factor, so the flow into the embolised territory drops. On a tree supply the
occluded segments (the catheterised vessel's subtree, or the given ``segments`` with
theirs) have their Poiseuille conductance multiplied by ``factor`` instead and the flows
follow from the re-solved network. The supply and the territory are re-solved (β is not
re-calibrated); the other supplies and the interstitial fields are unchanged.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..case.checks import KeyedCaseError

from .supply import rescaled_supply
from .territory import solve_territory


def embolized_steady(case, domain, steady):
    """The steady state after the case's embolisation."""
    spec, catheter = case.embolization, steady.catheter
    xp = domain.backend.xp
    supply = steady.supplies[catheter.supply]
    region = steady.catheter_territory.fraction > spec.territory_threshold
    scale = xp.where(region, spec.factor, 1.0)
    flows = {i.name: i.flow * spec.factor for i in supply.inlets if i.name in catheter.inlets}
    segment_scale = None
    if supply.feed is not None:
        tree = supply.feed.tree
        roots = spec.segments or [catheter.segment]
        bad = [s for s in roots if s >= len(tree.segments)]
        if bad:
            raise KeyedCaseError("embolization.segments", f"segments {bad} do not exist: the tree "
                                 f"of {supply.name!r} has segments 0…{len(tree.segments) - 1}")
        segment_scale = np.ones(len(tree.segments))
        for s in roots:
            segment_scale[tree.subtree(s)] = spec.factor
    occluded = rescaled_supply(case, domain, supply, scale, flows, steady.venous_pressure,
                               segment_scale)
    supplies = {**steady.supplies, catheter.supply: occluded}
    total = sum(s.perfusion for s in supplies.values())
    if occluded.feed is not None:        # the drug now divides by the re-solved flows
        catheter = catheter.with_flows(occluded.feed.tree, occluded.tree_flow.segment_flow)
    territory = solve_territory(occluded, catheter.inlet_weights, domain.backend,
                                domain.voxel_volume)
    share = xp.where(total > 0, occluded.perfusion / xp.where(total > 0, total, 1), 0)
    return replace(steady, supplies=supplies, perfusion=total, catheter=catheter,
                   territory=share * territory.fraction, catheter_territory=territory)
