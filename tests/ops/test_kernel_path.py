"""The whole pipeline through the kernel launchers, with the CPU shim standing in for the GPU.

Every ``ops`` module is told its arrays are on the GPU and its ``launch`` runs the ``.cu``
file through g++ instead of CuPy, so the launchers' argument order, dtypes, shapes and
contiguity are exercised end to end on any machine. The result must match the reference
(NumPy) path to 1e-9 (float64).
"""
from __future__ import annotations

import numpy as np
import pytest
from case_data import LIVER
from cpu_kernels import KERNELS, run_cpu

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.compute.kernels import precision_suffix
from perfusion.ops import cg_update, mg_smooth, mg_transfer, pointwise, stencil7, transport_rate

OPS = [stencil7, cg_update, transport_rate, pointwise, mg_smooth, mg_transfer]


LAUNCHED: dict[str, int] = {}


def cpu_launch(name, entry, threads, *args):
    LAUNCHED[entry] = LAUNCHED.get(entry, 0) + 1
    dtype = next(a.dtype for a in args if isinstance(a, np.ndarray) and a.ndim > 0)
    arrays = [np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args]
    for given, passed in zip(args, arrays):
        assert given is passed or not isinstance(given, np.ndarray) or not given.flags.writeable \
            or given.flags.c_contiguous, f"{entry}: an output array is not contiguous"
    run_cpu(KERNELS / f"{name}.cu", f"{entry}_{precision_suffix(dtype)}", threads, *arrays)


@pytest.mark.slow
def test_pipeline_through_the_kernels_matches_the_reference(tmp_path, monkeypatch):
    raw = {**LIVER, "drug": {"name": "doxorubicin"},
           "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                         "dose": "20 mg"}],
           "simulation": {"duration": "40 min", "output_every": "20 min", "compare_iv": True}}
    case = case_from_dict(raw)
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")   # the reference: NumPy, not compiled
    reference = run_case(case, tmp_path / "reference", backend="numpy").metrics
    for module in OPS:
        monkeypatch.setattr(module, "on_gpu", lambda array: True)
        monkeypatch.setattr(module, "launch", cpu_launch)
    LAUNCHED.clear()
    kernels = run_case(case, tmp_path / "kernels", backend="numpy").metrics
    assert set(LAUNCHED) == {"stencil7_apply", "cg_update_direction", "mg_smooth",
                             "mg_residual", "mg_restrict", "mg_prolong", "transport_rate",
                             "pointwise_step"}, LAUNCHED
    assert kernels["mass_balance_error"] < 1e-10
    for key in ("perfusion_mean", "ifp_mean", "auc", "cmax"):
        for name, value in reference[key].items():
            assert kernels[key][name] == pytest.approx(value, rel=1e-9, abs=1e-300), (key, name)
    assert kernels["regional_advantage"] == pytest.approx(reference["regional_advantage"], rel=1e-9)
    first = np.load(tmp_path / "reference" / "fields" / "fields.npz")
    second = np.load(tmp_path / "kernels" / "fields" / "fields.npz")
    for name in ("perfusion", "ifp", "territory", "auc", "c_t"):
        scale = np.abs(first[name]).max()
        assert np.abs(second[name] - first[name]).max() <= 1e-9 * scale, name


@pytest.mark.slow
def test_jacobi_fallback_through_the_kernels_matches_the_reference(tmp_path, monkeypatch):
    case = case_from_dict({**LIVER, "solver": {"preconditioner": "jacobi"}})
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")   # the reference: NumPy, not compiled
    reference = run_case(case, tmp_path / "reference", backend="numpy").metrics
    for module in OPS:
        monkeypatch.setattr(module, "on_gpu", lambda array: True)
        monkeypatch.setattr(module, "launch", cpu_launch)
    LAUNCHED.clear()
    kernels = run_case(case, tmp_path / "kernels", backend="numpy").metrics
    assert set(LAUNCHED) == {"stencil7_apply", "stencil7_diagonal", "cg_update_solution",
                             "cg_update_direction"}, LAUNCHED
    assert {s["method"] for s in kernels["solver"]["solves"]} == {"jacobi-cg"}
    for key in ("perfusion_mean", "ifp_mean"):
        for name, value in reference[key].items():
            assert kernels[key][name] == pytest.approx(value, rel=1e-9, abs=1e-300), (key, name)
