"""kernels/cg_update.cu against perfusion.ops.cg_update (reference), CPU shim and GPU."""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import cg_update

FILE = KERNELS / "cg_update.cu"


def _vectors(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(5)] + \
        [rng.random(shape).astype(dtype) + 0.5]


def _suffix(dtype):
    return "f64" if dtype == np.float64 else "f32"


def test_update_solution_on_cpu_shim(shape, dtype):
    x, r, z, p, q, dinv = _vectors(shape, dtype)
    expected = [a.astype(np.float64) for a in (x, r, z)]
    cg_update.update_solution_reference(*expected, p.astype(np.float64), q.astype(np.float64),
                                        dinv.astype(np.float64), 0.37)
    run_cpu(FILE, f"cg_update_solution_{_suffix(dtype)}", x.size, x, r, z, p, q, dinv, 0.37, x.size)
    for got, want in zip((x, r, z), expected):
        assert relative_error(got, want) <= PRECISIONS[dtype]


def test_update_direction_on_cpu_shim(shape, dtype):
    p, z = _vectors(shape, dtype, seed=1)[:2]
    expected = p.astype(np.float64)
    cg_update.update_direction_reference(expected, z.astype(np.float64), -1.7)
    run_cpu(FILE, f"cg_update_direction_{_suffix(dtype)}", p.size, p, z, -1.7, p.size)
    assert relative_error(p, expected) <= PRECISIONS[dtype]


@pytest.mark.gpu
def test_updates_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    host = _vectors(shape, dtype, seed=2)
    device = [backend.xp.asarray(a) for a in host]
    cg_update.update_solution_kernel(*device, 0.37)
    cg_update.update_direction_kernel(device[3], device[2], 0.5)
    wide = [a.astype(np.float64) for a in host]
    cg_update.update_solution_reference(*wide, 0.37)
    cg_update.update_direction_reference(wide[3], wide[2], 0.5)
    for got, want in zip(device, wide):
        assert relative_error(backend.to_host(got), want) <= PRECISIONS[dtype]
