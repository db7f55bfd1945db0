"""Multigrid restriction and prolongation (kernel ``mg_transfer.cu``).

Coarse cell ``I`` holds the fine cells ``i = f_a I_a + o_a`` (``o_a < f_a``) with factor
``f_a = 2`` along coarsened axes and 1 elsewhere; coarse sizes are ``ceil(n_a / f_a)``, so
an odd size leaves the last coarse cell one fine cell thick.

    restrict:  r_c[I] = Σ_{i ∈ I} r[i]                 (R = Pᵀ)
    prolong:   x[i] ← x[i] + e_c[parent(i)]           (piecewise-constant P), in place
"""
from __future__ import annotations

import itertools

from ..compute.kernels import launch
from . import array_module, cpu_kernels, on_gpu


def factors(fine_shape, coarse_shape) -> tuple[int, int, int]:
    """Coarsening factor per axis (2 where the coarse grid is smaller, else 1)."""
    return tuple(2 if m < n else 1 for n, m in zip(fine_shape, coarse_shape))


def _children(fine_shape, coarse_shape):
    """(fine strided view index, coarse index of the same shape) for each child offset."""
    steps = factors(fine_shape, coarse_shape)
    for offset in itertools.product(*(range(f) for f in steps)):
        fine = tuple(slice(o, None, f) for o, f in zip(offset, steps))
        coarse = tuple(slice(0, -(-(n - o) // f)) for n, o, f in zip(fine_shape, offset, steps))
        yield fine, coarse


def restrict_reference(fine, coarse_shape, out=None):
    """``Pᵀ r`` written against the array module, into ``out`` if given."""
    coarse = array_module(fine).empty(coarse_shape, dtype=fine.dtype) if out is None else out
    children = _children(fine.shape, coarse_shape)
    first, _ = next(children)  # the first child of every coarse cell
    coarse[...] = fine[first]
    for fine_cells, coarse_cells in children:
        coarse[coarse_cells] += fine[fine_cells]
    return coarse


def prolong_reference(coarse, fine) -> None:
    """``x ← x + P e_c``, in place."""
    for fine_cells, coarse_cells in _children(fine.shape, coarse.shape):
        fine[fine_cells] += coarse[coarse_cells]


def restrict_kernel(fine, coarse_shape, out=None):
    """``Pᵀ r`` by the CUDA kernel (CuPy arrays), into ``out`` if given."""
    coarse = array_module(fine).empty(coarse_shape, dtype=fine.dtype) if out is None else out
    launch("mg_transfer", "mg_restrict", coarse.size, fine, coarse, *fine.shape,
           *factors(fine.shape, coarse_shape))
    return coarse


def prolong_kernel(coarse, fine) -> None:
    """``x ← x + P e_c`` by the CUDA kernel (CuPy arrays), in place."""
    launch("mg_transfer", "mg_prolong", fine.size, coarse, fine, *fine.shape,
           *factors(fine.shape, coarse.shape))


def restrict(fine, coarse_shape, out=None):
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    return (restrict_kernel if on_gpu(fine) or cpu_kernels() else restrict_reference)(fine, coarse_shape, out)


def prolong(coarse, fine) -> None:
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    (prolong_kernel if on_gpu(fine) or cpu_kernels() else prolong_reference)(coarse, fine)
