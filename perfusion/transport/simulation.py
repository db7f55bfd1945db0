"""The drug time loop: tissue and body advanced together, the budget kept every step.

One step ``[t₀, t₁]`` (steps end exactly on outputs and infusion starts/stops, so the
infusion rates are constant within it; ``c_sys`` is taken at ``t₀``):

1. exchange with plasma, cell uptake, lymph and local elimination — pointwise, exact but
   for the step-mean uptake rate (``exchange``);
2. interstitial diffusion and convection — explicit, sub-stepped (``operator``);
3. the body — exact, fed by IV infusion and the tissue's net return (``pk``).

Lie splitting, first order in Δt; every sub-step moves mass between named terms only, so
``infused = tissue + body + eliminated + metabolised`` holds to round-off (docs/model.md §6.6).
Observers receive every step (time series, exposure, outputs); physics never touches files.
A ``checkpoint`` callback receives the :class:`LoopState` after the observers, and a run
restarted from a saved ``start`` state takes exactly the steps the uninterrupted run would
have taken from there (so its fields are bitwise equal).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..library.units import KG_M3_TO_UG_ML
from .body.pk import BodyState, advance_body
from .body.schedule import IV
from .exchange import pointwise_step

log = logging.getLogger(__name__)


@dataclass
class Budget:
    """Cumulative amounts [kg] since t = 0."""

    infused_ia: float = 0.0    # through the catheter (intra-arterial or portal-venous)
    infused_iv: float = 0.0
    tissue_eliminated: float = 0.0
    to_lymph: float = 0.0
    through_surface: float = 0.0
    from_plasma: float = 0.0
    metabolised: float = 0.0   # by organ metabolism of free drug (docs/model.md §6.5)

    def error(self, tissue: float, body: BodyState) -> float:
        """|infused − tissue − body − eliminated − metabolised| / infused (0 before any infusion)."""
        infused = self.infused_ia + self.infused_iv
        balance = (infused - tissue - body.total - body.eliminated - self.tissue_eliminated
                   - self.metabolised)
        return abs(balance) / infused if infused > 0 else abs(balance)


@dataclass
class StepView:
    """What observers see after a step.

    Backend arrays are not copied, and ``free``/``bound`` may be the loop's buffers, which
    it overwrites two steps later: copy what you keep.
    """

    t0: float
    t1: float
    free: object           # m = v_e c_e
    bound: object          # c_c
    plasma_start: object   # c_p during the step, with c_sys(t₀)
    plasma_end: object     # c_p at the end of the step, with c_sys(t₁)
    body: BodyState
    systemic: float            # c_sys(t₁)
    systemic_integral: float   # ∫c_sys dt over the step
    budget: Budget
    tissue_amount: float
    problem: object = field(repr=False, default=None)


@dataclass
class LoopState:
    """Where the loop stands after ``number`` steps, at ``t0`` (what a checkpoint holds)."""

    number: int
    t0: float
    free: object
    bound: object
    body: BodyState
    budget: Budget
    events_applied: int = 0   # how many ``events`` (embolisation problems) are in force


def simulate(domain, problem, schedule, pk, step_ends, observers=(), events=None, *,
             start: LoopState | None = None, checkpoint=None):
    """Run the drug loop over ``step_ends``; ``events`` maps times to new problems.

    ``start`` continues a saved loop (its observers restored by the caller);
    ``checkpoint(state)`` is called after every step.
    """
    be, xp = domain.backend, domain.backend.xp
    volume = domain.voxel_volume
    events = dict(sorted((events or {}).items()))
    if start is None:
        start = LoopState(0, 0.0, xp.zeros(domain.shape, dtype=be.dtype), None, BodyState(),
                          Budget())
        start.bound = xp.zeros_like(start.free)
    free, bound, body, budget, t0 = start.free, start.bound, start.body, start.budget, start.t0
    applied = start.events_applied
    for _ in range(applied):
        problem = events.pop(next(iter(events)))
    report_every = max(1, len(step_ends) // 10)
    advance_tissue = _TissueAdvance(be)
    plasma_key = None
    for number in range(start.number + 1, len(step_ends) + 1):
        t1 = float(step_ends[number - 1])
        for time in [t for t in events if t <= t0 + 1e-9]:
            problem = events.pop(time)
            applied += 1
            log.info("t = %.1f min: perfusion changed (embolisation)", t0 / 60)
        dt = t1 - t0
        # through the catheter: intra-arterial or portal-venous (docs/model.md §8.2)
        rate_ia, rate_iv = schedule.catheter_rate(t0, t1), schedule.mean_rate(IV, t0, t1)
        systemic = body.concentration(pk)
        if plasma_key != (id(problem), systemic, rate_ia):   # else: the last step's plasma_end
            plasma = problem.plasma_concentration(xp, systemic, rate_ia)
        free, bound, amounts = advance_tissue(problem, free, bound, plasma, dt)
        from_plasma, lymph, eliminated, metabolised, through = (amount * volume
                                                                for amount in amounts)
        budget.infused_ia += rate_ia * dt
        budget.infused_iv += rate_iv * dt
        budget.from_plasma += from_plasma
        budget.to_lymph += lymph
        budget.through_surface += through
        budget.tissue_eliminated += eliminated
        budget.metabolised += metabolised
        net_return = rate_ia + rate_iv + (lymph + through - from_plasma) / dt
        body, systemic_integral = advance_body(pk, body, dt, net_return)
        plasma_key = (id(problem), body.concentration(pk), rate_ia)
        plasma_end = problem.plasma_concentration(xp, body.concentration(pk), rate_ia)
        view = StepView(t0=t0, t1=t1, free=free, bound=bound, plasma_start=plasma,
                        plasma_end=plasma_end, body=body, systemic=body.concentration(pk),
                        systemic_integral=systemic_integral, budget=budget,
                        tissue_amount=(be.sum(free) + be.sum(bound)) * volume, problem=problem)
        for observer in observers:
            observer(view)
        if checkpoint is not None:
            checkpoint(LoopState(number, t1, free, bound, body, budget, applied))
        if number % report_every == 0:
            log.info("t = %.0f of %.0f min (%d%%), c_sys %.3g µg/mL, budget error %.1e", t1 / 60,
                     step_ends[-1] / 60, 100 * number // len(step_ends),
                     view.systemic * KG_M3_TO_UG_ML,
                     budget.error(view.tissue_amount, body))
        t0, plasma = t1, plasma_end
    return free, bound, body, budget


class _TissueAdvance:
    """Steps 1 and 2: new (free, bound) and the amounts moved, summed over the voxels
    [kg/m³ · voxels]: from plasma, to lymph, eliminated, metabolised, out through the surface.

    On the NumPy fast paths (``problem.fast_pointwise``) the new state is written into two
    pairs of buffers used in turn, so that no step allocates (and page-faults in) full
    arrays: an array an observer saw is overwritten two steps later.
    """

    def __init__(self, be):
        self.be = be
        self.spare = None      # buffers free for the next step (ours, not the caller's)
        self.owned = False     # whether the current state is in our buffers

    def __call__(self, problem, free, bound, plasma, dt: float):
        be = self.be
        if problem.fast_pointwise is None:
            free, bound, moved = pointwise_step(problem.exchange, problem.uptake, free, bound,
                                                plasma, dt)
            moved = (be.sum(moved.from_plasma), be.sum(moved.lymph), be.sum(moved.eliminated),
                     be.sum(moved.metabolised))
            self.spare, self.owned = None, False
        else:
            out = self.spare or (be.xp.empty(free.shape, free.dtype),
                                 be.xp.empty(bound.shape, bound.dtype))
            moved = problem.fast_pointwise.step(free, bound, plasma, dt, out)
            self.spare = (free, bound) if self.owned else None
            self.owned = True
            free, bound = out
        if problem.fast_transport is None:
            free, surface = problem.operator.advance(free, dt, be.xp, problem.stable_step)
            return free, bound, (*moved, be.sum(surface))
        # ``free`` is new (ours or the pointwise step's): the transport may change it in place
        return free, bound, (*moved, problem.fast_transport.advance(free, dt, problem.stable_step))
