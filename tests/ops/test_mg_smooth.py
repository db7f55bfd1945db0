"""kernels/mg_smooth.cu against perfusion.ops.mg_smooth (reference), CPU shim and GPU.

Random heterogeneous faces with masks (d = 1, no faces outside), odd sizes, both
precisions, in this kernel's full-size face layout; the half-sweep with red-black colour
weights, as the multigrid passes them. The operator must be the one of ``stencil7``.
"""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, random_faces, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import mg_smooth, stencil7

FILE = KERNELS / "mg_smooth.cu"


def _inputs(shape, dtype, seed=0):
    """(full-size faces, d, b, x) and the faces in stencil7's layout."""
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.25
    short = random_faces(rng, shape, dtype, mask)
    faces = []
    for axis, t in enumerate(short):
        full = np.zeros(shape, dtype=dtype)
        full[tuple(slice(None, -1) if a == axis else slice(None) for a in range(3))] = t
        faces.append(full)
    d = np.where(mask, rng.random(shape), 1).astype(dtype)
    b, x = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    return faces, d, b, x, short


def _colour_weights(short, d, colour):
    """``D⁻¹`` on the cells with (i + j + k) mod 2 = colour, 0 elsewhere."""
    inverse = 1 / stencil7.diagonal_reference(*short, d)
    parity = np.indices(d.shape).sum(axis=0) % 2
    return np.where(parity == colour, inverse, 0).astype(d.dtype)


def _wide(*arrays):
    return [a.astype(np.float64) for a in arrays]


def test_residual_on_cpu_shim(shape, dtype):
    faces, d, b, x, short = _inputs(shape, dtype)
    r = np.empty_like(x)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"mg_residual_{suffix}", x.size, *faces, d, b, x, r, *shape)
    expected = mg_smooth.residual_reference(*_wide(*faces, d, b, x))
    assert relative_error(r, expected) <= PRECISIONS[dtype]
    wide_b = b.astype(np.float64)
    assert relative_error(expected, wide_b - stencil7.apply_reference(*_wide(*short, d, x))) <= 1e-14


@pytest.mark.parametrize("colour", [0, 1])
def test_smooth_on_cpu_shim(shape, dtype, colour):
    faces, d, b, x, short = _inputs(shape, dtype, seed=1)
    weight = _colour_weights(short, d, colour)
    expected = x.astype(np.float64)
    mg_smooth.smooth_reference(*_wide(*faces, d, weight, b), expected)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"mg_smooth_{suffix}", x.size, *faces, d, weight, b, x, *shape)
    assert relative_error(x, expected) <= PRECISIONS[dtype]


def test_half_sweep_solves_its_colour(shape):
    """After the half-sweep the residual vanishes on that colour (exact Gauss–Seidel)."""
    faces, d, b, x, short = _inputs(shape, np.float64, seed=2)
    weight = _colour_weights(short, d, 1)
    run_cpu(FILE, "mg_smooth_f64", x.size, *faces, d, weight, b, x, *shape)
    r = mg_smooth.residual_reference(*faces, d, b, x)
    assert np.abs(r[weight != 0]).max() <= 1e-12 * np.abs(b).max()
    assert np.abs(r[weight == 0]).max() > 1e-3


@pytest.mark.gpu
def test_residual_and_smooth_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    faces, d, b, x, short = _inputs(shape, dtype, seed=3)
    weight = _colour_weights(short, d, 0)
    device = [backend.xp.asarray(a) for a in (*faces, d, weight, b, x)]
    r = backend.to_host(mg_smooth.residual_kernel(*device[:4], *device[5:]))
    mg_smooth.smooth_kernel(*device)
    wide = _wide(*faces, d, weight, b, x)
    expected = mg_smooth.residual_reference(*wide[:4], *wide[5:])
    assert relative_error(r, expected) <= PRECISIONS[dtype]
    mg_smooth.smooth_reference(*wide)
    assert relative_error(backend.to_host(device[-1]), wide[-1]) <= PRECISIONS[dtype]
