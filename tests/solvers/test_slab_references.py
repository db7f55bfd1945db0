"""The slab-by-slab NumPy references (``perfusion.ops.mg_smooth``, ``stencil7``) against the
whole-array formulas they replace: the same bits, for any slab size and any grid shape.

``SLAB_BYTES`` is lowered so that a small grid is cut into many slabs, down to one plane
(the x fluxes then come from the neighbouring slabs on both sides).
"""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.ops import axis_slice, mg_smooth, mg_transfer, stencil7

SHAPES = [(7, 9, 5), (1, 6, 3), (11, 4, 13), (1, 1, 40), (70, 3, 1), (5, 1, 1), (2, 1, 7)]


def _residual(tx, ty, tz, d, b, x):
    """``b − A x`` on whole flat arrays (the formula before slabs)."""
    r = b - d * x
    flat_x, flat_r = x.reshape(-1), r.reshape(-1)
    for t, s in zip((tx, ty, tz), mg_smooth.strides(x.shape)):
        flux = (flat_x[:-s] - flat_x[s:]) * t.reshape(-1)[:-s]
        flat_r[:-s] -= flux
        flat_r[s:] += flux
    return r


def _apply(tx, ty, tz, d, x):
    """``A x`` on whole 3-D views (the formula before slabs)."""
    y = d * x
    for axis, t in enumerate((tx, ty, tz)):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        flux = t * (x[lo] - x[hi])
        y[lo] += flux
        y[hi] -= flux
    return y


def _operands(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    full = [rng.random(shape).astype(dtype) for _ in range(3)]
    for axis, t in enumerate(full):
        t[axis_slice(axis, -1, None)] = 0  # no face on the last layer
    short = [np.ascontiguousarray(t[axis_slice(axis, None, -1)]) for axis, t in enumerate(full)]
    d, b, x, weight = (rng.random(shape).astype(dtype) for _ in range(4))
    return full, short, d, b, x, 0.1 * weight


@pytest.fixture(params=[None, 1, 200], ids=["default", "one-plane", "few-planes"])
def slab_bytes(request, monkeypatch):
    if request.param is not None:
        monkeypatch.setattr(mg_smooth, "SLAB_BYTES", request.param)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slabs_give_the_whole_array_bits(slab_bytes, shape, dtype):
    full, short, d, b, x, weight = _operands(shape, dtype, seed=sum(shape))
    expected = _residual(*full, d, b, x)
    assert np.array_equal(mg_smooth.residual_reference(*full, d, b, x), expected)
    out = np.full_like(x, np.nan)
    assert mg_smooth.residual_reference(*full, d, b, x, out) is out
    assert np.array_equal(out, expected)
    assert np.array_equal(stencil7.apply_reference(*short, d, x), _apply(*short, d, x))
    # every residual from the incoming x, even where neighbours both have weights (Jacobi)
    smoothed = x.copy()
    mg_smooth.smooth_reference(*full, d, weight, b, smoothed)
    assert np.array_equal(smoothed, x + weight * expected)


def test_apply_into_out_and_restrict_into_out():
    full, short, d, b, x, _ = _operands((9, 8, 7), np.float64, seed=3)
    out = np.empty_like(x)
    assert stencil7.apply_reference(*short, d, x, out) is out
    assert np.array_equal(out, _apply(*short, d, x))
    coarse = np.full((5, 4, 4), np.nan)
    assert mg_transfer.restrict_reference(x, coarse.shape, coarse) is coarse
    padded = np.zeros((10, 8, 8))
    padded[:9, :8, :7] = x
    assert np.allclose(coarse, padded.reshape(5, 2, 4, 2, 4, 2).sum(axis=(1, 3, 5)), rtol=1e-14)


def test_smooth_needs_a_contiguous_x():
    full, _, d, b, x, weight = _operands((6, 5, 4), np.float64, seed=4)
    with pytest.raises(ValueError, match="C-contiguous"):
        mg_smooth.smooth_reference(*full, d, weight, b, np.asfortranarray(x))
