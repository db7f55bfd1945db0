"""Per-voxel exchange, uptake, lymph and elimination over one step (kernel ``pointwise.cu``).

The exponential-implicit step of ``perfusion.transport.exchange`` (its docstring gives the
equations): ``m`` and ``c`` are advanced exactly with the uptake rate held at its implicit
step mean ``Ū``, and the amounts moved are returned per voxel. The reference solves ``Ū``
for all voxels at once (vectorised bracketed Newton); the kernel runs one bracketed Newton
per thread. Both stop at ``|g| ≤ max(1e-12, 64 ε) V_max``, so they agree to that. The rule
is the same on both paths: converged when ``|g(Ū)| ≤`` that tolerance at one of the first
:data:`NEWTON_ITERATIONS` iterates (all voxels at once in the reference, per voxel in the
kernel); a collapsed bracket (``hi − lo ≤ 0``) is not an exit. Otherwise the reference raises
:class:`perfusion.errors.ConvergenceError`, and the kernel sets its voxel's ``unconverged``
flag, on which the launcher raises the same error (:data:`NOT_CONVERGED`).

First-order metabolism ``CL_int`` (``k.metabolism``) adds to ``a`` and is returned apart
(``metabolised = CL_int ∫m``). Saturable (Michaelis–Menten) metabolism (``k.saturable``) is
solved on this NumPy reference only, with ``Ū`` (``k.saturable.joint_mean``); the kernel path
refuses it (:class:`perfusion.errors.BackendUnavailableError`).
"""
from __future__ import annotations

import numpy as np

from ..compute.kernels import launch
from ..errors import BackendUnavailableError, ConvergenceError
from . import array_module, cpu_kernels, on_gpu

SERIES_BELOW = 1e-4
KINDS = {"none": 0, "linear": 1, "saturable": 2}
NEWTON_ITERATIONS = 200   # iterates of the saturable bracketed Newton (reference and kernel)
NOT_CONVERGED = ("saturable uptake: the pointwise step did not converge; reduce "
                 "simulation.max_step")


def newton_tolerance(dtype, max_rate: float) -> float:
    """Residual at which the saturable Newton iteration stops [kg/(m³ s)]."""
    return max(1e-12, 64 * float(np.finfo(dtype).eps)) * max_rate


def phi_functions(xp, z):
    """(φ₁(z), φ₂(z)) = ((eᶻ − 1)/z, (eᶻ − 1 − z)/z²), with Taylor series near 0."""
    small = xp.abs(z) < SERIES_BELOW
    safe = xp.where(small, 1.0, z)
    em1 = xp.expm1(safe)
    phi1 = xp.where(small, 1 + z / 2 + z * z / 6, em1 / safe)
    phi2 = xp.where(small, 0.5 + z / 6 + z * z / 24, (em1 - safe) / (safe * safe))
    return phi1, phi2


def step_reference(k, uptake, m, c, plasma, dt: float):
    """(m, c, from_plasma, lymph, eliminated, metabolised) after ``dt``, against the array module."""
    xp = array_module(m)
    source = (k.clearance + k.drag_in) * plasma
    a = (k.clearance + k.drag_out + k.lymph) * k.inverse_ve + k.elimination + k.metabolism
    phi1_m, phi2_m = phi_functions(xp, -a * dt)
    k_c = uptake.cell_elimination
    phi1_c, phi2_c = phi_functions(xp, xp.asarray(-k_c * dt, dtype=m.dtype))
    beta, delta = dt * phi1_m, dt * phi1_c
    m_lin = m + (source - a * m) * beta
    c_lin = c - k_c * c * delta
    if k.saturable is None:
        mean_uptake = uptake.step_mean(xp, m_lin, beta, c_lin, delta)
        free_loss, metabolised = mean_uptake, 0.0
    else:
        mean_uptake, mean_rate = k.saturable.joint_mean(xp, uptake, m_lin, beta, c_lin, delta)
        free_loss, metabolised = mean_uptake + mean_rate, mean_rate * dt
    free_integral = m * dt + (source - free_loss - a * m) * dt * dt * phi2_m
    bound_integral = c * dt + (mean_uptake - k_c * c) * dt * dt * phi2_c
    mean_ce = free_integral * k.inverse_ve
    return (m_lin - beta * free_loss, c_lin + delta * mean_uptake,
            source * dt - (k.clearance + k.drag_out) * mean_ce, k.lymph * mean_ce,
            k.elimination * free_integral + k_c * bound_integral,
            k.metabolism * free_integral + metabolised)


def step_kernel(k, uptake, m, c, plasma, dt: float):
    """The same by the kernel (CuPy arrays, or NumPy arrays compiled for the CPU); ``m`` and
    ``c`` are not modified. Raises :class:`ConvergenceError` where a voxel's Newton did not
    converge (its ``unconverged`` flag)."""
    if k.saturable is not None:
        raise BackendUnavailableError(
            "saturable (Michaelis–Menten) metabolism runs on the NumPy backend only: set "
            "simulation.backend = \"numpy\", or give the class a first-order "
            "intrinsic_clearance (drug.metabolism.<class>)")
    xp = array_module(m)
    m, c = m.copy(), c.astype(m.dtype, copy=True)
    from_plasma, lymph, eliminated, metabolised = (xp.empty_like(m) for _ in range(4))
    full = lambda a: xp.ascontiguousarray(xp.broadcast_to(xp.asarray(a, dtype=m.dtype), m.shape))  # noqa: E731
    active = xp.broadcast_to(xp.asarray(uptake.active if uptake.active is not None else False),
                             m.shape).astype(xp.uint8)
    v_e = uptake.extracellular_fraction if uptake.extracellular_fraction is not None else 1.0
    unconverged = xp.empty(m.shape, dtype=xp.uint8)
    launch("pointwise", "pointwise_step", m.size, full(k.clearance), full(k.drag_in),
           full(k.drag_out), full(k.lymph), full(k.elimination), full(k.metabolism),
           full(k.inverse_ve), full(plasma), active, full(v_e), m, c, from_plasma, lymph,
           eliminated, metabolised, float(dt),
           KINDS[uptake.kind], float(uptake.uptake_rate), float(uptake.release_rate),
           float(uptake.max_rate), float(uptake.extracellular_affinity),
           float(uptake.intracellular_affinity), float(uptake.cell_elimination),
           newton_tolerance(m.dtype, uptake.max_rate), NEWTON_ITERATIONS, unconverged, m.size)
    if uptake.kind == "saturable" and int(xp.count_nonzero(unconverged)):
        raise ConvergenceError(NOT_CONVERGED)
    return m, c, from_plasma, lymph, eliminated, metabolised


def step(k, uptake, m, c, plasma, dt: float):
    """Kernel for CuPy arrays and (compiled) NumPy arrays, else the reference; saturable
    metabolism always runs the reference on NumPy arrays."""
    kernel = on_gpu(m) or (cpu_kernels() and k.saturable is None)
    return (step_kernel if kernel else step_reference)(k, uptake, m, c, plasma, dt)
