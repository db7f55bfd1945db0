"""kernels/transport_rate.cu against perfusion.ops.transport_rate (reference), CPU shim and GPU."""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, random_faces, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import transport_rate

FILE = KERNELS / "transport_rate.cu"


def _inputs(shape, dtype, seed=0):
    """Mixed cell Péclet numbers (both central and upwind faces), masks, surface outflow."""
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.2
    diffusion = random_faces(rng, shape, dtype, mask)
    velocity = [np.ascontiguousarray(4 * rng.standard_normal(d.shape) * (d > 0), dtype=dtype)
                for d in diffusion]
    outflow = (rng.random(shape) * (rng.random(shape) > 0.7) * mask).astype(dtype)
    inverse_ve = np.where(mask, 1 / (0.1 + 0.5 * rng.random(shape)), 0).astype(dtype)
    m = (rng.random(shape) * mask).astype(dtype)
    pairs = [transport_rate.face_coefficients(d, u) for d, u in zip(diffusion, velocity)]
    central = [np.abs(u) <= 2 * d for u, d in zip(velocity, diffusion)]
    assert any(c.any() for c in central) and any((~c).any() for c in central)  # both schemes
    return (*(a for a, _ in pairs), *(b for _, b in pairs), outflow, inverse_ve, m)


def test_face_coefficients_are_the_hybrid_scheme():
    """f = A c_a − B c_b equals D(c_a − c_b) + U ĉ with ĉ central (Pe ≤ 2) or upwind."""
    d = np.array([1.0, 1.0, 1.0, 1.0])
    u = np.array([1.5, -1.5, 3.0, -3.0])
    a, b = transport_rate.face_coefficients(d, u)
    ca, cb = 2.0, 0.5
    expected = d * (ca - cb) + u * np.array([(ca + cb) / 2, (ca + cb) / 2, ca, cb])
    assert np.allclose(a * ca - b * cb, expected, rtol=1e-15)


def test_rate_on_cpu_shim(shape, dtype):
    args = _inputs(shape, dtype)
    dm, loss = np.empty_like(args[-1]), np.empty_like(args[-1])
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"transport_rate_{suffix}", dm.size, *args, dm, loss, *shape)
    want_dm, want_loss = transport_rate.rate_reference(*(a.astype(np.float64) for a in args))
    assert relative_error(dm, want_dm) <= PRECISIONS[dtype]
    assert relative_error(loss, want_loss) <= PRECISIONS[dtype]


def test_rate_conserves_mass_on_cpu_shim(shape):
    args = _inputs(shape, np.float64, seed=3)
    dm, loss = np.empty_like(args[-1]), np.empty_like(args[-1])
    run_cpu(FILE, "transport_rate_f64", dm.size, *args, dm, loss, *shape)
    assert abs(dm.sum() + loss.sum()) <= 1e-12 * np.abs(dm).sum()


@pytest.mark.gpu
def test_rate_on_gpu(shape, dtype):
    backend = gpu_or_skip()
    args = _inputs(shape, dtype, seed=4)
    dm, loss = transport_rate.rate_kernel(*(backend.xp.asarray(a) for a in args))
    want_dm, want_loss = transport_rate.rate_reference(*(a.astype(np.float64) for a in args))
    assert relative_error(backend.to_host(dm), want_dm) <= PRECISIONS[dtype]
    assert relative_error(backend.to_host(loss), want_loss) <= PRECISIONS[dtype]
