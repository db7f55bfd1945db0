"""Memory: the estimate, the preflight refusal, out-of-memory errors, ``info`` and ``validate``.

CuPy paths run against a fake ``cupy`` module (no GPU is needed): only the attributes
``perfusion.compute.backend`` queries are provided.
"""
from __future__ import annotations

import copy
import math
import json
import sys
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

import perfusion.compute.memory as memory
import perfusion.pipeline as pipeline
from perfusion import run_case
from perfusion.compute.backend import Backend, is_out_of_memory
from perfusion.case import case_from_dict
from perfusion.cli import main
from perfusion.errors import BackendUnavailableError
from perfusion.compute.memory import GIB, MARGIN, estimate

DRUG = {"drug": {"name": "doxorubicin"},
        "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "10 min",
                      "dose": "10 mg"}],
        "simulation": {"duration": "30 min", "output_every": "10 min", "max_step": "5 min",
                       "compare_iv": True}}


def _drug_case(liver_dict, shape=None):
    raw = {**copy.deepcopy(liver_dict), **copy.deepcopy(DRUG)}
    if shape is not None:
        raw["grid"]["shape"] = shape
    return raw


def _fake_cupy(free=70 * GIB, total=80 * GIB):
    """A stand-in for the ``cupy`` module with one GPU."""
    pool = SimpleNamespace(free_bytes=lambda: 2 * GIB, released=0)
    pool.free_all_blocks = lambda: setattr(pool, "released", pool.released + 1)
    runtime = SimpleNamespace(
        getDeviceCount=lambda: 1, driverGetVersion=lambda: 12040, runtimeGetVersion=lambda: 12020,
        getDeviceProperties=lambda index: {"name": b"NVIDIA H100 80GB HBM3", "major": 9,
                                           "minor": 0, "totalGlobalMem": total})
    device = SimpleNamespace(mem_info=(free, total))
    return SimpleNamespace(
        __version__="13.3.0", cuda=SimpleNamespace(runtime=runtime, Device=lambda index=0: device),
        get_default_memory_pool=lambda: pool,
        get_default_pinned_memory_pool=lambda: SimpleNamespace(free_all_blocks=lambda: None),
        pool=pool)


def test_estimate_grows_linearly_with_voxels(liver_dict):
    small = estimate(case_from_dict(_drug_case(liver_dict, [24, 22, 20])))
    large = estimate(case_from_dict(_drug_case(liver_dict, [48, 44, 40])))
    assert large.shape == (48, 44, 40)
    for key, need in small.needs.items():
        assert large.needs[key].host == pytest.approx(8 * need.host, rel=1e-3)
        assert large.needs[key].device == pytest.approx(8 * need.device, rel=1e-3)
    assert large.snapshots == pytest.approx(8 * small.snapshots, rel=1e-3)
    assert small.output_times == 3
    assert small.snapshots == pytest.approx(MARGIN * 12 * 3 * 24 * 22 * 20, abs=1)


@pytest.mark.parametrize("drug", [False, True])
def test_float32_roughly_halves_the_device_arrays(liver_dict, drug):
    raw = _drug_case(liver_dict) if drug else copy.deepcopy(liver_dict)
    raw["solver"] = {"preconditioner": "jacobi"}  # the multigrid hierarchy is float32 anyway
    result = estimate(case_from_dict(raw))
    ratio = result.need("cupy", "float32").device / result.need("cupy", "float64").device
    assert 0.5 <= ratio < 0.56          # AUC and Cmax stay float64
    assert result.need("numpy", "float32").host < result.need("numpy", "float64").host


def test_multigrid_adds_its_float32_hierarchy(liver_dict):
    """Without a drug the GPU's peak is a solve: MG-CG needs the hierarchy instead of D⁻¹."""
    multigrid = estimate(case_from_dict(liver_dict))
    raw = copy.deepcopy(liver_dict)
    raw["solver"] = {"preconditioner": "jacobi"}
    jacobi = estimate(case_from_dict(raw))
    voxels = np.prod(multigrid.shape)
    for precision, w in memory.PRECISIONS.items():
        extra = (memory.HIERARCHY - w) * voxels * MARGIN
        assert multigrid.need("cupy", precision).device == pytest.approx(
            jacobi.need("cupy", precision).device + extra, abs=2)


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("preconditioner", ["multigrid", "jacobi"])
def test_solve_estimate_matches_the_measured_solve(monkeypatch, precision, preconditioner):
    """``solve_bytes`` (+2 bytes of masks) against the tracemalloc peak of one NumPy solve on
    a box the tissue fills (no cropping), within the 20% margin either way. The dense
    inverse of the coarsest level is a constant; 8 cells keep it out of the per-voxel sum.
    Measured on the NumPy reference ops, the path without a compiler: the estimate must cover
    it. The compiled kernels (perfusion.compute.native) need less (float32: 71 of the 86
    estimated bytes with multigrid, 30 of 42 with Jacobi)."""
    from perfusion.compute.backend import make_backend
    from perfusion.solvers import multigrid
    from perfusion.solvers.cg import conjugate_gradient
    from perfusion.solvers.stencil import masked_stencil

    monkeypatch.setattr(multigrid, "COARSEST_CELLS", 8)
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")
    backend = make_backend("numpy", precision)
    shape = (48, 44, 40)
    rng = np.random.default_rng(0)
    conductivity = np.exp(rng.standard_normal(shape)).astype(backend.dtype)
    stencil = masked_stencil(conductivity, np.full(shape, 1e-3, backend.dtype),
                             np.ones(shape, bool), (1.0,) * 3)
    rhs = rng.random(shape).astype(backend.dtype)

    def solve():
        return conjugate_gradient(stencil, rhs, backend, name="memory", tolerance=1e-6,
                                  max_iterations=2000, preconditioner=preconditioner)

    solve()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        solve()
        peak = (tracemalloc.get_traced_memory()[1] - before) / np.prod(shape)
    finally:
        tracemalloc.stop()
    estimated = memory.solve_bytes(memory.PRECISIONS[precision], preconditioner) + 2
    assert peak <= MARGIN * estimated and estimated <= MARGIN * peak, (peak, estimated)


@pytest.mark.slow
@pytest.mark.parametrize("drug, precision", [(True, "float64"), (True, "float32"),
                                             (False, "float64")])
def test_estimate_covers_the_measured_numpy_peak(liver_dict, tmp_path, drug, precision):
    """tracemalloc sees every NumPy allocation: the estimate must cover the peak, not by 3×."""
    case = case_from_dict(_drug_case(liver_dict) if drug else liver_dict)
    run_case(case, tmp_path / "warm", backend="numpy", precision=precision)  # lazy imports
    tracemalloc.start()
    try:
        run_case(case, tmp_path / "measured", backend="numpy", precision=precision)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    need = estimate(case).need("numpy", precision)
    assert need.device == 0
    assert peak < need.host < 2.5 * peak


@pytest.mark.parametrize("suffix", [".npy", ".nii.gz"])
def test_image_shape_comes_from_the_header_and_downsample_rounds_up(liver_dict, tmp_path, suffix):
    import nibabel

    volume = np.zeros((25, 22, 19), dtype=np.int16)
    volume[2:22, 2:20, 2:17] = 1
    path = tmp_path / f"labels{suffix}"
    if suffix == ".npy":
        np.save(path, volume)
    else:
        nibabel.Nifti1Image(volume, np.diag([4.0, 4, 4, 1])).to_filename(path)
    raw = copy.deepcopy(liver_dict)
    raw["geometry"] = {"kind": "image", "path": str(path), "labels": {1: "normal"},
                       "downsample": 2}
    raw["tissue"].pop("tumor")
    assert estimate(case_from_dict(raw)).shape == (13, 11, 10)


def test_a_run_that_cannot_fit_is_refused_before_any_allocation(liver_dict, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("build_domain must not be called")

    monkeypatch.setattr(pipeline, "build_domain", never)
    monkeypatch.setattr(memory, "available_host_memory", lambda: 1_000_000)
    path = tmp_path / "liver.toml"
    path.write_text(tomli_w.dumps(_drug_case(liver_dict)))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--backend", "numpy"])
    assert result.exit_code == 1, result.output
    assert "not enough memory" in result.output and "GiB of RAM but 0.00 GiB" in result.output
    for remedy in ("--precision float32", "grid.shape with a larger grid.spacing",
                   "simulation.output_every", "--skip-memory-check"):
        assert remedy in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_gpu_preflight_uses_free_device_memory(liver_dict, tmp_path, monkeypatch):
    fake = _fake_cupy(free=1_000_000)
    backend = Backend("cupy", fake, np.float64, "GPU 0: fake")
    assert backend.free_memory() == 1_000_000 + 2 * GIB
    fake.cuda.Device().mem_info = (0, 80 * GIB)
    fake.get_default_memory_pool = lambda: SimpleNamespace(free_bytes=lambda: 0)
    monkeypatch.setattr(pipeline, "make_backend", lambda name, precision: backend)
    monkeypatch.setattr(pipeline, "build_domain", lambda *a: pytest.fail("allocated"))
    with pytest.raises(BackendUnavailableError) as error:
        run_case(case_from_dict(liver_dict), tmp_path / "out")
    message = str(error.value)
    assert "GiB of GPU memory but 0.00 GiB is free (GPU 0: fake)" in message
    assert "--precision float32" in message and "nvidia-smi" in message
    assert not (tmp_path / "out").exists()


def test_memory_error_during_the_run_is_a_clear_message(liver_dict, tmp_path, monkeypatch):
    def exhausted(case, domain):
        raise MemoryError("Unable to allocate 3.1 GiB for an array")

    monkeypatch.setattr(pipeline, "solve_steady", exhausted)
    path = tmp_path / "liver.toml"
    path.write_text(tomli_w.dumps(liver_dict))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--backend", "numpy"])
    assert result.exit_code == 1
    assert "ran out of host memory (MemoryError: Unable to allocate 3.1 GiB" in result.output
    assert "by the estimate it needs about" in result.output
    assert "--precision float32" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_cupy_out_of_memory_releases_the_pool(liver_dict, tmp_path, monkeypatch):
    fake = _fake_cupy()
    out_of_memory = type("OutOfMemoryError", (Exception,), {"__module__": "cupy.cuda.memory"})
    monkeypatch.setattr(pipeline, "make_backend",
                        lambda name, precision: Backend("cupy", fake, np.float32, "GPU 0: fake"))

    def allocate(case, backend):
        raise out_of_memory("Out of memory allocating 1,073,741,824 bytes")

    monkeypatch.setattr(pipeline, "build_domain", allocate)
    with pytest.raises(BackendUnavailableError, match="ran out of GPU memory") as error:
        run_case(case_from_dict(liver_dict), tmp_path / "out")
    assert "GiB of GPU memory and" in str(error.value)
    assert fake.pool.released == 1


def test_out_of_memory_is_recognised_without_importing_cupy():
    runtime_error = type("CUDARuntimeError", (RuntimeError,),
                         {"__module__": "cupy_backends.cuda.api.runtime"})
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(runtime_error("cudaErrorMemoryAllocation: out of memory"))
    assert not is_out_of_memory(runtime_error("cudaErrorIllegalAddress"))
    assert not is_out_of_memory(ValueError("out of memory"))  # not from CuPy


def test_numpy_backend_has_no_device_memory():
    from perfusion.compute.backend import available_host_memory, make_backend

    assert make_backend("numpy").free_memory() is None
    assert available_host_memory() is None or available_host_memory() > 0


def test_validate_prints_the_estimate(liver_dict, tmp_path):
    path = tmp_path / "liver.toml"
    path.write_text(tomli_w.dumps(_drug_case(liver_dict)))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "memory estimate for 24×22×20 = 10,560 voxels" in result.output
    for backend, precision in [("numpy", "float64"), ("numpy", "float32"),
                               ("cupy", "float64"), ("cupy", "float32")]:
        line = next(line for line in lines if line.split()[:2] == [backend, precision])
        assert line.endswith("GiB RAM") and ("GiB GPU" in line) == (backend == "cupy")
    assert "drug snapshots kept in RAM" in result.output and "3 output times" in result.output


def test_info_shows_the_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(free=70 * GIB, total=80 * GIB))
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    for text in ("available: yes", "GPU 0: NVIDIA H100 80GB HBM3", "name: NVIDIA H100 80GB HBM3",
                 "memory: 80.0 GiB total, 70.0 GiB free", "compute capability: 9.0",
                 "CUDA driver: 12.4", "CUDA runtime: 12.2", "CuPy: 13.3.0"):
        assert text in result.output


def test_metrics_record_backend_and_device(liver_dict, tmp_path):
    out = run_case(case_from_dict(liver_dict), tmp_path / "out", backend="numpy").directory
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"] == "numpy" and metrics["device"].startswith("CPU")


def test_embolised_fields_are_counted_to_the_end(liver_dict):
    """The embolised state stays for the results: on CuPy its 4 written fields are copied to
    the host at the end (4 w per voxel beyond the run without embolisation; enough output
    times that the end, not the territory or the exposure over all time, is the host's largest stage)."""
    plain = _drug_case(liver_dict)
    plain["simulation"]["output_every"] = "20 s"
    embolised = {**copy.deepcopy(plain), "embolization": {"time": "20 min", "factor": 0.1}}
    voxels = math.prod(plain["grid"]["shape"])
    for precision, w in memory.PRECISIONS.items():
        extra = (estimate(case_from_dict(embolised)).need("cupy", precision).host
                 - estimate(case_from_dict(plain)).need("cupy", precision).host)
        assert extra == pytest.approx(MARGIN * 4 * w * voxels, abs=2)
