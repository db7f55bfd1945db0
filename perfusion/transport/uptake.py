"""Cellular uptake, release and elimination of cell-bound drug, implicit (DESIGN §2.4).

    dm/dt = −U(m, c),   dc/dt = U(m, c) − k_c c,   m = v_e c_e (free), c = c_c (cell-bound)

``linear``: ``U = k_in m − k_out c``. ``saturable`` (El-Kareh & Secomb 2000):
``U = V_max [c_e/(c_e + v_e K_e) − c/(c + K_i)]``. Backward Euler over the step; adding the
two equations gives ``c₁ = (m₀ + c₀ − m₁)/(1 + Δt k_c)`` exactly, leaving one increasing
scalar equation ``g(m₁) = m₁ − m₀ + Δt U(m₁, c₁(m₁)) = 0`` per voxel: solved directly when
linear, by bracketed Newton when saturable. Mass is conserved by construction (the
eliminated amount is ``Δt k_c c₁``) however far the iteration went. Necrotic tissue has no
uptake (``U = 0`` there).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConvergenceError

NEWTON_ITERATIONS = 60
NEWTON_TOLERANCE = 1e-13


@dataclass(frozen=True)
class UptakeModel:
    """Per-voxel uptake parameters; ``kind`` is none, linear or saturable."""

    kind: str
    active: object            # bool array: cells that take up drug
    cell_elimination: float   # k_c [1/s]
    uptake_rate: float = 0.0  # k_in
    release_rate: float = 0.0  # k_out
    max_rate: float = 0.0     # V_max [kg/(m³ s)]
    extracellular_affinity: float = 0.0  # K_e [kg/m³]
    intracellular_affinity: float = 0.0  # K_i [kg/m³]
    extracellular_fraction: object = None  # v_e per voxel

    def rate(self, xp, m, c):
        """U(m, c) [kg/(m³ s)] (zero where inactive)."""
        if self.kind == "linear":
            u = self.uptake_rate * m - self.release_rate * c
        else:
            v_e = self.extracellular_fraction
            c_e = m / v_e
            u = self.max_rate * (c_e / (c_e + v_e * self.extracellular_affinity)
                                 - c / (c + self.intracellular_affinity))
        return xp.where(self.active, u, 0)


def uptake_step(xp, model: UptakeModel, m, c, dt: float):
    """Advance (m, c) by ``dt``; return (m, c, eliminated amount per volume)."""
    if model.kind == "none":
        factor = 1.0 / (1.0 + dt * model.cell_elimination)
        new_c = c * factor
        return m, new_c, c - new_c
    total = m + c
    damping = 1.0 / (1.0 + dt * model.cell_elimination)
    if model.kind == "linear":
        k_in = xp.where(model.active, model.uptake_rate, 0)
        k_out = xp.where(model.active, model.release_rate, 0)
        new_m = (m + dt * k_out * total * damping) / (1 + dt * k_in + dt * k_out * damping)
    else:
        new_m = _solve_saturable(xp, model, m, total, damping, dt)
    new_c = (total - new_m) * damping
    return new_m, new_c, dt * model.cell_elimination * new_c


def _solve_saturable(xp, model: UptakeModel, m0, total, damping, dt):
    """Bracketed Newton for g(m₁) = m₁ − m₀ + Δt U(m₁, c₁(m₁)) on [0, m₀ + c₀]."""
    v_e = model.extracellular_fraction
    k_e = model.extracellular_affinity * v_e
    k_i = model.intracellular_affinity
    lo, hi = xp.zeros_like(m0), total.copy()
    m = m0.copy()
    scale = xp.maximum(total, 1e-300)
    for _ in range(NEWTON_ITERATIONS):
        c = (total - m) * damping
        c_e = m / v_e
        g = m - m0 + dt * xp.where(model.active, model.max_rate * (
            c_e / (c_e + k_e) - c / (c + k_i)), 0)
        slope = 1 + dt * xp.where(model.active, model.max_rate * (
            k_e / (v_e * (c_e + k_e) ** 2) + damping * k_i / (c + k_i) ** 2), 0)
        lo = xp.where(g < 0, m, lo)
        hi = xp.where(g > 0, m, hi)
        if float(xp.max(xp.abs(g) / scale)) < NEWTON_TOLERANCE:
            return m
        step = m - g / slope
        m = xp.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
    raise ConvergenceError("saturable uptake: the implicit step did not converge; reduce "
                           "simulation.max_step")
