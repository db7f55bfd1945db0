"""Conservative explicit interstitial transport: diffusion and convection (DESIGN §2.4, §3).

State ``m = v_e c_e`` (free drug per tissue volume). Across the face between cells a and b
along axis α (spacing h_α) the flux per unit cell volume, a → b, is

    f = D_f (c_a − c_b) + U_f ĉ_f,    D_f = (v_e D)_harm / h_α²,   U_f = u_f / h_α

with ``u_f`` the interstitial (Darcy) velocity on the face from the IFP solve, and
``ĉ_f`` the central average where the cell Péclet number ``|U_f|/D_f ≤ 2`` (second order,
monotone there) and the upwind value elsewhere (the hybrid scheme of Spalding 1972).
Where interstitial fluid leaves through the zero-pressure surface the cell loses
``r_out c_e`` (``r_out = Σ 2 K_i max(p_i, 0)/h²`` over its surface faces); fluid entering
there carries no drug. The tissue surface is otherwise closed to diffusion.

Time integration: Heun's method (SSP-RK2), sub-stepped so each sub-step is within the
forward-Euler positivity limit ``Δt ≤ 1 / max_a[(Σ_f D_f + |U_f|) + r_out]/v_e,a``. Every
update is a sum of face fluxes, so mass is conserved to round-off; the surface loss is
accumulated with the same weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..ops import axis_slice, transport_rate
from ..solvers.stencil import harmonic_faces

#: Fraction of the positivity limit used for the sub-step.
SAFETY = 0.9


@dataclass(frozen=True)
class TransportOperator:
    """Face coefficients of the interstitial transport of ``m = v_e c_e``."""

    diffusion: tuple             # D_f per axis [1/s]
    velocity: tuple              # U_f per axis [1/s], + along the axis
    surface_outflow: object      # r_out per cell [1/s]
    inverse_ve: object = field(repr=False)  # 1/v_e in tissue, 0 outside
    lower: tuple = field(repr=False, default=())   # A_f per axis: flux = A_f c_a − B_f c_b
    upper: tuple = field(repr=False, default=())   # B_f per axis

    @classmethod
    def build(cls, xp, effective_diffusivity, mask, spacing, face_velocity, surface_outflow,
              extracellular_fraction) -> "TransportOperator":
        """Assemble from ``v_e D`` per cell, face velocities [m/s] and surface outflow rates."""
        diffusion = harmonic_faces(effective_diffusivity, mask, spacing)
        velocity = tuple(u / h for u, h in zip(face_velocity, spacing))
        inverse = xp.where(mask, 1.0 / xp.where(mask, extracellular_fraction, 1), 0)
        dtype = inverse.dtype
        diffusion = tuple(d.astype(dtype) for d in diffusion)
        velocity = tuple(u.astype(dtype) for u in velocity)
        pairs = [transport_rate.face_coefficients(d, u) for d, u in zip(diffusion, velocity)]
        return cls(diffusion, velocity, xp.where(mask, surface_outflow, 0).astype(dtype), inverse,
                   lower=tuple(a for a, _ in pairs), upper=tuple(b for _, b in pairs))

    def rate(self, m):
        """(dm/dt, surface loss rate per cell) for the state ``m`` (``ops.transport_rate``)."""
        return transport_rate.rate(*self.lower, *self.upper, self.surface_outflow,
                                   self.inverse_ve, m)

    def stable_step(self, xp) -> float:
        """Largest forward-Euler step that keeps every cell non-negative [s]."""
        total = self.surface_outflow.copy()
        for axis, (d, u) in enumerate(zip(self.diffusion, self.velocity)):
            coefficient = d + xp.abs(u)
            total[axis_slice(axis, None, -1)] += coefficient
            total[axis_slice(axis, 1, None)] += coefficient
        largest = float(xp.max(total * self.inverse_ve))
        return math.inf if largest <= 0 else SAFETY / largest

    def advance(self, m, dt: float, xp, stable: float | None = None):
        """Advance ``m`` by ``dt`` with Heun sub-steps; return (m, surface loss per cell)."""
        stable = self.stable_step(xp) if stable is None else stable
        steps = max(1, math.ceil(dt / stable - 1e-12))
        h = dt / steps
        lost = xp.zeros_like(m)
        for _ in range(steps):
            k1, loss1 = self.rate(m)
            stage = m + h * k1
            k2, loss2 = self.rate(stage)
            m = m + 0.5 * h * (k1 + k2)
            lost += 0.5 * h * (loss1 + loss2)
        return m, lost
