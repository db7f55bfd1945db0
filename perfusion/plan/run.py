"""``plan_case``: every candidate catheter position of a case ranked by its drug exposure.

One steady solve of the case, one total-exposure operator (for a saturable drug with
the secant rates of one reference run, ``secant``) and one territory and exposure solve per
piece (``candidates``, ``responses``); each candidate is then
a weighted sum (exact for linear drugs, the low-concentration linearisation for saturable
ones). ``exact = k`` re-runs the best ``k`` candidates with ``perfusion run`` (the full
time-dependent model, ``catheter.vessel`` set) and reports each one's AUC over all time (its
own window continued by the linear tail) against the plan's: ``linear_error``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ..case.checks import KeyedCaseError
from ..compute.backend import make_backend
from ..domain import build_domain
from ..library.units import M3_S_TO_ML_MIN, M_TO_MM
from ..results.total_exposure import regions
from ..steady.solve import solve_steady
from ..steady.territory import TerritorySolver
from ..transport.body.schedule import IV, Schedule
from ..transport.metabolism import first_order_rates
from ..transport.run import drug_setup
from ..transport.total_exposure import TotalExposure
from .candidates import MIN_RADIUS, build_candidates, choose_candidates
from .rank import Judge, order, rank_pairs
from .responses import PieceResponses
from .secant import secant_rates

log = logging.getLogger(__name__)

#: Candidates (the best) whose AUC and territory maps are kept and written.
MAP_ROWS = 100


@dataclass
class Plan:
    """The ranked candidates (``rows``, best first), pairs, and the maps of the best
    ``MAP_ROWS`` rows."""

    rows: list[dict]
    pairs: list[dict]
    auc: np.ndarray            # (best rows, tissue voxels) AUC of C_t [kg·s/m³]
    territory: np.ndarray      # (best rows, tissue voxels) θ
    index: np.ndarray          # flat indices of the tissue voxels
    info: dict
    domain: object = field(repr=False, default=None)
    steady: object = field(repr=False, default=None)


def _target(case, domain) -> str | None:
    if case.exposure.target is not None:
        return case.exposure.target
    return "tumor" if "tumor" in domain.present_classes else None


def _tree_supply(case, steady):
    if case.catheter is None:
        raise KeyedCaseError("catheter", "perfusion plan places the catheter itself but needs "
                             "to know in which supply: add [catheter] supply = \"<a tree supply>\"")
    supply = steady.supplies[case.catheter.supply]
    if supply.feed is None:
        raise KeyedCaseError("catheter.supply", f"supply {case.catheter.supply!r} has point "
                             "inlets, not an arterial tree: perfusion plan ranks the vessels of "
                             "a tree ([supplies.tree])")
    return supply


def _chain_head(tree, placement, vessels) -> int | None:
    """The case's own catheter vessel, or the candidate heading its chain (a segment that
    continues its parent without a branch delivers what the parent does)."""
    if placement is None or placement.segment is None:
        return None
    segment, chosen = int(placement.segment), set(int(v) for v in vessels)
    while segment not in chosen:
        above = tree.parent[tree.segments[segment, 0]]
        if above < 0 or tree.children(int(above)).size != 1:
            return int(placement.segment)
        segment = int(above)
    return segment


def plan_case(case, *, vessels=None, min_radius: float = MIN_RADIUS, pairs: bool = True,
              backend: str | None = None) -> Plan:
    """Rank the candidate catheter positions of ``case`` (module docstring)."""
    started = time.perf_counter()
    if case.embolization is not None:
        raise KeyedCaseError("embolization", "perfusion plan ranks drug exposure on one "
                             "perfusion state; remove [embolization] to plan")
    be = make_backend(backend or case.simulation.backend, case.simulation.precision)
    domain = build_domain(case, be)
    steady = solve_steady(case, domain)
    supply = _tree_supply(case, steady)
    schedule = Schedule.from_case(case.infusion)
    catheter_dose, iv_dose = schedule.dose() - schedule.dose(IV), schedule.dose(IV)
    if catheter_dose <= 0:
        raise KeyedCaseError("infusion", "no dose goes through the catheter: give an "
                             "intra-arterial [[infusion]] to plan its position")
    setup = drug_setup(case, domain, steady)
    seconds = {"steady": time.perf_counter() - started}
    target_name = _target(case, domain)
    rates, linearisation, horizon = None, "none: the drug is linear", None
    if not first_order_rates(setup.problem, be.xp)["linear"]:
        t0 = time.perf_counter()
        rates, horizon = secant_rates(case, domain, setup, schedule, target_name)
        seconds["reference_run"] = time.perf_counter() - t0
        linearisation = (f"secant uptake and metabolism rates per voxel from a {horizon / 3600:.3g}"
                         " h run of the case with its own catheter (perfusion.plan.secant)")
    system = TotalExposure(setup.problem, setup.pk.clearance, domain.voxel_volume, be, rates)
    tree, flow = supply.feed.tree, supply.tree_flow.segment_flow
    chosen = choose_candidates(tree, flow, min_radius=min_radius, vessels=vessels)
    candidates = build_candidates(tree, flow, chosen, case.catheter.streaming_exponent,
                                  supply.feed.terminal_inlets)
    host = be.to_host
    total = host(steady.perfusion).astype(np.float64)
    share = np.where(total > 0, host(supply.perfusion) / np.where(total > 0, total, 1), 0)
    t0 = time.perf_counter()
    responses = PieceResponses(system, TerritorySolver(supply, be, domain.voxel_volume), share,
                               total, setup.problem.blood_to_plasma, candidates.piece_inlets)
    seconds["responses"] = time.perf_counter() - t0
    labels = np.asarray(domain.labels).ravel()[system.index]
    target, normal = regions(labels, domain.class_names, target_name)
    if target_name is None:
        log.warning("plan: the case has no tumour and no exposure.target, so the target is "
                    "all tissue and the score only measures coverage; name a target class "
                    "(--set exposure.target=\"<class>\") to rank by selectivity")
    iv = system.totals(iv_dose=schedule.dose())
    judge = Judge(system, catheter_dose, iv_dose, target, normal, case.exposure.auc_threshold,
                  (iv.tissue, iv.systemic), float(normal.sum()) * domain.voxel_volume * 1e6)
    t0 = time.perf_counter()
    rows = []
    for i, vessel in enumerate(candidates.vessels):
        summary, _ = judge.row(responses.delivery(candidates.weights[i]))
        rows.append({"vessel": int(vessel), "radius_mm": float(tree.radii[vessel]) * M_TO_MM,
                     "flow_ml_min": float(flow[vessel]) * M3_S_TO_ML_MIN,
                     "terminals": int(candidates.terminals[i]),
                     "depth": int(candidates.depth[i]), **summary})
    ranked = order(rows)
    rows = [dict(rows[k], rank=n + 1) for n, k in enumerate(ranked)]
    auc, theta = [], []
    for k in ranked[:MAP_ROWS]:            # maps of the best only: C × voxels would not fit
        delivery = responses.delivery(candidates.weights[k])
        auc.append(judge.totals(delivery).tissue.astype(np.float32))
        theta.append(delivery.territory.astype(np.float32))
    seconds["candidates"] = time.perf_counter() - t0
    pair_rows = []
    if pairs:
        t0 = time.perf_counter()
        pair_rows = rank_pairs(tree, candidates.vessels[ranked], rows,
                               lambda k: responses.delivery(candidates.weights[ranked[k]]),
                               judge)
        seconds["pairs"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    info = {"case": case.case.name, "supply": supply.name, "target": target_name or "all tissue",
            "drug": setup.drug.name, "linear_model": system.linear,
            "linearisation": linearisation, "reference_horizon_s": horizon,
            "auc_threshold_kg_s_m3": case.exposure.auc_threshold,
            "min_radius_mm": min_radius * M_TO_MM, "candidates": len(rows),
            "pieces": int(candidates.pieces.size), "tissue_voxels": int(system.index.size),
            "normal_volume_ml": judge.normal_volume_ml,
            "case_vessel": _chain_head(tree, steady.catheter, candidates.vessels),
            "streaming_exponent": case.catheter.streaming_exponent,
            "catheter_dose_kg": catheter_dose, "seconds": seconds, "backend": be.name}
    log.info("plan: %d candidates from %d pieces in %.1f s", len(rows), candidates.pieces.size,
             seconds["total"])
    return Plan(rows=rows, pairs=pair_rows, auc=np.stack(auc), territory=np.stack(theta),
                index=system.index, info=info,
                domain=domain, steady=steady)
