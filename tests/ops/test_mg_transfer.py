"""kernels/mg_transfer.cu against perfusion.ops.mg_transfer (reference), CPU shim and GPU.

Every combination of coarsened axes on odd and even sizes (the last coarse cell one fine
cell thick), both precisions; restriction is the transpose of prolongation.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import mg_transfer

FILE = KERNELS / "mg_transfer.cu"
AXES = list(itertools.product([False, True], repeat=3))


def _coarse_shape(shape, axes):
    return tuple(-(-n // 2) if flag else n for n, flag in zip(shape, axes))


def _suffix(dtype):
    return "f64" if dtype == np.float64 else "f32"


@pytest.mark.parametrize("axes", AXES, ids=lambda a: "".join("c" if f else "-" for f in a))
def test_restrict_on_cpu_shim(shape, dtype, axes):
    fine = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    coarse_shape = _coarse_shape(shape, axes)
    coarse = np.empty(coarse_shape, dtype=dtype)
    run_cpu(FILE, f"mg_restrict_{_suffix(dtype)}", coarse.size, fine, coarse, *shape,
            *mg_transfer.factors(shape, coarse_shape))
    expected = mg_transfer.restrict_reference(fine.astype(np.float64), coarse_shape)
    assert relative_error(coarse, expected) <= PRECISIONS[dtype]
    assert expected.sum() == pytest.approx(fine.astype(np.float64).sum(), abs=1e-9)


@pytest.mark.parametrize("axes", AXES, ids=lambda a: "".join("c" if f else "-" for f in a))
def test_prolong_on_cpu_shim(shape, dtype, axes):
    rng = np.random.default_rng(1)
    coarse_shape = _coarse_shape(shape, axes)
    coarse = rng.standard_normal(coarse_shape).astype(dtype)
    fine = rng.standard_normal(shape).astype(dtype)
    expected = fine.astype(np.float64)
    mg_transfer.prolong_reference(coarse.astype(np.float64), expected)
    run_cpu(FILE, f"mg_prolong_{_suffix(dtype)}", fine.size, coarse, fine, *shape,
            *mg_transfer.factors(shape, coarse_shape))
    assert relative_error(fine, expected) <= PRECISIONS[dtype]


@pytest.mark.parametrize("axes", AXES[1:], ids=lambda a: "".join("c" if f else "-" for f in a))
def test_restriction_is_the_transpose_of_prolongation(shape, axes):
    rng = np.random.default_rng(2)
    coarse_shape = _coarse_shape(shape, axes)
    r, e = rng.standard_normal(shape), rng.standard_normal(coarse_shape)
    prolonged = np.zeros(shape)
    mg_transfer.prolong_reference(e, prolonged)
    assert np.vdot(mg_transfer.restrict_reference(r, coarse_shape), e) == \
        pytest.approx(np.vdot(r, prolonged), rel=1e-12)


@pytest.mark.gpu
def test_transfers_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    rng = np.random.default_rng(3)
    coarse_shape = _coarse_shape(shape, (True, True, True))
    fine = rng.standard_normal(shape).astype(dtype)
    coarse = rng.standard_normal(coarse_shape).astype(dtype)
    restricted = mg_transfer.restrict_kernel(backend.xp.asarray(fine), coarse_shape)
    assert relative_error(backend.to_host(restricted),
                          mg_transfer.restrict_reference(fine.astype(np.float64), coarse_shape)) \
        <= PRECISIONS[dtype]
    device = backend.xp.asarray(fine)
    mg_transfer.prolong_kernel(backend.xp.asarray(coarse), device)
    expected = fine.astype(np.float64)
    mg_transfer.prolong_reference(coarse.astype(np.float64), expected)
    assert relative_error(backend.to_host(device), expected) <= PRECISIONS[dtype]
