"""Saturable drugs: the linear model a plan superposes, fitted to the case's own run.

Saturable uptake ``U = V_max [c_e/(c_e + v_e K_e) − c/(c + K_i)]`` and saturable metabolism
``R = V_max m/(K' + m)`` (docs/model.md §6.4–§6.5) are not linear, so the plan uses, per voxel,
their *secant* (equivalent-linear) rates over one full nonlinear run of the case with its own
catheter, instead of the low-concentration limits ``V_max/(v_e² K_e)``, ``V_max/K_i``,
``V_max/K'`` that overstate uptake wherever it saturates:

    k_in = ∫U_in dt / ∫m dt,   k_out = ∫U_out dt / ∫c dt,   k_R = ∫R dt / ∫m dt

(``U_in = V_max m/(m + v_e² K_e)``, ``U_out = V_max c/(c + K_i)``; trapezoidal sums over the
run's steps; the low-concentration limit where a voxel saw no drug). The reference run
continues past the case's duration until the drug left is in the linear regime
(:func:`secant_rates`): for doxorubicin, saturated cells hold drug for days. The linear model with
these rates reproduces the reference run's uptake and metabolism integrals voxel by voxel;
for another catheter position the local concentrations differ and so would the secant: the
plan's ``--exact`` re-runs measure that error (``linear_error``).
"""
from __future__ import annotations

import logging

import numpy as np

from ..results.total_exposure import regions
from ..transport.body.schedule import time_grid
from ..transport.metabolism import first_order_rates, free_drug_loss
from ..transport.run import choose_step
from ..transport.simulation import LoopState, simulate
from ..transport.total_exposure import TotalExposure

#: The reference run goes on while the linear tail holds more of the target's AUC than this.
TAIL_SHARE = 0.2
#: … but no longer than this [s] (7 days) …
MAX_HORIZON = 7 * 86400.0
#: … with steps this many times the case's after its duration (no infusion is left then).
TAIL_STEP = 5

log = logging.getLogger(__name__)


class SaturationIntegrals:
    """Observer: trapezoidal ∫m, ∫c, ∫U_in, ∫U_out, ∫R, ∫C_t dt per voxel (host, flat)."""

    def __init__(self, problem, backend):
        self.problem, self.backend = problem, backend
        self.sums = None
        self.previous = None

    def _rates(self, m, c):
        host = self.backend.to_host
        m, c = np.maximum(host(m).astype(np.float64), 0), np.maximum(host(c).astype(np.float64), 0)
        uptake, saturable = self.problem.uptake, self.problem.exchange.saturable
        zero = np.zeros_like(m)
        into = out = metabolised = zero
        if uptake.kind == "saturable":
            v_e = host(uptake.extracellular_fraction)
            active = host(uptake.active)
            into = np.where(active, uptake.max_rate * m / (m + v_e * v_e
                                                            * uptake.extracellular_affinity), 0)
            out = np.where(active, uptake.max_rate * c / (c + uptake.intracellular_affinity), 0)
        if saturable is not None:
            metabolised = host(saturable.max_rate) * m / (host(saturable.half_saturation) + m)
        return np.stack([m, c, into, out, metabolised]).reshape(5, -1)

    @property
    def tissue(self):
        """∫C_t dt per voxel so far."""
        return self.sums[5].reshape(self.shape)

    def __call__(self, view) -> None:
        now = self._rates(view.free, view.bound)
        plasma = np.asarray(self.backend.to_host(view.plasma_end), np.float64)
        vascular = np.asarray(self.backend.to_host(self.problem.vascular_drug_fraction),
                              np.float64)
        self.shape = plasma.shape
        now = np.concatenate([now, (vascular * plasma).ravel()[None] + now[0] + now[1]])
        if self.previous is None:
            self.previous = np.zeros_like(now)
            self.sums = np.zeros_like(now)
        self.sums += 0.5 * (view.t1 - view.t0) * (self.previous + now)
        self.previous = now


def _extended(case, schedule, max_step: float, horizon: float) -> np.ndarray:
    """Step ends to ``horizon``: the case's own grid over its duration, then blocks of that
    duration with ``TAIL_STEP`` × longer steps (after the case's duration only slow release
    and elimination are left; each block is the same, so a longer horizon extends the grid)."""
    duration = case.simulation.duration
    ends = [time_grid(duration, [], schedule.breakpoints(), max_step)]
    block = time_grid(duration, [], [], TAIL_STEP * max_step)
    start = duration
    while start < horizon * (1 - 1e-12):
        ends.append(start + block)
        start += duration
    return np.concatenate(ends)


def secant_rates(case, domain, setup, schedule, target_class) -> tuple[dict, float]:
    """(``first_order_rates`` of the problem with the secant uptake and metabolism of one full
    nonlinear run of the case, the run's horizon [s]) (module docstring).

    The run lasts the case's duration and is continued by as much again while the linear
    tail from its end state (``total_exposure``, low-concentration rates) still holds more
    than ``TAIL_SHARE`` of the target class's AUC over all time (all tissue without one), up to ``MAX_HORIZON``:
    by then the exposure left is in the linear regime, and the secant covers the rest."""
    problem, backend = setup.problem, domain.backend
    rates = {k: (np.asarray(backend.to_host(v), dtype=np.float64) if not np.isscalar(v) else v)
             for k, v in first_order_rates(problem, backend.xp).items()}
    tail_system = TotalExposure(problem, setup.pk.clearance, domain.voxel_volume, backend)
    labels = np.asarray(domain.labels).ravel()[tail_system.index]
    target, _ = regions(labels, domain.class_names, target_class)
    max_step, _ = choose_step(case, problem, setup.pk)
    observer = SaturationIntegrals(problem, backend)
    horizon, state, share = case.simulation.duration, None, 1.0
    while True:
        ends = _extended(case, schedule, max_step, horizon)
        free, bound, body, budget = simulate(domain, problem, schedule, setup.pk, ends,
                                             [observer], start=state)
        state = LoopState(len(ends), float(ends[-1]), free, bound, body, budget)
        tail = tail_system.totals(free0=tail_system.tissue_vector(backend.to_host(free)),
                                  bound0=tail_system.tissue_vector(backend.to_host(bound)),
                                  body0=body.total)
        window = tail_system.tissue_vector(observer.tissue)
        share = float(tail.tissue[target].sum() / (window[target].sum() + tail.tissue[target].sum()))
        infusing = max(w.end for w in schedule.windows) > case.simulation.duration
        if share <= TAIL_SHARE or horizon >= MAX_HORIZON or infusing:
            break
        horizon = min(horizon + case.simulation.duration, MAX_HORIZON)
    log.info("plan: secant rates from a %.3g h reference run (linear tail %.1f%% of the "
             "target's AUC)", horizon / 3600, 100 * share)
    free, bound, into, out, metabolised = (a.reshape(observer.shape) for a in observer.sums[:5])
    k_in = np.broadcast_to(rates["uptake"], free.shape)
    k_out = np.broadcast_to(rates["release"], free.shape)
    seen = free > 0
    k_in = np.where(seen & (k_in > 0), into / np.where(seen, free, 1), k_in)
    k_out = np.where((bound > 0) & (k_out > 0), out / np.where(bound > 0, bound, 1), k_out)
    exchange = problem.exchange
    host = lambda a: np.asarray(backend.to_host(a), np.float64)  # noqa: E731
    saturable = 0.0
    if exchange.saturable is not None:
        limit = host(exchange.saturable.max_rate) / host(exchange.saturable.half_saturation)
        saturable = np.where(seen, metabolised / np.where(seen, free, 1), limit)
    loss = free_drug_loss(host(exchange.elimination) + host(exchange.metabolism), saturable,
                          k_in, k_out, rates["bound_decay"])
    return dict(rates, uptake=k_in, release=k_out, loss=loss, linear=False), horizon
