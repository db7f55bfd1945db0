"""Fused vector updates of preconditioned CG (kernel ``cg_update.cu``), in place.

    update_solution:  x ← x + α p,  r ← r − α q,  z ← D⁻¹ r
    update_direction: p ← z + β p
"""
from __future__ import annotations

from ..compute.kernels import launch
from . import cpu_kernels, on_gpu


def update_solution_reference(x, r, z, p, q, inverse_diagonal, alpha: float) -> None:
    """In place, against the array module."""
    x += alpha * p
    r -= alpha * q
    z[...] = inverse_diagonal * r


def update_direction_reference(p, z, beta: float) -> None:
    """In place, against the array module (``z + β p``, same bits, no temporary)."""
    p *= beta
    p += z


def update_solution_kernel(x, r, z, p, q, inverse_diagonal, alpha: float) -> None:
    launch("cg_update", "cg_update_solution", x.size, x, r, z, p, q, inverse_diagonal,
           float(alpha), x.size)


def update_direction_kernel(p, z, beta: float) -> None:
    launch("cg_update", "cg_update_direction", p.size, p, z, float(beta), p.size)


def update_solution(x, r, z, p, q, inverse_diagonal, alpha: float) -> None:
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    (update_solution_kernel if on_gpu(x) or cpu_kernels() else update_solution_reference)(
        x, r, z, p, q, inverse_diagonal, alpha)


def update_direction(p, z, beta: float) -> None:
    (update_direction_kernel if on_gpu(p) or cpu_kernels() else update_direction_reference)(p, z, beta)
