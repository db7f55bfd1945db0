"""Pointwise plasma–tissue exchange, cell uptake and local losses (DESIGN §2.4).

Per voxel, with the plasma concentration ``c_p`` constant over a step ``Δt``:

    dm/dt = s − a m − U,        dc/dt = U − k_c c,
    s = (F_p E + (1 − σ_f) J_v⁺) c_p,
    a = (F_p E + (1 − σ_f) J_v⁻ + ℓ) / v_e + k_e,

``m = v_e c_e``, ``c = c_c``; ``F_p = (1 − Hct) F``; Renkin–Crone ``E = 1 − exp(−PS/F_p)``,
``PS = P · S/V``; ``J_v`` filtration per volume (``J_v⁺`` brings plasma drug in by solvent
drag, ``J_v⁻`` reabsorption takes ``c_e`` out); ``ℓ = max(L_pLS_L/V (p_i − p_L), 0)`` lymph
flow; ``k_e``, ``k_c`` local elimination; ``U`` cell uptake (``uptake``). Reverse exchange
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

from dataclasses import dataclass

from ..ops import array_module, pointwise

@dataclass(frozen=True)
class ExchangeCoefficients:
    """Per-voxel coefficients of the exchange (fixed while the perfusion is)."""

    clearance: object       # F_p E [1/s]
    drag_in: object         # (1 − σ_f) J_v⁺ [1/s]
    drag_out: object        # (1 − σ_f) J_v⁻ [1/s]
    lymph: object           # ℓ [1/s]
    elimination: object     # k_e [1/s]
    inverse_ve: object      # 1/v_e (0 outside)

    @classmethod
    def build(cls, xp, plasma_perfusion, permeability_surface, filtration, lymph_flow,
              solvent_drag_reflection, elimination_rate, inverse_ve):
        safe = xp.where(plasma_perfusion > 0, plasma_perfusion, 1)
        extraction = xp.where(plasma_perfusion > 0, -xp.expm1(-permeability_surface / safe), 0)
        transmission = 1 - solvent_drag_reflection
        inside = inverse_ve > 0
        return cls(clearance=plasma_perfusion * extraction,
                   drag_in=transmission * xp.maximum(filtration, 0),
                   drag_out=transmission * xp.maximum(-filtration, 0),
                   lymph=xp.maximum(lymph_flow, 0),
                   elimination=xp.where(inside, elimination_rate, 0), inverse_ve=inverse_ve)


    def astype(self, dtype) -> "ExchangeCoefficients":
        """Every coefficient as a full array of the working dtype (what the kernel expects)."""
        shape = self.inverse_ve.shape
        xp = array_module(self.inverse_ve)
        return ExchangeCoefficients(**{
            name: xp.ascontiguousarray(xp.broadcast_to(getattr(self, name), shape), dtype=dtype)
            for name in ("clearance", "drag_in", "drag_out", "lymph", "elimination", "inverse_ve")})


@dataclass(frozen=True)
class PointwiseAmounts:
    """Amounts per tissue volume moved during one step [kg/m³] (arrays)."""

    from_plasma: object    # plasma → tissue (exchange + solvent drag in − reabsorption)
    lymph: object          # tissue → lymph → body
    eliminated: object     # lost by local elimination (free and cell-bound)


def pointwise_step(k: ExchangeCoefficients, uptake, m, c, plasma_concentration, dt: float):
    """Advance (m, c) over ``dt``; return (m, c, PointwiseAmounts) (``ops.pointwise``)."""
    m, c, from_plasma, lymph, eliminated = pointwise.step(k, uptake, m, c, plasma_concentration, dt)
    return m, c, PointwiseAmounts(from_plasma=from_plasma, lymph=lymph, eliminated=eliminated)
