"""Interstitial fluid pressure (IFP) after Baxter & Jain 1989 (docs/model.md §5).

    −∇·(K_i ∇p_i) = L_pS/V (p_c − p_i − σ_T(π_v − π_i)) − L_pLS_L/V (p_i − p_L)

``K_i`` interstitial conductivity, ``L_pS/V = L_p · S/V`` filtration coefficient (zero in
a necrotic core), ``p_c`` microvascular pressure, ``σ_T`` osmotic reflection coefficient,
``π_v/π_i`` oncotic pressures, ``L_pLS_L/V`` lymphatic conductance to pressure ``p_L``.
Tissue surface: ``p_i = 0`` (``zero-pressure``, half a cell outside the last voxel) or no
flux (``no-flux``). Outputs: ``p_i``, the interstitial velocity ``u_i = −K_i ∇p_i`` (on
faces, and averaged to cell centres), filtration ``J_v/V`` [1/s] and lymph flow [1/s].
Fluid balance: ``∫ J_v/V − lymph dV`` = outflow through the surface.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..domain import Domain
from ..errors import GeometryError
from ..solvers.cg import SolveReport, conjugate_gradient
from ..ops import axis_slice
from ..solvers.stencil import masked_stencil, surface_faces


@dataclass(frozen=True)
class InterstitialField:
    """Steady interstitial fluid state."""

    pressure: object           # p_i [Pa]
    velocity: object           # cell-centred u_i [m/s], shape grid + (3,)
    face_velocity: tuple = field(repr=False)  # u on interior faces along each axis [m/s]
    filtration: object = None  # J_v/V [1/s]
    lymph: object = None       # L_pLS_L/V (p_i − p_L) [1/s]
    surface_outflow_rate: object = None  # per cell: fluid leaving through the surface [1/s]
    surface_outflow: float = 0.0   # fluid leaving through the tissue surface [m³/s]
    balance_error: float = 0.0     # |∫(J_v − lymph) − outflow| / ∫|J_v|
    report: SolveReport | None = None


def solve_interstitial(case, domain: Domain) -> InterstitialField:
    """Solve the steady IFP of the case's domain."""
    be, xp = domain.backend, domain.backend.xp
    prop = domain.property_field
    k_i = prop("interstitial_conductivity")
    filtration_coef = prop("vessel_wall_conductivity") * prop("vascular_surface_density")
    lymph_coef = prop("lymphatic_conductance")
    effective = prop("capillary_pressure") - prop("osmotic_reflection") * (
        prop("plasma_oncotic_pressure") - prop("interstitial_oncotic_pressure"))
    dirichlet = case.interstitial.boundary == "zero-pressure"
    surface = surface_faces(k_i, domain.mask, domain.spacing) if dirichlet else xp.zeros_like(k_i)
    _check_well_posed(domain, filtration_coef + lymph_coef + surface)
    stencil = masked_stencil(k_i, filtration_coef + lymph_coef + surface, domain.mask, domain.spacing)
    rhs = xp.where(domain.mask, filtration_coef * effective + lymph_coef * prop("lymphatic_pressure"), 0)
    solver = case.solver
    pressure, report = conjugate_gradient(stencil, rhs, be, name="interstitial pressure",
                                          tolerance=solver.tolerance,
                                          max_iterations=solver.max_iterations,
                                          **solver.preconditioning())
    filtration = xp.where(domain.mask, filtration_coef * (effective - pressure), 0)
    lymph = xp.where(domain.mask, lymph_coef * (pressure - prop("lymphatic_pressure")), 0)
    outflow = be.sum(surface * pressure) * domain.voxel_volume
    outflow_rate = surface * xp.maximum(pressure, 0)
    source = be.sum(filtration - lymph) * domain.voxel_volume
    scale = be.sum(xp.abs(filtration)) * domain.voxel_volume or 1.0
    faces = tuple(flux * h for flux, h in zip(stencil.face_flux(pressure), domain.spacing))
    return InterstitialField(
        pressure=pressure, velocity=_cell_velocity(faces, dirichlet, pressure, k_i, domain),
        face_velocity=faces, filtration=filtration, lymph=lymph,
        surface_outflow_rate=outflow_rate, surface_outflow=outflow,
        balance_error=abs(source - outflow) / scale, report=report)


def _cell_velocity(faces, dirichlet: bool, pressure, k_i, domain: Domain):
    """Cell-centred velocity: the mean of each cell's two faces along each axis.

    Interior faces carry ``u = flux·h``; a face on the zero-pressure surface carries
    ``u = 2 K_i p / h`` outward; no-flux faces and the grid box carry 0.
    """
    xp = domain.backend.xp
    mask = domain.mask
    velocity = xp.zeros((*domain.shape, 3), dtype=pressure.dtype)
    for axis, (u, h) in enumerate(zip(faces, domain.spacing)):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        low_face = xp.zeros_like(pressure)
        high_face = xp.zeros_like(pressure)
        high_face[lo] = u
        low_face[hi] = u
        if dirichlet:
            boundary = 2 * k_i * pressure / h
            outside_below = xp.zeros(domain.shape, dtype=bool)
            outside_above = xp.zeros(domain.shape, dtype=bool)
            outside_below[hi] = ~mask[lo]
            outside_above[lo] = ~mask[hi]
            low_face = xp.where(outside_below, -boundary, low_face)
            high_face = xp.where(outside_above, boundary, high_face)
        velocity[..., axis] = xp.where(mask, 0.5 * (low_face + high_face), 0)
    return velocity


def _check_well_posed(domain: Domain, reaction) -> None:
    """Every connected piece of tissue needs some filtration, lymphatics or a surface."""
    components, count = ndimage.label(domain.labels > 0)
    has_term = ndimage.maximum(domain.backend.to_host(reaction) > 0, components,
                               index=np.arange(1, count + 1))
    if not np.all(has_term):
        raise GeometryError(
            "interstitial.boundary: with no-flux on the surface, a piece of tissue with no "
            "filtration and no lymphatics has no defined pressure; use boundary = "
            "\"zero-pressure\" or give its class lymphatic_conductance > 0")
