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

SERIES_BELOW = 1e-4


def phi_functions(xp, z):
    """(φ₁(z), φ₂(z)) evaluated stably (Taylor series near 0)."""
    small = xp.abs(z) < SERIES_BELOW
    safe = xp.where(small, 1.0, z)
    em1 = xp.expm1(safe)
    phi1 = xp.where(small, 1 + z / 2 + z * z / 6, em1 / safe)
    phi2 = xp.where(small, 0.5 + z / 6 + z * z / 24, (em1 - safe) / (safe * safe))
    return phi1, phi2


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


@dataclass(frozen=True)
class PointwiseAmounts:
    """Amounts per tissue volume moved during one step [kg/m³] (arrays)."""

    from_plasma: object    # plasma → tissue (exchange + solvent drag in − reabsorption)
    lymph: object          # tissue → lymph → body
    eliminated: object     # lost by local elimination (free and cell-bound)


def pointwise_step(xp, k: ExchangeCoefficients, uptake, m, c, plasma_concentration, dt: float):
    """Advance (m, c) over ``dt``; return (m, c, PointwiseAmounts)."""
    source = (k.clearance + k.drag_in) * plasma_concentration
    a = (k.clearance + k.drag_out + k.lymph) * k.inverse_ve + k.elimination
    phi1_m, phi2_m = phi_functions(xp, -a * dt)
    k_c = uptake.cell_elimination
    phi1_c, phi2_c = phi_functions(xp, xp.asarray(-k_c * dt))
    # m₁ = m_lin − β Ū and c₁ = c_lin + δ Ū
    beta, delta = dt * phi1_m, dt * phi1_c
    m_lin = m + (source - a * m) * beta
    c_lin = c - k_c * c * delta
    mean_uptake = uptake.step_mean(xp, m_lin, beta, c_lin, delta)
    free_integral = m * dt + (source - mean_uptake - a * m) * dt * dt * phi2_m
    bound_integral = c * dt + (mean_uptake - k_c * c) * dt * dt * phi2_c
    mean_ce = free_integral * k.inverse_ve
    amounts = PointwiseAmounts(
        from_plasma=source * dt - (k.clearance + k.drag_out) * mean_ce,
        lymph=k.lymph * mean_ce,
        eliminated=k.elimination * free_integral + k_c * bound_integral)
    return m_lin - beta * mean_uptake, c_lin + delta * mean_uptake, amounts
