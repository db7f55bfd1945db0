"""Tumour feeders: dedicated arteries that branch off a generated tree and end in a tumour.

Hypervascular tumours (hepatocellular carcinoma) are fed by one or a few arteries of their
own, grown by tumour angiogenesis, which superselective catheters enter (Miyayama et al.,
Cardiovasc. Intervent. Radiol., "Origins of feeding arteries of HCC located near the
umbilical fissure": 18 of 21 segment-3 HCCs of 1–4.4 cm fed by one branch, 3 by two;
cone-beam CT counts 1.7 feeders per lesion, Egypt. J. Radiol. Nucl. Med. 2019,
doi:10.1186/s43055-019-0053-4). A tree grown by demand alone spreads its terminals over tumour and
liver alike and gives the tumour no such vessel; here (docs/model.md §3):

1. The tumours are the connected components ``T_i`` of the feeder class's voxels
   (``scipy.ndimage.label``, face connectivity); components of fewer than ``_MIN_VOXELS``
   voxels are left to the main tree (logged).
2. The main tree is grown by CCO (:func:`perfusion.vascular.sources.generate.grow_tree`) on
   the demand without the tumours, ``d_main = d · 1[x ∉ ∪ T_i]``: ``N`` terminals, each of
   flow weight 1, i.e. demand ``q_main = D_main / N`` with ``D = Σ_v d_v h³``.
3. Each tumour gets ``c`` feeders (``count``), each ending in ``T`` terminals
   (``terminals``; default ``T = max(1, round(N D_i / (c D_main)))``, the main tree's
   demand per terminal). A feeder terminal's weight is its share of the tumour's demand in
   main-terminal units, ``w_i = D_i / (c T q_main)``, so terminal flows follow the demand:
   ``Q_t = Q w_t / Σ_k w_k`` (``Q`` the root inflow, unchanged).
4. A feeder starts as one CCO connection: a demand-weighted point in ``T_i`` joined to the
   cheapest of the nearest *main-tree* segments through an optimised bifurcation, every new
   segment inside the tissue mask (the checks of
   :mod:`perfusion.vascular.sources.placement`). Its other ``T − 1`` terminals are added
   by the same CCO step with ``d_thresh`` computed on the tumour's demand and joins allowed
   only to that feeder's own segments, so every terminal below a feeder lies in ``T_i``
   and no main-tree terminal does.

All of it is one :class:`~perfusion.vascular.sources.cco.GrowingTree`: Murray's law
``r_p^γ = Σ r_c^γ`` holds at every bifurcation, the feeder junctions included (the main
vessels above a junction widen with the flow it adds), and the radii follow from the root
and terminal pressures as for any generated tree. Same inputs and seed, same tree.
"""
from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from ..tree import TreeError, VascularTree
from .generate import add_terminal, grow_tree
from .placement import TissueCheck
from ...library.units import M3_S_TO_ML_MIN, format_mm

logger = logging.getLogger(__name__)

_MIN_VOXELS = 8           # smaller class components get no feeder (left to the main tree)


class FeederError(TreeError):
    """A tumour feeder that cannot be built (the message says which tumour and the fix)."""


def tumour_components(class_mask, demand) -> list[np.ndarray]:
    """Flat voxel indices of each connected component of ``class_mask`` with ≥
    ``_MIN_VOXELS`` voxels and positive ``demand`` (in label order)."""
    labels, count = ndimage.label(np.asarray(class_mask, dtype=bool))
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(1, count + 2))
    components = []
    for label in range(count):
        voxels = order[bounds[label]:bounds[label + 1]]
        if voxels.size < _MIN_VOXELS or not (demand.ravel()[voxels] > 0).any():
            logger.info("feeders: class component %d (%d voxels) gets no feeder (fewer "
                        "than %d voxels or no demand); the main tree supplies it",
                        label + 1, voxels.size, _MIN_VOXELS)
            continue
        components.append(voxels)
    return components


def generate_fed_tree(mask, demand, class_mask, spacing, *, root, flow, root_pressure,
                      terminal_pressure, terminals, count=1, feeder_terminals=None, seed=0,
                      murray_exponent=3.0, viscosity=3.6e-3, class_name="tumor",
                      name="tree") -> VascularTree:
    """A CCO tree of ``terminals`` terminals on the demand outside the tumours of
    ``class_mask`` plus ``count`` feeders per tumour, each with ``feeder_terminals``
    terminals inside it (default: the main tree's demand per terminal). Other parameters
    as :func:`perfusion.vascular.sources.generate.generate_tree`; ``flow`` is the whole
    tree's root inflow."""
    mask = np.asarray(mask, dtype=bool)
    demand = np.where(mask, np.asarray(demand, dtype=np.float64), 0.0)
    h = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (3,))
    class_mask = np.asarray(class_mask, dtype=bool) & mask
    if not (class_mask & (demand > 0)).any():
        raise FeederError(f"class {class_name!r} has no tissue voxel with arterial demand "
                          f"from this supply ({int(class_mask.sum())} voxels of the class in "
                          "its tissue); name a class present in the case that this supply "
                          "perfuses (its supply_fractions), or drop feeders")
    components = tumour_components(class_mask, demand)
    fed = np.zeros(mask.size, dtype=bool)
    for voxels in components:
        fed[voxels] = True
    main_demand = np.where(fed.reshape(mask.shape), 0.0, demand)
    totals = [float(demand.ravel()[voxels].sum() * h.prod()) for voxels in components]
    main_total = float(main_demand.sum() * h.prod())
    if main_total <= 0:
        raise FeederError(f"all arterial demand of this supply lies in class {class_name!r}; "
                          "the main tree needs tissue outside the tumours")
    per_feeder = [int(feeder_terminals) if feeder_terminals else
                  max(1, round(terminals * total / (count * main_total))) for total in totals]
    growth = grow_tree(mask, main_demand, h, root=root, flow=flow, root_pressure=root_pressure,
                       terminal_pressure=terminal_pressure, terminals=terminals, seed=seed,
                       murray_exponent=murray_exponent, viscosity=viscosity,
                       spare=count * sum(per_feeder))
    tree = growth.tree
    group = np.full(len(tree.parent), -1, dtype=np.int64)     # feeder id per segment, -1 main
    origins = []
    for i, (voxels, total, t_count) in enumerate(zip(components, totals, per_feeder)):
        centre = (np.stack(np.unravel_index(voxels, mask.shape), 1).mean(0) + 0.5) * h
        where = f"{class_name} component {i + 1} ({voxels.size} voxels, centre " \
                f"{format_mm(centre)})"
        own = np.zeros(mask.size)
        own[voxels] = demand.ravel()[voxels]
        supplied = int((own > 0).sum())
        if t_count > supplied:
            raise FeederError(f"{where}: {t_count} terminals per feeder but only {supplied} "
                              "voxels with demand; ask for fewer terminals or a finer grid")
        tissue = TissueCheck(mask, own.reshape(mask.shape), h, growth.tissue.root)
        weight = total / (count * t_count) / (main_total / terminals)
        for f in range(count):
            origins.append(_grow_feeder(growth, tissue, group, i * count + f, t_count,
                                        weight, where))
    pressure_drop = root_pressure - terminal_pressure
    radii = tree.radii(flow, pressure_drop)
    for feeder, segment in enumerate(origins):
        logger.info("%s feeder %d: radius %.3g mm at its origin, %.3g mL/min", name, feeder + 1,
                    radii[segment] * 1e3, flow * tree.n[segment] / tree.n[0] * M3_S_TO_ML_MIN)
    return growth.finish(flow, pressure_drop, name)


def _grow_feeder(growth, tissue: TissueCheck, group: np.ndarray, feeder: int, t_count: int,
                 weight: float, where: str) -> int:
    """One feeder: joined to the main tree, then grown to ``t_count`` terminals in the
    tumour (joins restricted to its own segments); ``group`` marks its new segments.
    Returns the id of its first segment (splits keep the upper part's id: its origin)."""
    tree = growth.tree
    for k in range(t_count):
        allowed = group < 0 if k == 0 else group == feeder
        try:
            add_terminal(tree, tissue, growth.rng, k, growth.min_length, allowed, weight)
        except TreeError as exc:
            step = "no feeder path from the tree into it stays inside the tissue mask" if k == 0 \
                else f"feeder terminal {k + 1} could not be placed"
            raise FeederError(f"{where}: {step} ({str(exc).removeprefix('generate_tree: ')}); "
                              "check that the tumour touches perfused tissue reachable from "
                              "the root, or use fewer feeder terminals") from None
        group[tree.count - 1] = feeder           # the new terminal segment
        if k > 0:
            group[tree.count - 2] = feeder       # the lower part of the split feeder segment
    return int(np.flatnonzero(group == feeder)[0])
