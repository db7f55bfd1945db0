"""Rate of free drug by interstitial diffusion and hybrid convection (kernel ``transport_rate.cu``).

With ``c = m/v_e`` the flux across the face between cells a and b (a below b along an axis)
is ``f = D_f (c_a − c_b) + U_f ĉ`` — ``ĉ`` the central average where ``|U_f| ≤ 2 D_f`` (cell
Péclet ≤ 2), else the upwind value. Written ``f = A_f c_a − B_f c_b`` with

    central:  A = D + U/2,  B = D − U/2;     upwind:  A = D + max(U, 0),  B = D − min(U, 0)

(:func:`face_coefficients`, once per perfusion state), so a rate evaluation is two products
per face. ``dm_a −= f``, ``dm_b += f``; a cell on the zero-pressure surface also loses
``r_out c`` (returned as ``loss``). See ``perfusion.transport.operator`` for the physics.
"""
from __future__ import annotations

from ..compute.kernels import launch
from . import array_module, axis_slice, cpu_kernels, on_gpu


def face_coefficients(d, u):
    """(A, B) of one axis's faces from their diffusion ``D_f`` and convection ``U_f`` [1/s]."""
    xp = array_module(d)
    central = xp.abs(u) <= 2 * d
    a = d + xp.where(central, 0.5 * u, xp.maximum(u, 0))
    b = d - xp.where(central, 0.5 * u, xp.minimum(u, 0))
    return a, b


def rate_reference(ax, ay, az, bx, by, bz, outflow, inverse_ve, m):
    """(dm/dt, surface loss rate) written against the array module."""
    c = m * inverse_ve
    dm = -outflow * c
    for axis, (a, b) in enumerate(((ax, bx), (ay, by), (az, bz))):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        flux = a * c[lo] - b * c[hi]
        dm[lo] -= flux
        dm[hi] += flux
    return dm, outflow * c


def rate_kernel(ax, ay, az, bx, by, bz, outflow, inverse_ve, m):
    """The same by the CUDA kernel (CuPy arrays)."""
    xp = array_module(m)
    dm, loss = xp.empty_like(m), xp.empty_like(m)
    launch("transport_rate", "transport_rate", m.size, ax, ay, az, bx, by, bz, outflow,
           inverse_ve, m, dm, loss, *m.shape)
    return dm, loss


def rate(ax, ay, az, bx, by, bz, outflow, inverse_ve, m):
    """Kernel for CuPy arrays (and NumPy arrays where ``cpu_kernels()``), else the reference."""
    function = rate_kernel if on_gpu(m) or cpu_kernels() else rate_reference
    return function(ax, ay, az, bx, by, bz, outflow, inverse_ve, m)
