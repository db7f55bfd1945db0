"""Pointwise plasma–tissue exchange, cell uptake and local losses (docs/model.md §6.2–§6.5).

Per voxel, with the plasma concentration ``c_p`` constant over a step ``Δt``:

    dm/dt = s − a m − U,        dc/dt = U − k_c c,
    s = (F_p E + (1 − σ_f) J_v⁺) c_p,
    a = (F_p E + (1 − σ_f) J_v⁻ + ℓ) / v_e + k_e + CL_int,

``m = v_e c_e``, ``c = c_c``; ``F_p = R_b F`` the drug-carrying flow (``(1 − Hct) F`` for a
plasma-only drug; docs/model.md §6.1); Renkin–Crone ``E = 1 − exp(−PS/F_p)``,
``PS = P · S/V``; ``J_v`` filtration per volume (``J_v⁺`` brings plasma drug in by solvent
drag, ``J_v⁻`` reabsorption takes ``c_e`` out); ``ℓ = max(L_pLS_L/V (p_i − p_L), 0)`` lymph
flow; ``k_e``, ``k_c`` local elimination; ``CL_int`` first-order metabolism per voxel (and
saturable metabolism ``R̄``, held at its implicit step mean like ``Ū``; ``metabolism``), counted
apart as ``metabolised``; ``U`` cell uptake (``uptake``). Reverse exchange
(``c_e > c_p``) follows from the same formula — nothing is clipped.

With ``U`` held at its step mean ``Ū`` (found implicitly, so fast uptake is fed by the
exchange within the step rather than starved by a splitting), both equations are linear
with constant forcing and are integrated exactly:
``m₁ = m₀ + (s − Ū − a m₀) Δt φ₁(−aΔt)``, ``∫m = m₀Δt + (s − Ū − a m₀) Δt² φ₂(−aΔt)``, and the
same for ``c`` with ``k_c`` (φ₁(z) = (eᶻ − 1)/z, φ₂(z) = (eᶻ − 1 − z)/z²). Every flux's amount
over the step follows from ``∫m`` and ``∫c``, so the budget closes to round-off; without
uptake the step is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..ops import array_module, pointwise
from .uptake import SaturableNewton

@dataclass(frozen=True)
class ExchangeCoefficients:
    """Per-voxel coefficients of the exchange (fixed while the perfusion is)."""

    clearance: object       # F_p E [1/s]
    drag_in: object         # (1 − σ_f) J_v⁺ [1/s]
    drag_out: object        # (1 − σ_f) J_v⁻ [1/s]
    lymph: object           # ℓ [1/s]
    elimination: object     # k_e [1/s]
    inverse_ve: object      # 1/v_e (0 outside)
    metabolism: object = 0.0   # CL_int [1/s] (first-order metabolism, per voxel)
    saturable: object = None   # metabolism.SaturableMetabolism (Michaelis–Menten) or None

    @classmethod
    def build(cls, xp, plasma_perfusion, permeability_surface, filtration, lymph_flow,
              solvent_drag_reflection, elimination_rate, inverse_ve, metabolism=0.0,
              saturable=None):
        safe = xp.where(plasma_perfusion > 0, plasma_perfusion, 1)
        extraction = xp.where(plasma_perfusion > 0, -xp.expm1(-permeability_surface / safe), 0)
        transmission = 1 - solvent_drag_reflection
        inside = inverse_ve > 0
        return cls(clearance=plasma_perfusion * extraction,
                   drag_in=transmission * xp.maximum(filtration, 0),
                   drag_out=transmission * xp.maximum(-filtration, 0),
                   lymph=xp.maximum(lymph_flow, 0),
                   elimination=xp.where(inside, elimination_rate, 0), inverse_ve=inverse_ve,
                   metabolism=xp.where(inside, metabolism, 0), saturable=saturable)


    def astype(self, dtype) -> "ExchangeCoefficients":
        """Every coefficient as a full array of the working dtype (what the kernel expects)."""
        shape = self.inverse_ve.shape
        xp = array_module(self.inverse_ve)
        saturable = (None if self.saturable is None
                     else self.saturable.astype(xp, shape, dtype))
        return ExchangeCoefficients(saturable=saturable, **{
            name: xp.ascontiguousarray(xp.broadcast_to(getattr(self, name), shape), dtype=dtype)
            for name in ("clearance", "drag_in", "drag_out", "lymph", "elimination", "inverse_ve",
                         "metabolism")})


@dataclass(frozen=True)
class PointwiseAmounts:
    """Amounts per tissue volume moved during one step [kg/m³] (arrays)."""

    from_plasma: object    # plasma → tissue (exchange + solvent drag in − reabsorption)
    lymph: object          # tissue → lymph → body
    eliminated: object     # lost by local elimination (free and cell-bound)
    metabolised: object = 0.0   # lost by metabolism of free drug


def pointwise_step(k: ExchangeCoefficients, uptake, m, c, plasma_concentration, dt: float):
    """Advance (m, c) over ``dt``; return (m, c, PointwiseAmounts) (``ops.pointwise``)."""
    m, c, from_plasma, lymph, eliminated, metabolised = pointwise.step(
        k, uptake, m, c, plasma_concentration, dt)
    return m, c, PointwiseAmounts(from_plasma=from_plasma, lymph=lymph, eliminated=eliminated,
                                  metabolised=metabolised)


class TissuePointwise:
    """NumPy fast path of :func:`pointwise_step` for the time loop: tissue voxels only.

    Outside the voxels where a coefficient or the uptake is nonzero the step moves nothing
    (``m`` is unchanged and ``c``, fed by uptake alone, stays zero), so only those voxels
    (``index``, flat) are gathered into 1-D arrays. The per-voxel constants and, for each
    distinct Δt, the φ-functions of ``−aΔt`` are computed once. Every array operation is
    the reference's (``ops.pointwise.step_reference``), in its order, so the new ``m, c``
    and the amounts are the same bits on the gathered voxels. Saturable metabolism has no fast
    path (``problem.build_problem`` uses the reference then).
    """

    def __init__(self, k: ExchangeCoefficients, uptake):
        if k.saturable is not None:
            raise ValueError("TissuePointwise: saturable metabolism runs on the reference step")
        shape = k.inverse_ve.shape
        flat = lambda a: np.broadcast_to(np.asarray(a), shape).ravel()  # noqa: E731
        names = ("clearance", "drag_in", "drag_out", "lymph", "elimination", "inverse_ve",
                 "metabolism")
        live = np.zeros(shape, dtype=bool).ravel()
        for name in names:
            live |= flat(getattr(k, name)) != 0
        active = flat(False if uptake.active is None else uptake.active)
        if uptake.kind != "none":
            live |= active
        # uptake voxels first, so that the Newton iteration works on a prefix (a view)
        self.index = np.concatenate([np.flatnonzero(live & active), np.flatnonzero(live & ~active)])
        self.uptake_cells = int(np.count_nonzero(live & active))
        pick = lambda a: flat(a)[self.index]  # noqa: E731
        clearance, drag_in, drag_out, lymph, elimination, inverse_ve, metabolism = (
            pick(getattr(k, name)) for name in names)
        self.inflow = clearance + drag_in
        self.loss = (clearance + drag_out + lymph) * inverse_ve + elimination + metabolism  # a
        self.metabolism = metabolism
        self.metabolises = bool(np.any(metabolism != 0))
        self.returned = clearance + drag_out
        self.lymph, self.elimination, self.inverse_ve = lymph, elimination, inverse_ve
        self.dtype = inverse_ve.dtype
        self.cell_elimination = uptake.cell_elimination
        v_e = None if uptake.extracellular_fraction is None else pick(uptake.extracellular_fraction)
        self.uptake = replace(uptake, active=active[self.index], extracellular_fraction=v_e)
        self.newton = None
        if uptake.kind == "saturable":
            self.newton = SaturableNewton(self.uptake, v_e[:self.uptake_cells])
        self.eliminates = bool(np.any(elimination != 0))
        self._per_step: dict[float, tuple] = {}
        self._work = [np.empty_like(inverse_ve) for _ in range(8)]
        self._mean = np.zeros_like(inverse_ve)   # Ū, zero past the uptake voxels

    def _factors(self, dt: float) -> tuple:
        """(β, φ₂(−aΔt), δ, φ₂(−k_cΔt), β and β k_e on the uptake voxels) for one Δt."""
        if dt not in self._per_step:
            if len(self._per_step) > 32:
                self._per_step.clear()
            phi1_m, phi2_m = pointwise.phi_functions(np, -self.loss * dt)
            phi1_c, phi2_c = pointwise.phi_functions(
                np, np.asarray(-self.cell_elimination * dt, dtype=self.dtype))
            beta, delta = dt * phi1_m, dt * phi1_c
            newton = ()
            if self.newton is not None:
                slope = beta[:self.uptake_cells]
                newton = (slope, slope * self.newton.k_e)
            self._per_step[dt] = (beta, phi2_m, delta, phi2_c, newton)
        return self._per_step[dt]

    def step(self, m, c, plasma, dt: float, out):
        """Write ``m, c`` after ``dt`` into ``out`` (two other full, contiguous arrays); return
        the amounts moved (from plasma, to lymph, eliminated, metabolised) as float64 sums over the voxels
        [kg/m³ · voxels]. The 1-D temporaries live in buffers allocated once (a fresh array
        of this size costs more in page faults than the arithmetic on it); ``take`` into them
        with ``mode="clip"`` (the indices are valid), which NumPy does not buffer."""
        beta, phi2_m, delta, phi2_c, newton = self._factors(dt)
        k_c, index = self.cell_elimination, self.index
        m_t, c_t, source, loss_m, m_lin, c_lin, work, free_integral = self._work
        np.take(m, index, out=m_t, mode="clip")
        np.take(c, index, out=c_t, mode="clip")
        np.take(plasma, index, out=source, mode="clip")
        source *= self.inflow                                  # (F_p E + J⁺) c_p
        np.multiply(self.loss, m_t, out=loss_m)                # a m
        np.subtract(source, loss_m, out=m_lin)
        m_lin *= beta
        m_lin += m_t
        if k_c != 0:   # (with k_c = 0 these terms are exact zeros)
            np.multiply(k_c, c_t, out=work)
            np.multiply(work, delta, out=c_lin)
            np.subtract(c_t, c_lin, out=c_lin)
        else:
            np.copyto(c_lin, c_t)
        mean_uptake = self._mean_uptake(m_lin, beta, c_lin, delta, newton)
        np.subtract(source, mean_uptake, out=free_integral)
        free_integral -= loss_m
        free_integral *= dt
        free_integral *= dt
        free_integral *= phi2_m
        np.multiply(m_t, dt, out=loss_m)
        free_integral += loss_m                                # ∫m dt over the step
        if k_c != 0:
            np.subtract(mean_uptake, work, out=work)
            work *= dt
            work *= dt
            work *= phi2_c
            np.multiply(c_t, dt, out=c_t)
            work += c_t                                        # ∫c dt over the step
            eliminated = _total(self.elimination * free_integral + k_c * work)
        else:
            eliminated = _total(self.elimination * free_integral) if self.eliminates else 0.0
        metabolised = _total(self.metabolism * free_integral) if self.metabolises else 0.0
        m_new, c_new = out
        np.copyto(m_new, m)
        np.copyto(c_new, c)
        np.multiply(beta, mean_uptake, out=m_t)
        np.subtract(m_lin, m_t, out=m_t)
        m_new.reshape(-1)[index] = m_t
        np.multiply(delta, mean_uptake, out=m_t)
        np.add(c_lin, m_t, out=m_t)
        c_new.reshape(-1)[index] = m_t
        mean_ce = np.multiply(free_integral, self.inverse_ve, out=free_integral)
        source *= dt
        np.multiply(self.returned, mean_ce, out=m_lin)
        source -= m_lin
        np.multiply(self.lymph, mean_ce, out=m_lin)
        return _total(source), _total(m_lin), eliminated, metabolised

    def _mean_uptake(self, m_lin, beta, c_lin, delta, newton):
        """Ū per gathered voxel (zero where inactive)."""
        if self.newton is None:
            return self.uptake.step_mean(np, m_lin, beta, c_lin, delta)
        n = self.uptake_cells
        mean_uptake = self._mean
        self.newton.solve(m_lin[:n], *newton, c_lin[:n], delta, out=mean_uptake[:n])
        return mean_uptake


def _total(array) -> float:
    """Sum accumulated in float64."""
    return float(np.sum(array, dtype=np.float64))
