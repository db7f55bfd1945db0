"""A supply fed by an arterial tree: build the tree from the case, solve it with the tissue.

``tree_feed(case, domain, index, vascular, targets, venous)`` turns ``[supplies.tree]``
into a :class:`TreeFeed`: the tree (generated with the supply's perfusion targets as the
demand, loaded from centre-lines, or extracted from a vessel mask), its Poiseuille
conductances, the terminals' source kernels and the root condition (inflow, or root
pressure relative to ``p_ven``). ``TreeFeed.solve`` is the coupled solve of
``perfusion.vascular.flow.coupling``; ``TreeFeed.inlets`` turns its terminal flows into the
supply's inlets, named ``terminal <node>``, so territories, transport and metrics see a
tree supply as one with many inlets.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import GeometryError
from ...steady.inlets import Inlet
from ...library.tissues import BLOOD_DEFAULTS, SUPPLY_DEFAULTS
from .coupling import CoupledFlow, CoupledSystem, solve_coupled
from .network import BLOOD_VISCOSITY, conductances
from .terminals import TerminalKernels, terminal_kernels
from ..tree import TreeError, VascularTree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TreeFeed:
    """A tree feeding one supply, ready to be solved with the supply's operator."""

    supply: str
    tree: VascularTree
    conductance: np.ndarray           # g_s [m³/(Pa·s)]
    kernels: TerminalKernels
    root_flow: float | None
    root_pressure: float | None       # relative to p_ven

    def solve(self, stencil, domain, *, name, tolerance, solver, x0=None,
              segment_scale=None) -> CoupledFlow:
        """The coupled solve on ``stencil``; ``segment_scale`` multiplies the conductances."""
        g = self.conductance if segment_scale is None else self.conductance * segment_scale
        system = CoupledSystem(stencil, self.tree, g, self.kernels, domain.backend,
                               domain.voxel_volume, root_flow=self.root_flow,
                               root_pressure=self.root_pressure)
        return solve_coupled(system, name=f"{name} (tree)", tolerance=tolerance,
                             max_iterations=solver.max_iterations, x0=x0, cycle=solver.cycle,
                             smoothing_steps=solver.smoothing_steps)

    def inlets(self, flow: CoupledFlow) -> list[Inlet]:
        """One inlet per terminal with the solved terminal flow."""
        order = np.argsort(self.kernels.terminal, kind="stable")
        bounds = np.searchsorted(self.kernels.terminal[order], np.arange(self.kernels.count + 1))
        return [Inlet(self.supply, terminal_name(node), tuple(self.tree.points[node]),
                      float(flow.terminal_flow[t]),
                      self.kernels.index[order[bounds[t]:bounds[t + 1]]],
                      self.kernels.weight[order[bounds[t]:bounds[t + 1]]])
                for t, node in enumerate(self.tree.terminals)]

    def terminal_inlets(self, segment: int) -> list[str]:
        """Names of the inlets (terminals) downstream of ``segment``."""
        below = set(self.tree.subtree(segment).tolist())
        return [terminal_name(node) for node, s in zip(self.tree.terminals,
                                                       self.tree.terminal_segments) if s in below]


def terminal_name(node: int) -> str:
    return f"terminal {int(node)}"


def tree_feed(case, domain, index: int, vascular: np.ndarray, targets: dict,
              venous_pressure: float) -> TreeFeed:
    """The :class:`TreeFeed` of supply ``index`` (its ``tree`` table) on ``domain``."""
    supply = case.supplies[index]
    spec, key = supply.tree, f"supplies.{index}.tree"
    tree = _build_tree(domain, supply, spec, key, vascular, targets, venous_pressure)
    radius = spec.kernel_radius or SUPPLY_DEFAULTS["inlet_radius"].value
    if spec.outside == "prune":
        tree = _prune_outside(tree, radius, vascular, domain.spacing, key)
    kernels = terminal_kernels(tree.points[tree.terminals], radius, vascular, domain.spacing,
                               key=key)
    hematocrit = case.blood.hematocrit
    hematocrit = BLOOD_DEFAULTS["hematocrit"].value if hematocrit is None else hematocrit
    by_flow = spec.boundary == "inflow" or (spec.boundary is None and spec.inflow is not None)
    viscosity = "pries" if spec.pries_viscosity else (spec.viscosity or BLOOD_VISCOSITY)
    return TreeFeed(supply=supply.name, tree=tree,
                    conductance=conductances(tree, viscosity, hematocrit), kernels=kernels,
                    root_flow=spec.inflow if by_flow else None,
                    root_pressure=None if by_flow else spec.pressure - venous_pressure)


def _build_tree(domain, supply, spec, key, vascular, targets, venous) -> VascularTree:
    name = supply.name
    if spec.source == "generated":
        from ..sources.generate import generate_tree

        demand = domain.backend.to_host(domain.class_field(targets)) * vascular
        drop = supply.pressure_drop or SUPPLY_DEFAULTS["pressure_drop"].value
        terminal = spec.terminal_pressure if spec.terminal_pressure is not None else venous + drop
        log.info("growing a %d-terminal tree for supply %s", spec.terminals, name)
        options = dict(root=spec.root, flow=spec.inflow, root_pressure=spec.pressure,
                       terminal_pressure=terminal, terminals=spec.terminals, seed=spec.seed,
                       murray_exponent=spec.murray_exponent, name=name)
        if spec.feeders is not None:
            return _fed_tree(domain, spec.feeders, key, vascular, demand, options)
        try:
            return generate_tree(vascular, demand, domain.spacing, **options)
        except TreeError as exc:
            raise _keyed(key, exc) from None
    path = _existing_path(spec.path, key)
    try:
        if spec.source == "centerlines":
            from ..sources.centerlines import load_centerlines

            tree = load_centerlines(path, radius_array=spec.radius_array, root=spec.root,
                                    unit=spec.unit, origin=spec.origin, name=name)
        else:
            from ..sources.vessel_mask import load_vessel_mask

            tree = load_vessel_mask(path, label=spec.label, root=spec.root,
                                    min_branch_length=spec.min_branch_length,
                                    bridge_gaps=float(spec.bridge_gaps),
                                    keep="all" if spec.bridge_gaps else "largest", name=name)
    except GeometryError as exc:
        raise TreeError(f"{key}.path: {exc}") from None
    if spec.roots:
        tree = tree.rooted_at(spec.roots)
    if spec.outside == "error":
        tree.check_inside(np.ones(vascular.shape, bool), domain.spacing, key=key, nodes="all")
    return tree


def _keyed(key: str, exc: TreeError) -> TreeError:
    """``exc`` of the generator, its message keyed to the case table ``key``."""
    return type(exc)(f"{key}: {str(exc).removeprefix('generate_tree: ')}")


def _fed_tree(domain, feeders, key, vascular, demand, options) -> VascularTree:
    """The generated tree of table ``key`` with ``feeders`` into each piece of their
    class; feeder errors keyed to ``key.feeders``."""
    from ..sources.feeders import FeederError, generate_fed_tree

    if feeders.feeds not in domain.present_classes:
        raise TreeError(f"{key}.feeders.feeds: class {feeders.feeds!r} is not in the domain "
                        f"(classes present: {', '.join(domain.present_classes)}); name one "
                        "of them")
    class_mask = domain.labels == domain.class_names.index(feeders.feeds)
    try:
        return generate_fed_tree(vascular, demand, class_mask, domain.spacing,
                                 count=feeders.count, feeder_terminals=feeders.terminals,
                                 class_name=feeders.feeds, **options)
    except TreeError as exc:
        raise _keyed(f"{key}.feeders" if isinstance(exc, FeederError) else key, exc) from None


def _existing_path(path: str, key: str) -> Path:
    """The tree file (the loader made case paths absolute; a dict case may give any path)."""
    full = Path(path).expanduser()
    if not full.exists():
        raise TreeError(f"{key}.path: {full} does not exist; give a path relative to the case "
                        "file or an absolute one")
    return full


def _prune_outside(tree: VascularTree, radius, vascular, spacing, key) -> VascularTree:
    """Drop terminal branches whose terminals have no perfused voxel within ``radius``,
    repeatedly (a parent left without children becomes a terminal and is checked too)."""
    from scipy import ndimage

    distance = ndimage.distance_transform_edt(~vascular, sampling=spacing)
    keep = np.ones(len(tree.segments), dtype=bool)
    while True:
        current = tree.subset(keep)
        cells = np.floor(current.points[current.terminals] / np.asarray(spacing)).astype(int)
        inside = ((cells >= 0) & (cells < np.asarray(vascular.shape))).all(axis=1)
        reach = np.zeros(len(cells), dtype=bool)
        reach[inside] = distance[tuple(cells[inside].T)] < radius
        if reach.all():
            break
        keep[np.flatnonzero(keep)[current.terminal_segments[~reach]]] = False
        if not keep.any():
            raise TreeError(f"{key}: no terminal of tree {tree.name!r} lies within the kernel "
                            "radius of the tissue this supply perfuses; check the tree's "
                            "position and units (positions in the grid frame)")
    if not keep.all():
        log.warning("%s: pruned %d of %d segments ending outside the perfused tissue", key,
                    int((~keep).sum()), keep.size)
    return tree.subset(keep)
