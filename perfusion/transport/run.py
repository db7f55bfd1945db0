"""The drug stage: intra-arterial run, optional IV comparator, on a steady state.

``run_drug(case, domain, steady)`` resolves the drug and body, builds the tissue problem
(and the embolised one), chooses the time grid and runs the loop with the exposure,
time-series and snapshot observers. The step is ``simulation.max_step`` (resolution of
exchange and infusion), shortened to a tenth of ``V_1/Q_p`` where the body–tissue coupling
(``c_sys`` lagged over a step) needs it; transport sub-steps are reported with their limit. With a ``checkpoint``
(:class:`perfusion.checkpoint.Checkpointer`) each route continues from its saved state and
saves its state as it goes. The result carries the embolised steady state (docs/model.md §8.3)
and the catheter's plasma flow ``Q_cath`` for the results.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from ..case.protocol import output_times
from ..errors import ConvergenceError
from .body.schedule import Schedule, time_grid
from .observers import Exposure, Snapshots, TimeSeries
from .metabolism import class_metabolism, organ_clearance
from .parameters import (DrugParameters, library_entry, resolve_drug, resolve_systemic,
                         split_clearance)
from .problem import build_problem
from .simulation import simulate
from .total_exposure import run_totals

log = logging.getLogger(__name__)

COUPLING_FRACTION = 0.1


@dataclass(frozen=True)
class RouteResult:
    """One scenario (IA, or the IV comparator): exposure, series, budget."""

    exposure: Exposure
    series: TimeSeries
    budget: object
    body: object
    tissue_amount: float
    snapshots: Snapshots | None
    seconds: float
    final_free: object = None     # m at the end of the run
    final_bound: object = None    # c at the end of the run


@dataclass(frozen=True)
class DrugResult:
    """Both routes, with the flows the intra-arterial dose entered by.

    ``catheter_plasma_flow`` is ``Q_cath`` [m³/s] (plasma; ``c_cath = c_sys + I_ia/Q_cath,eff``
    with ``Q_cath,eff = R_b Q_cath/(1 − Hct)``, ``catheter_effective_flow``) before
    any embolisation; ``embolized`` the re-solved :class:`SteadyState` after it (or None).
    """

    drug: DrugParameters
    pk: object
    pk_sources: dict
    schedule: Schedule
    arterial: RouteResult
    intravenous: RouteResult | None
    step: dict
    catheter_plasma_flow: float
    embolized: object | None
    catheter_effective_flow: float = 0.0   # R_b Q_cath,blood (= Q_cath for plasma-only drugs)
    clearance: dict | None = None   # CL_TB, CL_organ, CL_rest (parameters.split_clearance)
    totals: object = None   # total_exposure.RunTotals, or why there is none


def choose_step(case, problem, pk) -> tuple[float, str]:
    """The largest step and why."""
    step, reason = case.simulation.max_step, "simulation.max_step (exchange/infusion resolution)"
    # Q_eff = R_b Q_blood couples tissue and body (the plasma flow Q_p for plasma-only drugs)
    coupling = COUPLING_FRACTION * pk.central_volume / max(problem.effective_flow, 1e-300)
    if coupling < step:
        step, reason = coupling, "0.1 V_1/Q_p (body–tissue coupling)"
    return step, reason


@dataclass(frozen=True)
class DrugSetup:
    """The resolved drug, its tissue problem on a steady state, and the body."""

    drug: DrugParameters
    problem: object
    clearance: dict
    pk: object
    pk_sources: dict
    metabolism: dict     # {class: metabolism.ClassMetabolism}


def drug_setup(case, domain, steady) -> DrugSetup:
    """Resolve the case's drug, metabolism and body and build the tissue problem."""
    drug = resolve_drug(case)
    metabolism = class_metabolism(case, domain, drug, steady.hematocrit,
                                  library_entry(case.drug.name))
    drug.sources.update({f"metabolism.{c}": m.source for c, m in metabolism.items()})
    problem = build_problem(domain, steady, drug, steady.hematocrit, metabolism)
    # the organ's own clearance before any embolisation (docs/model.md §7)
    clearance = split_clearance(case, organ_clearance(problem, domain.voxel_volume,
                                                      domain.backend))
    pk, pk_sources = resolve_systemic(case, clearance)
    return DrugSetup(drug, problem, clearance, pk, pk_sources, metabolism)


def run_drug(case, domain, steady, checkpoint=None) -> DrugResult:
    """Run the case's drug protocol (and its IV comparator) on ``steady``."""
    setup = drug_setup(case, domain, steady)
    drug, problem, clearance, pk, pk_sources = (setup.drug, setup.problem, setup.clearance,
                                                setup.pk, setup.pk_sources)
    metabolism = setup.metabolism
    events, breaks, occluded = {}, [], None
    if case.embolization is not None:
        from ..steady.embolization import embolized_steady

        log.info("solving the embolised perfusion")
        occluded = embolized_steady(case, domain, steady)
        events[case.embolization.time] = build_problem(domain, occluded, drug, steady.hematocrit,
                                                       metabolism)
        breaks.append(case.embolization.time)
    schedule = Schedule.from_case(case.infusion)
    duration = case.simulation.duration
    outputs = output_times(duration, case.simulation.output_every)
    max_step, reason = choose_step(case, problem, pk)
    ends = time_grid(duration, outputs, [*schedule.breakpoints(), *breaks], max_step)
    substeps = max(1, math.ceil(max_step / problem.stable_step - 1e-12))
    step = {"max_step_s": max_step, "reason": reason, "steps": int(len(ends)),
            "transport_substeps_per_step": substeps,
            "transport_stable_step_s": problem.stable_step}
    log.info("drug %s: %d steps of ≤ %.0f s (%s); transport stable step %.3g s", drug.name,
             len(ends), max_step, reason, problem.stable_step)
    arterial = _run_route(case, domain, problem, schedule, pk, ends, events, outputs,
                          "arterial", checkpoint)
    intravenous = None
    if case.simulation.compare_iv:
        log.info("IV comparator")
        intravenous = _run_route(case, domain, problem, schedule.as_intravenous(), pk, ends,
                                 events, None, "intravenous", checkpoint)
    totals = "the perfusion changes during the run (embolisation)"
    if occluded is None:
        try:
            totals = run_totals(domain, steady, problem, pk, schedule, arterial, intravenous,
                                duration)
        except ConvergenceError as exc:
            log.warning("no exposure over all time: %s", exc)
            totals = str(exc)
    return DrugResult(drug=drug, pk=pk, pk_sources=pk_sources, schedule=schedule,
                      arterial=arterial, intravenous=intravenous, step=step,
                      catheter_plasma_flow=problem.catheter_plasma_flow, embolized=occluded,
                      catheter_effective_flow=problem.catheter_effective_flow,
                      clearance=clearance, totals=totals)


def _run_route(case, domain, problem, schedule, pk, ends, events, outputs, route,
               checkpoint) -> RouteResult:
    start = time.perf_counter()
    exposure = Exposure(domain, _exposure_target(case, domain), case.exposure.concentration_threshold)
    series = TimeSeries(domain, pk)
    snapshots = Snapshots(domain, outputs) if outputs is not None else None
    observers = [exposure, series] + ([snapshots] if snapshots is not None else [])
    start_state, hook = None, None
    if checkpoint is not None:
        start_state = checkpoint.restore(route, domain.backend, exposure, series, snapshots)
        hook = checkpoint.hook(route, domain.backend, exposure, series, snapshots, ends)
    free, bound, body, budget = simulate(domain, problem, schedule, pk, ends, observers, events,
                                         start=start_state, checkpoint=hook)
    tissue = domain.backend.sum(free + bound) * domain.voxel_volume
    error = budget.error(tissue, body)
    if error > 1e-8:
        log.warning("MASS BALANCE: relative error %.2e exceeds 1e-8 — do not trust this run", error)
    return RouteResult(exposure=exposure, series=series, budget=budget, body=body,
                       tissue_amount=tissue, snapshots=snapshots,
                       seconds=time.perf_counter() - start, final_free=free, final_bound=bound)


def _exposure_target(case, domain) -> str | None:
    """The target class: ``exposure.target``, else the tumour, else none (all tissue)."""
    if case.exposure.target is not None:
        return case.exposure.target
    return "tumor" if "tumor" in domain.present_classes else None
