"""Steady blood supply and perfusion (docs/model.md §2).

For each supply ``s`` the arteriolar compartment pressure ``p_s`` solves

    −∇·(K_s ∇p_s) + β_s (p_s − p_ven) = q_s     on the supply's vascularised voxels,

with no flux across their boundary. Unknown ``φ = p_s − p_ven``; perfusion
``F_s = β_s φ`` [1/s]; conservation ``∫ F_s dV = Σ Q_inlets``.

Calibration. A class ``c`` with target perfusion ``F_c`` and supply fraction ``f_cs`` has
target ``T_cs = F_c f_cs``. Its ``β_cs = m_c T_cs / Δp_s`` (``Δp_s`` the supply's
``pressure_drop``), with class factors ``m_c`` found by fixed-point iteration
``m_c ← m_c γ T_c / A_c`` (``A_c`` the achieved class mean, ``γ = Σ V_c A_c / Σ V_c T_c``)
and renormalised to a target-flow-weighted mean of 1, until every ``A_c/(γ T_c)`` is within
``solver.calibration_tolerance`` of 1. The inlet flows fix ``γ``; targets fix the split.
A ``β`` given directly (``capillary_conductance``) is used as is.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..domain import Domain
from .inlets import Inlet, resolve_inlets, source_density
from ..library.tissues import SUPPLY_DEFAULTS
from ..solvers.cg import SolveReport, conjugate_gradient
from ..solvers.stencil import Stencil, masked_stencil

log = logging.getLogger(__name__)

MAX_CALIBRATION_STEPS = 40
#: Calibration steps only compare class means: a looser solve is enough until the last.
CALIBRATION_SOLVE_TOLERANCE = 1e-7
TARGET_MISMATCH_WARNING = 0.2


@dataclass(frozen=True)
class SupplyField:
    """The solved steady state of one supply."""

    name: str
    pressure: object          # p_s [Pa] (p_ven where the supply has no vessels)
    perfusion: object         # F_s [1/s]
    stencil: Stencil = field(repr=False)   # the operator (its faces carry the blood flux)
    source: object = field(repr=False)     # q_s [1/s]
    inlets: tuple[Inlet, ...] = ()
    feed: object = field(default=None, repr=False)   # TreeFeed of a tree supply
    tree_flow: object = field(default=None, repr=False)   # its CoupledFlow
    beta: dict[str, float] = field(default_factory=dict)
    conductivity: float = 0.0
    inflow: float = 0.0
    conservation_error: float = 0.0
    calibration: dict = field(default_factory=dict)
    reports: tuple[SolveReport, ...] = ()


def class_targets(case, domain: Domain, supply_name: str) -> tuple[dict, dict]:
    """Per-class (target perfusion for this supply, direct β) from the resolved tissue."""
    targets, direct = {}, {}
    several = len(case.supplies) > 1
    for c in domain.present_classes:
        spec = case.tissue.get(c)
        given = (spec.capillary_conductance or {}) if spec is not None else {}
        if supply_name in given:
            direct[c] = given[supply_name]
            continue
        fractions = spec.supply_fractions if spec is not None else None
        share = (fractions or {}).get(supply_name, 0.0) if several or fractions else 1.0
        targets[c] = domain.tissue[c]["perfusion"] * share
    return targets, direct


def supplied_voxels(domain: Domain, per_class: dict[str, float]) -> np.ndarray:
    """Host mask of the voxels a supply perfuses: the classes whose target or β is positive."""
    return np.isin(domain.labels, [domain.class_names.index(c) for c, b in per_class.items()
                                   if b > 0])


def solve_supply(case, domain: Domain, index: int, venous_pressure: float) -> SupplyField:
    """Solve (and calibrate) supply number ``index`` of the case."""
    spec = case.supplies[index]
    be, xp = domain.backend, domain.backend.xp
    targets, direct = class_targets(case, domain, spec.name)
    drop = spec.pressure_drop or SUPPLY_DEFAULTS["pressure_drop"].value
    beta = {**{c: t / drop for c, t in targets.items()}, **direct}
    vascular = supplied_voxels(domain, beta)
    if spec.tree is None:
        feed, inlets = None, resolve_inlets(index, spec, domain.spacing, vascular)
        source = be.asarray(source_density(inlets, domain.shape, domain.voxel_volume))
    else:
        from ..vascular.flow.feed import tree_feed

        feed, inlets, source = tree_feed(case, domain, index, vascular, targets,
                                         venous_pressure), [], None
    conductivity = spec.conductivity or SUPPLY_DEFAULTS["conductivity"].value
    mask = xp.asarray(vascular)
    k_field = xp.where(mask, be.asarray(conductivity), 0)
    calibrated = [c for c, t in targets.items() if t > 0]
    volumes = {c: int((domain.labels == domain.class_names.index(c)).sum()) for c in calibrated}
    solver = case.solver
    reports = []

    def solve(factors, tolerance, start):
        """(β, stencil, state to restart from, φ, perfusion) with class factors ``factors``."""
        beta_now = {**beta, **{c: factors[c] * targets[c] / drop for c in calibrated}}
        beta_field = domain.class_field(beta_now)
        stencil = masked_stencil(k_field, beta_field, mask, domain.spacing)
        state, phi, report = _solve(stencil, domain, solver, f"supply {spec.name}", tolerance,
                                    feed, source, start)
        reports.append(report)
        return beta_now, stencil, state, phi, xp.where(mask, beta_field * phi, 0)

    def mismatch(perfusion) -> dict:
        achieved = domain.class_means(perfusion)
        gamma = (sum(volumes[c] * achieved[c] for c in calibrated)
                 / sum(volumes[c] * targets[c] for c in calibrated))
        return {c: achieved[c] / (gamma * targets[c]) for c in calibrated}

    factors, state, steps = {c: 1.0 for c in calibrated}, None, 0
    loose = max(solver.tolerance, CALIBRATION_SOLVE_TOLERANCE)
    while len(calibrated) > 1 and steps < MAX_CALIBRATION_STEPS:
        *_, state, _, perfusion = solve(factors, loose, state)
        ratio = mismatch(perfusion)
        if max(abs(r - 1) for r in ratio.values()) <= solver.calibration_tolerance:
            break
        factors = _renormalised({c: factors[c] / max(ratio[c], 1e-12) for c in calibrated},
                                targets, volumes)
        steps += 1
    beta_now, stencil, state, phi, perfusion = solve(factors, solver.tolerance, state)
    off = max((abs(r - 1) for r in mismatch(perfusion).values()), default=0.0) \
        if len(calibrated) > 1 else 0.0
    if off > solver.calibration_tolerance:
        log.warning("supply %s: calibration stopped after %d steps with class means %.1f%% "
                    "off their targets' pattern", spec.name, steps, 100 * off)
    if feed is not None:
        inlets, source = _tree_inlets(feed, state, domain)
    inflow = sum(inlet.flow for inlet in inlets)
    delivered = be.sum(perfusion) * domain.voxel_volume
    calibration = _calibration_summary(domain, spec.name, targets, direct, perfusion, inflow,
                                       steps, off)
    return SupplyField(
        name=spec.name, pressure=xp.where(mask, phi, 0) + venous_pressure, perfusion=perfusion,
        stencil=stencil, source=source, inlets=tuple(inlets), feed=feed,
        tree_flow=state if feed is not None else None, beta=beta_now,
        conductivity=conductivity, inflow=inflow,
        conservation_error=abs(delivered - inflow) / inflow, calibration=calibration,
        reports=tuple(reports))


def _solve(stencil, domain, solver, name, tolerance, feed, source, start, segment_scale=None):
    """One solve of the supply operator ``stencil``: with a fixed ``source`` (point inlets) or
    coupled to the ``feed``'s tree. Returns (state to restart from, φ, report)."""
    if feed is None:
        phi, report = conjugate_gradient(stencil, source, domain.backend, name=name,
                                         tolerance=tolerance, max_iterations=solver.max_iterations,
                                         x0=start, **solver.preconditioning())
        return phi, phi, report
    state = feed.solve(stencil, domain, name=name, tolerance=tolerance, solver=solver, x0=start,
                       segment_scale=segment_scale)
    return state, state.phi, state.report


def _tree_inlets(feed, state, domain) -> tuple[tuple[Inlet, ...], object]:
    """The tree's terminals as inlets with their solved flows, and their source density."""
    inlets = tuple(feed.inlets(state))
    return inlets, domain.backend.asarray(source_density(inlets, domain.shape,
                                                         domain.voxel_volume))


def _renormalised(factors: dict, targets: dict, volumes: dict) -> dict:
    """Scale class factors so their target-flow-weighted mean is 1."""
    weight = {c: volumes[c] * targets[c] for c in factors}
    mean = sum(weight[c] * factors[c] for c in factors) / sum(weight.values())
    return {c: f / mean for c, f in factors.items()}


def _calibration_summary(domain, name, targets, direct, perfusion, inflow, steps, mismatch):
    """Targets and achieved class means side by side (mL/min/100 mL), and warnings."""
    achieved = domain.class_means(perfusion)
    volume = domain.voxel_volume
    target_flow = sum(targets[c] * int((domain.labels == domain.class_names.index(c)).sum())
                      * volume for c in targets)
    if targets and target_flow > 0 and not direct:
        disagreement = inflow / target_flow - 1
        if abs(disagreement) > TARGET_MISMATCH_WARNING:
            log.warning("supply %s: inlet flows (%.4g mL/min) and perfusion targets (%.4g mL/min) "
                        "disagree by %+.0f%%; the targets set only how the flow divides",
                        name, inflow * 6e7, target_flow * 6e7, 100 * disagreement)
    else:
        disagreement = None
    return {
        "steps": steps, "pattern_mismatch": mismatch,
        "inflow_vs_targets": disagreement,
        "classes": {c: {"target_ml_min_100ml": targets[c] * 6000 if c in targets else None,
                        "achieved_ml_min_100ml": achieved[c] * 6000,
                        "beta_given": c in direct}
                    for c in achieved},
    }


def rescaled_supply(case, domain: Domain, supply: SupplyField, scale, inlet_flows: dict,
                    venous_pressure: float, segment_scale=None) -> SupplyField:
    """Re-solve a supply with ``K_s`` and ``β_s`` multiplied by ``scale`` (per voxel) and,
    for point inlets, the named inlets' flows replaced — for a tree, its segment
    conductances multiplied by ``segment_scale`` and the flows re-solved (embolisation,
    docs/model.md §8.3); β is not re-calibrated."""
    from dataclasses import replace

    be, xp = domain.backend, domain.backend.xp
    mask = xp.asarray(np.isin(domain.labels, [domain.class_names.index(c)
                                              for c, b in supply.beta.items() if b > 0]))
    k_field = xp.where(mask, supply.conductivity * scale, 0)
    beta_field = domain.class_field(supply.beta) * scale
    stencil = masked_stencil(k_field, beta_field, mask, domain.spacing)
    name, feed = f"supply {supply.name} (embolised)", supply.feed
    if feed is None:
        inlets = tuple(replace(i, flow=inlet_flows.get(i.name, i.flow)) for i in supply.inlets)
        source = be.asarray(source_density(inlets, domain.shape, domain.voxel_volume))
        start = supply.pressure - venous_pressure
    else:
        source, start = None, supply.tree_flow
    state, phi, report = _solve(stencil, domain, case.solver, name, case.solver.tolerance, feed,
                                source, start, segment_scale)
    tree_flow = None
    if feed is not None:
        tree_flow, (inlets, source) = state, _tree_inlets(feed, state, domain)
    perfusion = xp.where(mask, beta_field * phi, 0)
    inflow = sum(inlet.flow for inlet in inlets)
    delivered = be.sum(perfusion) * domain.voxel_volume
    return replace(supply, pressure=xp.where(mask, phi, 0) + venous_pressure,
                   perfusion=perfusion, stencil=stencil, source=source, inlets=inlets,
                   tree_flow=tree_flow, inflow=inflow,
                   conservation_error=abs(delivered - inflow) / inflow, reports=(report,))
