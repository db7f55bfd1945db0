"""Conservative explicit interstitial transport: diffusion and convection (docs/model.md §6.3, §11.3).

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

import numpy as np

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


class BoxTransport:
    """NumPy fast path of :meth:`TransportOperator.advance` for the time loop.

    Cells outside the bounding box of the live cells (nonzero ``1/v_e``, surface outflow or
    an adjacent face coefficient) neither change nor exchange, so the Heun sub-steps run on
    that box (about half the grid for an organ), copied into a contiguous buffer: the
    neighbour along an axis is then a fixed flat offset, and every product is a contiguous
    1-D pass. Face coefficients are stored at their lower cell's flat position, zero where
    the offset wraps to the next row or plane (a face that does not exist), so those pairs
    add exactly zero. The operations are ``ops.transport_rate.rate_reference``'s and
    :meth:`TransportOperator.advance`'s, in their order: the same bits in the box.
    """

    def __init__(self, operator: TransportOperator):
        outflow = np.asarray(operator.surface_outflow)
        live = (operator.inverse_ve != 0) | (outflow != 0)
        for axis, (a, b) in enumerate(zip(operator.lower, operator.upper)):
            face = (a != 0) | (b != 0)
            live[axis_slice(axis, None, -1)] |= face
            live[axis_slice(axis, 1, None)] |= face
        cells = np.nonzero(live)
        self.box = tuple(slice(int(i.min()), int(i.max()) + 1) if i.size else slice(0, 0)
                         for i in cells)
        crop = lambda a: np.ascontiguousarray(a[self.box]).ravel()  # noqa: E731
        self.inverse_ve = crop(operator.inverse_ve)
        self.negative_outflow = -crop(outflow)
        shape = operator.inverse_ve[self.box].shape
        strides = (shape[1] * shape[2], shape[2], 1)
        self.faces = []
        for axis, (a, b, offset) in enumerate(zip(operator.lower, operator.upper, strides)):
            box = list(self.box)
            box[axis] = slice(box[axis].start, max(box[axis].stop - 1, box[axis].start))
            placed = []
            for coefficient in (a, b):
                at_lower_cell = np.zeros(shape, dtype=self.inverse_ve.dtype)
                at_lower_cell[axis_slice(axis, None, -1)] = coefficient[tuple(box)]
                placed.append(at_lower_cell.ravel()[:self.inverse_ve.size - offset].copy())
            self.faces.append((offset, *placed))
        self.surface = np.flatnonzero(crop(outflow))
        self.surface_outflow = crop(outflow)[self.surface]
        self._cells = [np.empty_like(self.inverse_ve) for _ in range(5)]
        self._face_buffers = [(np.empty_like(a), np.empty_like(a)) for _, a, _ in self.faces]

    def _rate(self, m, dm, c):
        """dm/dt into ``dm`` (``c`` is scratch); return the surface loss rate per surface cell."""
        np.multiply(m, self.inverse_ve, out=c)
        np.multiply(self.negative_outflow, c, out=dm)
        for (offset, a, b), (flux, other) in zip(self.faces, self._face_buffers):
            lower, upper = slice(None, dm.size - offset), slice(offset, None)
            np.multiply(a, c[lower], out=flux)
            np.multiply(b, c[upper], out=other)
            np.subtract(flux, other, out=flux)
            np.subtract(dm[lower], flux, out=dm[lower])
            np.add(dm[upper], flux, out=dm[upper])
        return self.surface_outflow * np.take(c, self.surface)

    def advance(self, m, dt: float, stable: float) -> float:
        """Advance ``m`` (a full array, changed in place) by ``dt``; return the float64 sum of
        the surface loss per cell over the step [kg/m³ · cells]."""
        if self.inverse_ve.size == 0:
            return 0.0
        steps = max(1, math.ceil(dt / stable - 1e-12))
        h = dt / steps
        state, k1, k2, stage, c = self._cells
        np.copyto(state.reshape(m[self.box].shape), m[self.box])
        lost = np.zeros_like(self.surface_outflow)
        for _ in range(steps):
            loss1 = self._rate(state, k1, c)
            np.multiply(h, k1, out=stage)
            np.add(state, stage, out=stage)
            loss2 = self._rate(stage, k2, c)
            np.add(k1, k2, out=k1)
            np.multiply(0.5 * h, k1, out=k1)
            np.add(state, k1, out=state)
            loss1 += loss2
            loss1 *= 0.5 * h
            lost += loss1
        m[self.box] = state.reshape(m[self.box].shape)
        return float(np.sum(lost, dtype=np.float64))
