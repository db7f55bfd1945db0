"""Inputs and checks shared by the kernel tests."""
from __future__ import annotations

import numpy as np
import pytest

PRECISIONS = {np.float64: 1e-12, np.float32: 2e-5}


def random_faces(rng, shape, dtype, mask):
    """Lognormal face coefficients, zero across the mask edge (as the solvers build them)."""
    faces = []
    for axis in range(3):
        lo = tuple(slice(None, -1) if a == axis else slice(None) for a in range(3))
        hi = tuple(slice(1, None) if a == axis else slice(None) for a in range(3))
        t = rng.lognormal(size=mask[lo].shape) * (mask[lo] & mask[hi])
        faces.append(np.ascontiguousarray(t, dtype=dtype))
    return faces


def relative_error(result, reference) -> float:
    scale = max(float(np.abs(reference).max()), 1e-300)
    return float(np.abs(np.asarray(result, np.float64) - reference).max() / scale)


def gpu_or_skip():
    from perfusion.compute.backend import BackendUnavailableError, make_backend

    try:
        return make_backend("cupy")
    except BackendUnavailableError as exc:
        pytest.skip(f"no GPU: {exc}")
