"""kernels/mg_smooth.cu against perfusion.ops.mg_smooth (reference), CPU shim and GPU.

Random heterogeneous faces with masks (d = 1, no faces outside), odd sizes, both
precisions; the half-sweep with red-black colour weights, as the multigrid passes them.
"""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, random_faces, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import mg_smooth, stencil7

FILE = KERNELS / "mg_smooth.cu"


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.25
    faces = random_faces(rng, shape, dtype, mask)
    d = np.where(mask, rng.random(shape), 1).astype(dtype)
    b, x = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    return faces, d, b, x


def _colour_weights(faces, d, colour):
    """``D⁻¹`` on the cells with (i + j + k) mod 2 = colour, 0 elsewhere."""
    inverse = 1 / stencil7.diagonal_reference(*faces, d)
    parity = np.indices(d.shape).sum(axis=0) % 2
    return np.where(parity == colour, inverse, 0).astype(d.dtype)


def _wide(*arrays):
    return [a.astype(np.float64) for a in arrays]


def test_residual_on_cpu_shim(shape, dtype):
    faces, d, b, x = _inputs(shape, dtype)
    r = np.empty_like(x)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"mg_residual_{suffix}", x.size, *faces, d, b, x, r, *shape)
    expected = mg_smooth.residual_reference(*_wide(*faces, d, b, x))
    assert relative_error(r, expected) <= PRECISIONS[dtype]
    assert relative_error(expected, b - stencil7.apply_reference(*_wide(*faces, d, x))) <= 1e-14


@pytest.mark.parametrize("colour", [0, 1])
def test_smooth_on_cpu_shim(shape, dtype, colour):
    faces, d, b, x = _inputs(shape, dtype, seed=1)
    weight = _colour_weights(faces, d, colour)
    expected = x.astype(np.float64)
    mg_smooth.smooth_reference(*_wide(*faces, d, weight, b), expected)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"mg_smooth_{suffix}", x.size, *faces, d, weight, b, x, *shape)
    assert relative_error(x, expected) <= PRECISIONS[dtype]


def test_half_sweep_solves_its_colour(shape):
    """After the half-sweep the residual vanishes on that colour (exact Gauss–Seidel)."""
    faces, d, b, x = _inputs(shape, np.float64, seed=2)
    weight = _colour_weights(faces, d, 1)
    run_cpu(FILE, "mg_smooth_f64", x.size, *faces, d, weight, b, x, *shape)
    r = mg_smooth.residual_reference(*faces, d, b, x)
    assert np.abs(r[weight != 0]).max() <= 1e-12 * np.abs(b).max()
    assert np.abs(r[weight == 0]).max() > 1e-3


@pytest.mark.gpu
def test_residual_and_smooth_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    faces, d, b, x = _inputs(shape, dtype, seed=3)
    weight = _colour_weights(faces, d, 0)
    device = [backend.xp.asarray(a) for a in (*faces, d, weight, b, x)]
    r = backend.to_host(mg_smooth.residual_kernel(*device[:4], *device[5:]))
    mg_smooth.smooth_kernel(*device)
    wide = _wide(*faces, d, weight, b, x)
    expected = mg_smooth.residual_reference(*wide[:4], *wide[5:])
    assert relative_error(r, expected) <= PRECISIONS[dtype]
    mg_smooth.smooth_reference(*wide)
    assert relative_error(backend.to_host(device[-1]), wide[-1]) <= PRECISIONS[dtype]
