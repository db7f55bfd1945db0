"""Residual and red-black Gauss–Seidel half-sweep of the 7-point operator (``mg_smooth.cu``).

    residual:  r_i = b_i − (A x)_i
    smooth:    x_i ← x_i + w_i (b_i − (A x)_i)       where w_i ≠ 0

with ``(A x)_i = d_i x_i + Σ_a Σ_{j = i ± e_a} T_a,ij (x_i − x_j)``. Unlike ``stencil7``,
the face arrays here have the grid's shape: ``T_a[i]`` couples cell ``i`` with ``i + e_a``
and is zero on the last layer along ``a``. On the flattened C-ordered grid every face is
then the pair ``(v, v + s_a)`` (strides ``s = (n_y n_z, n_z, 1)``; the pairs that wrap
into the next row have ``T = 0``), so the NumPy reference works on contiguous 1-D slices.
It runs slab by slab (``slabs``: whole x-planes, about ``SLAB_BYTES`` per array), so the
flux temporaries and the result stay in cache while the inputs are read once: 2.8× faster
than whole-array passes on a 126×118×110 float32 grid, with bitwise the same result.

The smoother of ``perfusion.solvers.multigrid`` passes ``w = D⁻¹`` (``D`` the diagonal of
``A``) on the cells of one colour, ``(i + j + k) mod 2 = c``, and 0 on the others: a cell
of one colour has neighbours of the other colour only, so this is an exact Gauss–Seidel
half-sweep, and the kernel updates in place without races. The reference computes every
residual from the incoming ``x`` for any ``w`` (a slab's update is written only after the
next slab's residual has been read).
"""
from __future__ import annotations

from ..compute.kernels import launch
from . import array_module, cpu_kernels, on_gpu

#: Bytes of one array's slab in the NumPy reference (about L2-sized).
SLAB_BYTES = 2**19


def strides(shape) -> tuple[int, int, int]:
    """Distance between face neighbours along each axis in the flattened C-ordered grid."""
    return shape[1] * shape[2], shape[2], 1


def slabs(shape, itemsize: int):
    """Flat ranges ``(start, stop)`` of whole x-planes, about ``SLAB_BYTES`` per array."""
    plane = shape[1] * shape[2]
    planes = max(1, SLAB_BYTES // max(1, plane * itemsize))
    return [(i * plane, min(shape[0], i + planes) * plane)
            for i in range(0, shape[0], planes)]


def residual_reference(tx, ty, tz, d, b, x, out=None):
    """``b − A x`` written against the array module (NumPy or CuPy), into ``out`` if given."""
    xp = array_module(x)
    r = xp.empty_like(x) if out is None else out
    flat = _Flat(tx, ty, tz, d, b, x)
    scratch = xp.empty(flat.scratch_size, dtype=x.dtype)
    flat_r = r.reshape(-1)
    for start, stop in flat.slabs:
        flat.residual(start, stop, flat_r[start:stop], scratch)
    return r


def smooth_reference(tx, ty, tz, d, weight, b, x) -> None:
    """``x ← x + w (b − A x)``, in place (one colour's half-sweep when ``w`` is coloured)."""
    if not x.flags.c_contiguous:
        raise ValueError("smooth_reference updates x in place: x must be C-contiguous")
    xp = array_module(x)
    flat = _Flat(tx, ty, tz, d, b, x)
    flat_w = weight.reshape(-1)
    scratch = xp.empty(flat.scratch_size, dtype=x.dtype)
    slab_size = max(stop - start for start, stop in flat.slabs)
    buffers = [xp.empty(slab_size, dtype=x.dtype) for _ in range(2)]
    pending = None
    for index, (start, stop) in enumerate(flat.slabs):
        r = buffers[index % 2][:stop - start]
        flat.residual(start, stop, r, scratch)
        r *= flat_w[start:stop]
        if pending is not None:  # this slab's residual has read the previous slab's old x
            flat.x[pending[0]:pending[1]] += pending[2]
        pending = (start, stop, r)
    flat.x[pending[0]:pending[1]] += pending[2]


class _Flat:
    """The flattened operands of one call and the residual of one slab."""

    def __init__(self, tx, ty, tz, d, b, x):
        self.faces = [(t.reshape(-1), s) for t, s in zip((tx, ty, tz), strides(x.shape))]
        self.d, self.b, self.x = d.reshape(-1), b.reshape(-1), x.reshape(-1)
        self.slabs = slabs(x.shape, x.dtype.itemsize)
        self.scratch_size = max(stop - start for start, stop in self.slabs) + strides(x.shape)[0]

    def residual(self, start: int, stop: int, r, scratch) -> None:
        """``r = (b − A x)[start:stop]``; flux ``v`` is ``T[v] (x[v] − x[v + s])``, taken from
        ``r[v]`` and given to ``r[v + s]``, in the order of the whole-array formula."""
        xp, x, size = array_module(r), self.x, self.x.size
        xp.multiply(self.d[start:stop], x[start:stop], out=r)
        xp.subtract(self.b[start:stop], r, out=r)
        for t, s in self.faces:
            lo, hi = max(start - s, 0), min(stop, size - s)  # the fluxes that reach the slab
            if hi <= lo:
                continue
            flux = scratch[:hi - lo]
            xp.subtract(x[lo:hi], x[lo + s:hi + s], out=flux)
            flux *= t[lo:hi]
            if hi > start:
                r[:hi - start] -= flux[start - lo:]
            first = max(start, lo + s)  # r[v] += flux[v − s]
            if first < stop:
                r[first - start:] += flux[first - s - lo:stop - s - lo]


def residual_kernel(tx, ty, tz, d, b, x, out=None):
    """``b − A x`` by the CUDA kernel (CuPy arrays), into ``out`` if given."""
    r = array_module(x).empty_like(x) if out is None else out
    launch("mg_smooth", "mg_residual", x.size, tx, ty, tz, d, b, x, r, *x.shape)
    return r


def smooth_kernel(tx, ty, tz, d, weight, b, x) -> None:
    """The half-sweep by the CUDA kernel (CuPy arrays), in place."""
    launch("mg_smooth", "mg_smooth", x.size, tx, ty, tz, d, weight, b, x, *x.shape)


def residual(tx, ty, tz, d, b, x, out=None):
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    return (residual_kernel if on_gpu(x) or cpu_kernels() else residual_reference)(tx, ty, tz, d, b, x, out)


def smooth(tx, ty, tz, d, weight, b, x) -> None:
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    (smooth_kernel if on_gpu(x) or cpu_kernels() else smooth_reference)(tx, ty, tz, d, weight, b, x)
