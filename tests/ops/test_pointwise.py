"""kernels/pointwise.cu against perfusion.ops.pointwise (reference), CPU shim and GPU.

Random heterogeneous coefficients (exchange, solvent drag both ways, lymph, elimination,
first-order metabolism),
inactive voxels, each uptake model; doxorubicin-like saturable parameters.
"""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS, gpu_or_skip, relative_error
from cpu_kernels import KERNELS, run_cpu

from perfusion.ops import pointwise
from perfusion.transport.exchange import ExchangeCoefficients
from perfusion.transport.uptake import UptakeModel

FILE = KERNELS / "pointwise.cu"
PARAMETERS = {"uptake_rate": 2e-3, "release_rate": 5e-4, "max_rate": 2.8e-5,
              "extracellular_affinity": 2.19e-4, "intracellular_affinity": 8.22e-3}


def _problem(shape, dtype, kind, seed=0):
    rng = np.random.default_rng(seed)
    field = lambda scale: (scale * rng.random(shape)).astype(dtype)  # noqa: E731
    v_e = (0.1 + 0.4 * rng.random(shape)).astype(dtype)
    inside = rng.random(shape) > 0.15
    coefficients = ExchangeCoefficients.build(
        np, field(0.02), field(0.05), (1e-5 * rng.standard_normal(shape)).astype(dtype),
        field(1e-4), 0.3, field(1e-3), np.where(inside, 1 / v_e, 0).astype(dtype),
        metabolism=field(2e-3))
    model = UptakeModel(kind=kind, active=inside & (rng.random(shape) > 0.2), cell_elimination=1e-4,
                        extracellular_fraction=v_e, **PARAMETERS)
    return coefficients, model, field(1e-4), field(1e-3), field(2e-3)


def _wide(coefficients, model):
    widen = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    k = ExchangeCoefficients(**{f: widen(getattr(coefficients, f)) for f in
                                ("clearance", "drag_in", "drag_out", "lymph", "elimination", "inverse_ve",
                                 "metabolism")})
    from dataclasses import replace

    return k, replace(model, extracellular_fraction=widen(model.extracellular_fraction))


@pytest.mark.parametrize("kind", ["none", "linear", "saturable"])
def test_step_on_cpu_shim(shape, dtype, kind):
    k, model, m, c, plasma = _problem(shape, dtype, kind)
    outputs = [np.empty_like(m) for _ in range(4)]
    got_m, got_c = m.copy(), c.copy()
    suffix = "f64" if dtype == np.float64 else "f32"
    run_cpu(FILE, f"pointwise_step_{suffix}", m.size, k.clearance, k.drag_in, k.drag_out, k.lymph,
            k.elimination, k.metabolism, k.inverse_ve, plasma, model.active.astype(np.uint8),
            model.extracellular_fraction, got_m, got_c, *outputs, 60.0, pointwise.KINDS[kind],
            *PARAMETERS.values(), model.cell_elimination,
            pointwise.newton_tolerance(dtype, PARAMETERS["max_rate"]), pointwise.NEWTON_ITERATIONS,
            unconverged := np.ones(m.shape, np.uint8), m.size)
    assert not unconverged.any()
    wide_k, wide_model = _wide(k, model)
    expected = pointwise.step_reference(wide_k, wide_model, m.astype(np.float64),
                                        c.astype(np.float64), plasma.astype(np.float64), 60.0)
    tolerance = PRECISIONS[dtype] if kind != "saturable" else max(PRECISIONS[dtype], 1e-10)
    assert len(expected) == 6
    for got, want in zip((got_m, got_c, *outputs), expected, strict=True):
        assert relative_error(got, want) <= tolerance


def test_step_conserves_mass_on_cpu_shim(shape):
    k, model, m, c, plasma = _problem(shape, np.float64, "saturable", seed=5)
    m1, c1 = m.copy(), c.copy()
    moved, lymph, eliminated, metabolised = (np.empty_like(m) for _ in range(4))
    run_cpu(FILE, "pointwise_step_f64", m.size, k.clearance, k.drag_in, k.drag_out, k.lymph,
            k.elimination, k.metabolism, k.inverse_ve, plasma, model.active.astype(np.uint8),
            model.extracellular_fraction, m1, c1, moved, lymph, eliminated, metabolised, 600.0, 2,
            *PARAMETERS.values(), model.cell_elimination, 1e-12 * PARAMETERS["max_rate"],
            pointwise.NEWTON_ITERATIONS, np.empty(m.shape, np.uint8), m.size)
    change = (m1 + c1) - (m + c)
    assert metabolised.max() > 0
    assert np.allclose(change, moved - lymph - eliminated - metabolised, rtol=0,
                       atol=1e-13 * np.abs(m + c).max())


def _flags_after(iterations, dtype=np.float64):
    """The kernel's ``unconverged`` flags (through the CPU build) after ``iterations`` Newton
    iterates, and the active voxels."""
    k, model, m, c, plasma = _problem((7, 9, 5), dtype, "saturable", seed=3)
    unconverged = np.full(m.shape, 7, np.uint8)
    outputs = [np.empty_like(m) for _ in range(4)]
    run_cpu(FILE, f"pointwise_step_{'f64' if dtype == np.float64 else 'f32'}", m.size,
            k.clearance, k.drag_in, k.drag_out, k.lymph, k.elimination, k.metabolism,
            k.inverse_ve, plasma, model.active.astype(np.uint8), model.extracellular_fraction,
            m.copy(), c.copy(), *outputs, 60.0, 2, *PARAMETERS.values(), model.cell_elimination,
            pointwise.newton_tolerance(dtype, PARAMETERS["max_rate"]), iterations, unconverged,
            m.size)
    return unconverged, model.active


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_newton_flag_set_only_where_the_iteration_limit_is_hit(dtype):
    flags, active = _flags_after(1, dtype)   # one iterate: Ū = 0, not the root where m > 0
    assert set(np.unique(flags)) <= {0, 1}
    assert np.array_equal(flags.astype(bool), active)   # every uptake voxel, nothing else
    flags, _ = _flags_after(pointwise.NEWTON_ITERATIONS, dtype)
    assert np.count_nonzero(flags) == 0


def test_launcher_raises_the_references_convergence_error(monkeypatch):
    from perfusion.errors import ConvergenceError

    k, model, m, c, plasma = _problem((7, 9, 5), np.float64, "saturable", seed=3)
    monkeypatch.setattr(pointwise, "NEWTON_ITERATIONS", 2)
    with pytest.raises(ConvergenceError) as kernel_error:
        pointwise.step_kernel(k, model, m, c, plasma, 60.0)
    monkeypatch.setattr("perfusion.transport.uptake.NEWTON_ITERATIONS", 2)
    with pytest.raises(ConvergenceError) as reference_error:
        pointwise.step_reference(k, model, m, c, plasma, 60.0)
    assert str(kernel_error.value) == str(reference_error.value) == pointwise.NOT_CONVERGED
    monkeypatch.undo()
    got = pointwise.step_kernel(k, model, m, c, plasma, 60.0)
    want = pointwise.step_reference(k, model, m, c, plasma, 60.0)
    assert relative_error(got[0], want[0]) <= 1e-10


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["none", "linear", "saturable"])
def test_step_on_gpu(shape, dtype, kind):
    backend = gpu_or_skip()
    xp = backend.xp
    k, model, m, c, plasma = _problem(shape, dtype, kind, seed=6)
    from dataclasses import replace

    on_device = ExchangeCoefficients(**{f: xp.asarray(getattr(k, f)) for f in
                                        ("clearance", "drag_in", "drag_out", "lymph", "elimination", "inverse_ve",
                                         "metabolism")})
    device_model = replace(model, active=xp.asarray(model.active),
                           extracellular_fraction=xp.asarray(model.extracellular_fraction))
    got = pointwise.step_kernel(on_device, device_model, xp.asarray(m), xp.asarray(c), xp.asarray(plasma), 60.0)
    wide_k, wide_model = _wide(k, model)
    expected = pointwise.step_reference(wide_k, wide_model, m.astype(np.float64), c.astype(np.float64),
                                        plasma.astype(np.float64), 60.0)
    tolerance = PRECISIONS[dtype] if kind != "saturable" else max(PRECISIONS[dtype], 1e-10)
    for a, b in zip(got, expected):
        assert relative_error(backend.to_host(a), b) <= tolerance
