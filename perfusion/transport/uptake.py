"""Cellular uptake models (docs/model.md §6.4): the rate ``U(m, c)`` and its step-mean.

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

import numpy as np

from ..errors import ConvergenceError
from ..ops.pointwise import NEWTON_ITERATIONS, NOT_CONVERGED, newton_tolerance


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
        raise ConvergenceError(NOT_CONVERGED)


class SaturableNewton:
    """NumPy fast path of :meth:`UptakeModel._saturable_mean` on 1-D arrays of active voxels.

    The same operations in the same order (so the same bits), written into buffers allocated
    once instead of some thirty fresh temporaries per iteration. ``v_e`` is per active voxel;
    :meth:`solve` takes the per-step ``m_lin``, ``c_lin`` and the per-Δt slopes, with
    ``m_slope k_e`` precomputed by the caller (it is constant for a given Δt).
    """

    def __init__(self, model: UptakeModel, v_e):
        self.v_e = v_e
        self.k_e = v_e * model.extracellular_affinity
        self.k_i = model.intracellular_affinity
        self.max_rate = model.max_rate
        self.tolerance = newton_tolerance(v_e.dtype, model.max_rate)
        self._buffers = [np.empty_like(v_e) for _ in range(10)]
        self._flags = [np.empty(v_e.shape, dtype=bool) for _ in range(2)]

    def solve(self, m_l, m_s, m_s_k_e, c_l, c_s, out):
        """Ū per active voxel, written into ``out``, with ``Ū = U(m_l − m_s Ū, c_l + c_s Ū)``."""
        if m_l.size == 0:
            return out
        v_e, k_e, k_i, v_max = self.v_e, self.k_e, self.k_i, self.max_rate
        c_e, c, e, f, g, t, s, step, lo, hi = self._buffers
        below, above = self._flags
        c_s_k_i = c_s * k_i
        np.negative(c_l, out=lo)
        np.divide(lo, c_s, out=lo)      # c₁ = 0: g < 0 there
        np.divide(m_l, m_s, out=hi)     # m₁ = 0: g > 0 there
        u = out
        u[...] = 0
        for _ in range(NEWTON_ITERATIONS):
            np.multiply(m_s, u, out=t)
            np.subtract(m_l, t, out=t)
            np.divide(t, v_e, out=c_e)
            np.multiply(c_s, u, out=c)
            np.add(c_l, c, out=c)
            np.add(c_e, k_e, out=e)
            np.divide(c_e, e, out=t)
            np.add(c, k_i, out=f)
            np.divide(c, f, out=s)
            np.subtract(t, s, out=t)
            np.multiply(v_max, t, out=t)
            np.subtract(u, t, out=g)
            if float(np.abs(g, out=step).max()) <= self.tolerance:
                return u
            np.square(e, out=e)
            np.multiply(v_e, e, out=e)
            np.divide(m_s_k_e, e, out=t)
            np.square(f, out=f)
            np.divide(c_s_k_i, f, out=s)
            np.add(t, s, out=t)
            np.multiply(v_max, t, out=t)
            np.add(1, t, out=t)           # the slope ∂g/∂Ū
            np.less(g, 0, out=below)
            np.copyto(lo, u, where=below)
            np.greater(g, 0, out=above)
            np.copyto(hi, u, where=above)
            np.divide(g, t, out=step)
            np.subtract(u, step, out=step)
            np.subtract(hi, lo, out=t)
            np.multiply(1e-6, t, out=t)   # margin
            np.subtract(lo, t, out=s)
            np.greater_equal(step, s, out=below)
            np.add(hi, t, out=s)
            np.less_equal(step, s, out=above)
            np.logical_and(below, above, out=below)
            np.add(lo, hi, out=s)
            np.multiply(0.5, s, out=s)
            np.copyto(s, step, where=below)
            np.copyto(u, s)
        raise ConvergenceError(NOT_CONVERGED)
