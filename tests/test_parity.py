"""CPU/GPU parity: the demo case on NumPy float64 against CuPy float64 and float32.

Same metrics to 1e-9 (float64) and 1e-4 (float32) relative, and fields to 1e-8 (float64)
and 1e-3 (float32) relative to each field's largest value. The fields come from iterative
solves stopped at a relative residual τ (1e-10 in float64, 1e-6 in float32) whose dot products
and kernels round differently on the two paths, so they agree to about κτ, not to round-off:
under the CuPy stand-in (the GPU path's arithmetic on the CPU, tests/cupy_standin) the
largest differences are 4.1e-9 (c_t, float64) and 4.1e-4 (ifp, float32). Where no GPU is
present the stand-in runs the CuPy path (tests/conftest.py).
"""
from __future__ import annotations

import numpy as np
import pytest

from perfusion import load_case, run_case
from perfusion.compute.backend import BackendUnavailableError, make_backend
from perfusion.library.cases import builtin_cases

FIELDS = ["perfusion", "territory", "ifp", "p_hepatic_artery", "auc", "cmax", "c_t"]
METRICS = [("perfusion_mean", "tumor"), ("perfusion_mean", "normal"), ("ifp_mean", "tumor"),
           ("auc", "tumor"), ("auc", "normal"), ("cmax", "tumor"), ("regional_advantage", None),
           ("auc_systemic", None)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    try:
        make_backend("cupy")
    except BackendUnavailableError as exc:
        pytest.skip(f"no GPU: {exc}")
    case = load_case(builtin_cases()["liver_hai"], ['simulation.duration="1 h"',
                                                    'simulation.output_every="30 min"'])
    return case, run_case(case, tmp_path_factory.mktemp("cpu") / "out", backend="numpy")


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("precision, tolerance, field_tolerance",
                         [("float64", 1e-9, 1e-8), ("float32", 1e-4, 1e-3)])
def test_demo_parity(reference, tmp_path, precision, tolerance, field_tolerance):
    case, cpu = reference
    gpu = run_case(case, tmp_path / "gpu", backend="cupy", precision=precision)
    assert gpu.metrics["backend"] == "cupy"
    for key, name in METRICS:
        want = cpu.metrics[key] if name is None else cpu.metrics[key][name]
        got = gpu.metrics[key] if name is None else gpu.metrics[key][name]
        assert got == pytest.approx(want, rel=tolerance), (key, name)
    assert gpu.metrics["mass_balance_error"] < (1e-10 if precision == "float64" else 1e-5)
    cpu_fields = np.load(cpu.directory / "fields" / "fields.npz")
    gpu_fields = np.load(gpu.directory / "fields" / "fields.npz")
    for name in FIELDS:
        scale = np.abs(cpu_fields[name]).max()
        error = np.abs(gpu_fields[name].astype(np.float64) - cpu_fields[name]).max() / scale
        assert error <= field_tolerance, (name, error)
