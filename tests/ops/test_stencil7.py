"""kernels/stencil7.cu against perfusion.ops.stencil7 (reference), on the CPU shim and the GPU."""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, random_faces, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import stencil7

FILE = KERNELS / "stencil7.cu"


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.25
    faces = random_faces(rng, shape, dtype, mask)
    d = np.where(mask, rng.random(shape), 1).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    return faces, d, x


def test_apply_on_cpu_shim(shape, dtype):
    faces, d, x = _inputs(shape, dtype)
    y = np.empty_like(x)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"stencil7_apply_{suffix}", x.size, *faces, d, x, y, *shape)
    reference = stencil7.apply_reference(*(f.astype(np.float64) for f in faces),
                                         d.astype(np.float64), x.astype(np.float64))
    assert relative_error(y, reference) <= PRECISIONS[dtype]


def test_diagonal_on_cpu_shim(shape, dtype):
    faces, d, _ = _inputs(shape, dtype, seed=1)
    y = np.empty_like(d)
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"stencil7_diagonal_{suffix}", d.size, *faces, d, y, *shape)
    reference = stencil7.diagonal_reference(*(f.astype(np.float64) for f in faces), d.astype(np.float64))
    assert relative_error(y, reference) <= PRECISIONS[dtype]


@pytest.mark.gpu
def test_apply_and_diagonal_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    faces, d, x = _inputs(shape, dtype, seed=2)
    on_device = [backend.xp.asarray(a) for a in (*faces, d, x)]
    y = backend.to_host(stencil7.apply_kernel(*on_device))
    diag = backend.to_host(stencil7.diagonal_kernel(*on_device[:4]))
    wide = [a.astype(np.float64) for a in (*faces, d, x)]
    assert relative_error(y, stencil7.apply_reference(*wide)) <= PRECISIONS[dtype]
    assert relative_error(diag, stencil7.diagonal_reference(*wide[:4])) <= PRECISIONS[dtype]
