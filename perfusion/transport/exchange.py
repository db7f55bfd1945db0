"""Pointwise plasma–tissue exchange and local losses, integrated exactly (DESIGN §2.4).

Per voxel, with the plasma concentration ``c_p`` constant over a step of length ``Δt``:

    dm/dt = s − a m,
    s = (F_p E + (1 − σ_f) J_v⁺) c_p,
    a = (F_p E + (1 − σ_f) J_v⁻ + ℓ) / v_e + k_e,

``m = v_e c_e``; ``F_p = (1 − Hct) F`` plasma perfusion; Renkin–Crone extraction
``E = 1 − exp(−PS/F_p)`` with ``PS = P · S/V``; ``J_v`` filtration per volume (``J_v⁺`` carries
plasma drug in by solvent drag, ``J_v⁻ = max(−J_v, 0)`` reabsorption carries ``c_e`` out);
``ℓ = max(L_pLS_L/V (p_i − p_L), 0)`` lymph flow; ``k_e`` local elimination. Reverse exchange
(``c_e > c_p``) follows from the same formula — nothing is clipped.

The exact solution ``m(Δt) = m₀ + (s − a m₀) Δt φ₁(−aΔt)`` and its time integral
``∫m = m₀Δt + (s − a m₀) Δt² φ₂(−aΔt)`` (φ₁(z) = (eᶻ − 1)/z, φ₂(z) = (eᶻ − 1 − z)/z²) give
every flux's amount over the step, so the budget closes to round-off.
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
    """Per-voxel coefficients of the exchange step (fixed while the perfusion is)."""

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
class ExchangeAmounts:
    """Amounts per tissue volume moved during one step [kg/m³] (arrays)."""

    from_plasma: object    # plasma → tissue (exchange + solvent drag in − reabsorption)
    lymph: object          # tissue → lymph → body
    eliminated: object     # lost by local elimination


def exchange_step(xp, coefficients: ExchangeCoefficients, m, plasma_concentration, dt: float):
    """Advance ``m`` over ``dt`` exactly; return (m, ExchangeAmounts)."""
    k = coefficients
    source = (k.clearance + k.drag_in) * plasma_concentration
    a = (k.clearance + k.drag_out + k.lymph) * k.inverse_ve + k.elimination
    phi1, phi2 = phi_functions(xp, -a * dt)
    slope = source - a * m
    integral = m * dt + slope * dt * dt * phi2
    new = m + slope * dt * phi1
    mean_ce = integral * k.inverse_ve
    amounts = ExchangeAmounts(
        from_plasma=source * dt - (k.clearance + k.drag_out) * mean_ce,
        lymph=k.lymph * mean_ce, eliminated=k.elimination * integral)
    return new, amounts
