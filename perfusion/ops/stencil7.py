"""Masked, variable-coefficient 7-point operator and its diagonal (kernel ``stencil7.cu``).

    y_i = d_i x_i + Σ_a Σ_{j = i ± e_a} T_a,ij (x_i − x_j),     D_i = d_i + Σ_a Σ_j T_a,ij

Face arrays ``T_a`` have one entry fewer along axis a; the grid box has no faces (no flux).
Arrays are C-ordered ``(nx, ny, nz)``. See ``perfusion.solvers.stencil`` for the physics.
"""
from __future__ import annotations

from ..kernels import launch
from . import array_module, axis_slice, on_gpu


def apply_reference(tx, ty, tz, d, x):
    """``A x`` written against the array module (NumPy or CuPy)."""
    y = d * x
    for axis, t in enumerate((tx, ty, tz)):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        flux = t * (x[lo] - x[hi])
        y[lo] += flux
        y[hi] -= flux
    return y


def diagonal_reference(tx, ty, tz, d):
    """The diagonal of ``A``."""
    diag = d.copy()
    for axis, t in enumerate((tx, ty, tz)):
        diag[axis_slice(axis, None, -1)] += t
        diag[axis_slice(axis, 1, None)] += t
    return diag


def apply_kernel(tx, ty, tz, d, x):
    """``A x`` by the CUDA kernel (CuPy arrays)."""
    y = _empty_like(x)
    launch("stencil7", "stencil7_apply", x.size, tx, ty, tz, d, x, y, *x.shape)
    return y


def diagonal_kernel(tx, ty, tz, d):
    """The diagonal by the CUDA kernel (CuPy arrays)."""
    y = _empty_like(d)
    launch("stencil7", "stencil7_diagonal", d.size, tx, ty, tz, d, y, *d.shape)
    return y


def _empty_like(array):
    return array_module(array).empty_like(array)


def apply(tx, ty, tz, d, x):
    """``A x``: the kernel for CuPy arrays, the reference for NumPy arrays."""
    return apply_kernel(tx, ty, tz, d, x) if on_gpu(x) else apply_reference(tx, ty, tz, d, x)


def diagonal(tx, ty, tz, d):
    """The diagonal of ``A``, dispatched like :func:`apply`."""
    return diagonal_kernel(tx, ty, tz, d) if on_gpu(d) else diagonal_reference(tx, ty, tz, d)
