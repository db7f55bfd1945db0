"""Cellular uptake models (DESIGN §2.4): the rate ``U(m, c)`` and its step-mean.

``m = v_e c_e`` free drug, ``c = c_c`` cell-bound drug, both per tissue volume.
``linear``: ``U = k_in m − k_out c``. ``saturable`` (El-Kareh & Secomb 2000):
``U = V_max [c_e/(c_e + v_e K_e) − c/(c + K_i)]``. Necrotic tissue takes up nothing.

The pointwise step (``exchange.pointwise_step``) holds ``U`` at a constant ``Ū`` over the
step and integrates the rest exactly, so the end state is linear in ``Ū``:
``m₁ = m_lin − m_slope Ū``, ``c₁ = c_lin + c_slope Ū`` (slopes > 0). ``Ū`` is then the root of
``g(Ū) = Ū − U(m₁(Ū), c₁(Ū))``, which increases strictly (``∂U/∂m ≥ 0 ≥ ∂U/∂c``): solved
directly when linear, by bracketed Newton when saturable. The budget does not depend on how
far the iteration went: ``Ū`` moves the same amount out of one pool and into the other.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConvergenceError
from ..ops.pointwise import newton_tolerance

NEWTON_ITERATIONS = 200


@dataclass(frozen=True)
class UptakeModel:
    """Per-voxel uptake parameters; ``kind`` is none, linear or saturable."""

    kind: str
    active: object            # bool array: cells that take up drug
    cell_elimination: float   # k_c [1/s]
    uptake_rate: float = 0.0  # k_in
    release_rate: float = 0.0  # k_out
    max_rate: float = 0.0     # V_max [kg/(m³ s)]
    extracellular_affinity: float = 1.0  # K_e [kg/m³]
    intracellular_affinity: float = 1.0  # K_i [kg/m³]
    extracellular_fraction: object = None  # v_e per voxel (1 outside tissue)

    def rate(self, xp, m, c):
        """U(m, c) [kg/(m³ s)] (zero where inactive)."""
        if self.kind == "none":
            return xp.zeros_like(m)
        if self.kind == "linear":
            u = self.uptake_rate * m - self.release_rate * c
        else:
            v_e = self.extracellular_fraction
            c_e = m / v_e
            u = self.max_rate * (c_e / (c_e + v_e * self.extracellular_affinity)
                                 - c / (c + self.intracellular_affinity))
        return xp.where(self.active, u, 0)

    def step_mean(self, xp, m_lin, m_slope, c_lin, c_slope):
        """The step-mean rate Ū with ``Ū = U(m_lin − m_slope Ū, c_lin + c_slope Ū)``."""
        if self.kind == "none":
            return xp.zeros_like(m_lin)
        if self.kind == "linear":
            u = (self.uptake_rate * m_lin - self.release_rate * c_lin) / (
                1 + self.uptake_rate * m_slope + self.release_rate * c_slope)
            return xp.where(self.active, u, 0)
        return self._saturable_mean(xp, m_lin, m_slope, c_lin, c_slope)

    def _saturable_mean(self, xp, m_lin, m_slope, c_lin, c_slope):
        """Bracketed Newton on the active voxels only (gathered into 1-D arrays)."""
        where = xp.nonzero(self.active)
        pick = lambda a: xp.broadcast_to(a, m_lin.shape)[where]  # noqa: E731
        v_e, m_l, m_s, c_l, c_s = (pick(a) for a in (self.extracellular_fraction, m_lin, m_slope,
                                                       c_lin, c_slope))
        k_e = v_e * self.extracellular_affinity
        k_i = self.intracellular_affinity
        lo = -c_l / c_s                 # c₁ = 0: U ≥ 0 > Ū there, so g < 0
        hi = m_l / m_s                  # m₁ = 0: U ≤ 0 < Ū there, so g > 0
        u = xp.zeros_like(m_l)
        tolerance = newton_tolerance(m_lin.dtype, self.max_rate)
        for _ in range(NEWTON_ITERATIONS):
            c_e = (m_l - m_s * u) / v_e
            c = c_l + c_s * u
            g = u - self.max_rate * (c_e / (c_e + k_e) - c / (c + k_i))
            if g.size == 0 or float(xp.max(xp.abs(g))) <= tolerance:
                result = xp.zeros_like(m_lin)
                result[where] = u
                return result
            slope = 1 + self.max_rate * (m_s * k_e / (v_e * (c_e + k_e) ** 2)
                                         + c_s * k_i / (c + k_i) ** 2)
            lo = xp.where(g < 0, u, lo)
            hi = xp.where(g > 0, u, hi)
            step = u - g / slope
            # a step just past a bracket end means the root is at that end (to rounding)
            margin = 1e-6 * (hi - lo)
            inside = (step >= lo - margin) & (step <= hi + margin)
            u = xp.where(inside, step, 0.5 * (lo + hi))
        raise ConvergenceError("saturable uptake: the pointwise step did not converge; reduce "
                               "simulation.max_step")
