"""Residual and red-black Gauss–Seidel half-sweep of the 7-point operator (``mg_smooth.cu``).

    residual:  r_i = b_i − (A x)_i
    smooth:    x_i ← x_i + w_i (b_i − (A x)_i)       where w_i ≠ 0

with ``(A x)_i = d_i x_i + Σ_a Σ_{j = i ± e_a} T_a,ij (x_i − x_j)``. Unlike ``stencil7``,
the face arrays here have the grid's shape: ``T_a[i]`` couples cell ``i`` with ``i + e_a``
and is zero on the last layer along ``a``. On the flattened C-ordered grid every face is
then the pair ``(v, v + s_a)`` (strides ``s = (n_y n_z, n_z, 1)``; the pairs that wrap
into the next row have ``T = 0``), so the NumPy reference works on contiguous 1-D slices,
about twice as fast as 3-D views.

The smoother of ``perfusion.solvers.multigrid`` passes ``w = D⁻¹`` (``D`` the diagonal of
``A``) on the cells of one colour, ``(i + j + k) mod 2 = c``, and 0 on the others: a cell
of one colour has neighbours of the other colour only, so this is an exact Gauss–Seidel
half-sweep, and the kernel updates in place without races. (The weights carry the colour
so that the NumPy update is two contiguous passes instead of strided ones.)
"""
from __future__ import annotations

from ..kernels import launch
from . import array_module, on_gpu


def strides(shape) -> tuple[int, int, int]:
    """Distance between face neighbours along each axis in the flattened C-ordered grid."""
    return shape[1] * shape[2], shape[2], 1


def residual_reference(tx, ty, tz, d, b, x):
    """``b − A x`` written against the array module (NumPy or CuPy)."""
    r = d * x
    array_module(x).subtract(b, r, out=r)
    flat_x, flat_r = x.reshape(-1), r.reshape(-1)
    for t, s in zip((tx, ty, tz), strides(x.shape)):
        flux = flat_x[:-s] - flat_x[s:]
        flux *= t.reshape(-1)[:-s]
        flat_r[:-s] -= flux
        flat_r[s:] += flux
    return r


def smooth_reference(tx, ty, tz, d, weight, b, x) -> None:
    """``x ← x + w (b − A x)``, in place (one colour's half-sweep when ``w`` is coloured)."""
    r = residual_reference(tx, ty, tz, d, b, x)
    r *= weight
    x += r


def residual_kernel(tx, ty, tz, d, b, x):
    """``b − A x`` by the CUDA kernel (CuPy arrays)."""
    r = array_module(x).empty_like(x)
    launch("mg_smooth", "mg_residual", x.size, tx, ty, tz, d, b, x, r, *x.shape)
    return r


def smooth_kernel(tx, ty, tz, d, weight, b, x) -> None:
    """The half-sweep by the CUDA kernel (CuPy arrays), in place."""
    launch("mg_smooth", "mg_smooth", x.size, tx, ty, tz, d, weight, b, x, *x.shape)


def residual(tx, ty, tz, d, b, x):
    """Kernel for CuPy arrays, reference for NumPy arrays."""
    return (residual_kernel if on_gpu(x) else residual_reference)(tx, ty, tz, d, b, x)


def smooth(tx, ty, tz, d, weight, b, x) -> None:
    """Kernel for CuPy arrays, reference for NumPy arrays."""
    (smooth_kernel if on_gpu(x) else smooth_reference)(tx, ty, tz, d, weight, b, x)
