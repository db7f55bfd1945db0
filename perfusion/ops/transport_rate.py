"""Rate of free drug by interstitial diffusion and hybrid convection (kernel ``transport_rate.cu``).

With ``c = m/v_e`` and, across the face between cells a and b (a below b along an axis),
``f = D_f (c_a − c_b) + U_f ĉ`` — ``ĉ`` the central average where ``|U_f| ≤ 2 D_f`` (cell
Péclet ≤ 2), else the upwind value — ``dm_a −= f``, ``dm_b += f``; a cell on the
zero-pressure surface also loses ``r_out c`` (returned as ``loss``). See
``perfusion.transport.operator`` for the physics and the time integration.
"""
from __future__ import annotations

from ..kernels import launch
from . import array_module, axis_slice, on_gpu


def rate_reference(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m):
    """(dm/dt, surface loss rate) written against the array module."""
    c = m * inverse_ve
    dm = -outflow * c
    for axis, (d, u) in enumerate(((dx, ux), (dy, uy), (dz, uz))):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        ca, cb = c[lo], c[hi]
        upwind = (u > 0) * ca + (u <= 0) * cb
        central = abs(u) <= 2 * d
        flux = d * (ca - cb) + u * (central * (0.5 * (ca + cb)) + ~central * upwind)
        dm[lo] -= flux
        dm[hi] += flux
    return dm, outflow * c


def rate_kernel(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m):
    """The same by the CUDA kernel (CuPy arrays)."""
    xp = array_module(m)
    dm, loss = xp.empty_like(m), xp.empty_like(m)
    launch("transport_rate", "transport_rate", m.size, dx, dy, dz, ux, uy, uz, outflow,
           inverse_ve, m, dm, loss, *m.shape)
    return dm, loss


def rate(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m):
    """Kernel for CuPy arrays, reference for NumPy arrays."""
    function = rate_kernel if on_gpu(m) else rate_reference
    return function(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m)
