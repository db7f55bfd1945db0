"""perfusion.compute.native: the compiled CPU path of every op against the NumPy reference,
its selection (PERFUSION_CPU_KERNELS, threads, the per-machine cache), and the whole pipeline
compiled against NumPy."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tomli_w
from case_data import LIVER
from kernel_inputs import PRECISIONS, random_faces, relative_error

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.compute import native
from perfusion.ops import cg_update, mg_smooth, mg_transfer, pointwise, stencil7, transport_rate


def _both(monkeypatch, call):
    """``call()`` on the compiled path, then on the NumPy reference."""
    monkeypatch.delenv("PERFUSION_CPU_KERNELS", raising=False)
    assert native.enabled()
    compiled = call()
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")
    assert not native.enabled()
    return compiled, call()


def _fields(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.25
    faces = random_faces(rng, shape, dtype, mask)
    full = []
    for axis, t in enumerate(faces):
        grid = np.zeros(shape, dtype=dtype)
        grid[tuple(slice(None, -1) if a == axis else slice(None) for a in range(3))] = t
        full.append(grid)
    d = np.where(mask, rng.random(shape), 1).astype(dtype)
    return rng, faces, full, d, rng.standard_normal(shape).astype(dtype)


def _compare(pairs, dtype):
    for got, want in pairs:
        assert got.dtype == want.dtype == dtype
        assert relative_error(got, want.astype(np.float64)) <= PRECISIONS[dtype]


def test_stencil_smoother_and_transfers_compiled_match_reference(shape, dtype, monkeypatch):
    rng, faces, full, d, x = _fields(shape, dtype)
    b = rng.standard_normal(shape).astype(dtype)
    red = np.indices(shape).sum(axis=0) % 2 == 0   # one colour: the in-place sweep is exact
    weight = np.where(red, 1 / (d + 6 * 3), 0).astype(dtype)
    coarse_shape = tuple(-(-n // 2) for n in shape)
    coarse = rng.standard_normal(coarse_shape).astype(dtype)

    def run():
        smoothed, prolonged = x.copy(), x.copy()
        mg_smooth.smooth(*full, d, weight, b, smoothed)
        mg_transfer.prolong(coarse, prolonged)
        return (stencil7.apply(*faces, d, x), stencil7.diagonal(*faces, d),
                mg_smooth.residual(*full, d, b, x), smoothed,
                mg_transfer.restrict(x, coarse_shape), prolonged)

    compiled, reference = _both(monkeypatch, run)
    _compare(zip(compiled, reference, strict=True), dtype)


def test_cg_updates_and_transport_rate_compiled_match_reference(shape, dtype, monkeypatch):
    rng, faces, _, d, x = _fields(shape, dtype, seed=1)
    vectors = [rng.standard_normal(shape).astype(dtype) for _ in range(5)]
    lower = [rng.random(f.shape).astype(dtype) for f in faces]
    outflow = (rng.random(shape) * (rng.random(shape) > 0.7)).astype(dtype)

    def run():
        xs, r, z, p, q = (v.copy() for v in vectors)
        cg_update.update_solution(xs, r, z, p, q, d, 0.37)
        cg_update.update_direction(p, z, 0.61)
        return (xs, r, z, p, *transport_rate.rate(*lower, *faces, outflow, d, x))

    compiled, reference = _both(monkeypatch, run)
    _compare(zip(compiled, reference, strict=True), dtype)


@pytest.mark.parametrize("kind", ["none", "linear", "saturable"])
def test_pointwise_compiled_matches_reference(dtype, kind, monkeypatch):
    from test_pointwise import _problem

    k, model, m, c, plasma = _problem((9, 7, 6), dtype, kind, seed=2)
    compiled, reference = _both(monkeypatch,
                                lambda: pointwise.step(k, model, m, c, plasma, 60.0))
    tolerance = PRECISIONS[dtype] if kind != "saturable" else max(PRECISIONS[dtype], 1e-10)
    for got, want in zip(compiled, reference, strict=True):
        assert relative_error(got, np.asarray(want, np.float64)) <= tolerance


def test_selection_says_which_path_and_why(monkeypatch):
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")
    off = native.selection()
    assert (off.path, off.reason, off.threads) == ("numpy", "PERFUSION_CPU_KERNELS=0", 1)
    monkeypatch.delenv("PERFUSION_CPU_KERNELS")
    monkeypatch.setattr(native, "_THREADS", [])
    monkeypatch.setenv("PERFUSION_THREADS", "1")
    monkeypatch.setattr(native, "_probe", lambda cxx: "no C++ compiler found (install g++ or set CXX)")
    assert native.selection().path == "numpy" and not native.enabled()


def test_threads_follow_set_threads(monkeypatch):
    library = native.load(native.kernel_files()[0])
    before = int(library.shim_threads())
    monkeypatch.setattr(native, "_THREADS", [])
    try:
        native.set_threads(1)
        chosen = native.selection()
        assert (chosen.path, chosen.threads) == ("compiled", 1)
        assert "--threads/PERFUSION_THREADS" in chosen.reason
        with pytest.raises(ValueError, match="at least 1"):
            native.set_threads(0)
    finally:
        for loaded in native._LIBRARIES:
            loaded.shim_set_threads(before)


def test_build_is_cached_per_machine_with_its_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = native.kernel_dir() / "cg_update.cu"
    library = native.build(source)
    assert library.parent == tmp_path / "perfusion" / "kernels"
    recorded = json.loads(library.with_suffix(".json").read_text())
    assert recorded["flags"] == list(native.FLAGS) and recorded["compiler"] == native.compiler()
    stamp = library.stat().st_mtime_ns
    assert native.build(source) == library and library.stat().st_mtime_ns == stamp  # not rebuilt
    assert len(list(library.parent.glob("*.so"))) == 1


@pytest.mark.slow
def test_pipeline_compiled_matches_numpy(tmp_path, monkeypatch):
    raw = {**LIVER, "drug": {"name": "doxorubicin"},
           "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                         "dose": "20 mg"}],
           "simulation": {"duration": "40 min", "output_every": "20 min"}}
    case = case_from_dict(raw)
    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")
    reference = run_case(case, tmp_path / "numpy", backend="numpy").metrics
    monkeypatch.delenv("PERFUSION_CPU_KERNELS")
    compiled = run_case(case, tmp_path / "compiled", backend="numpy").metrics
    assert reference["cpu_kernels"]["path"] == "numpy"
    assert compiled["cpu_kernels"]["path"] == "compiled"
    for key in ("perfusion_mean", "ifp_mean", "auc", "cmax"):
        for name, value in reference[key].items():
            assert compiled[key][name] == pytest.approx(value, rel=1e-12, abs=1e-300), (key, name)
    first = np.load(tmp_path / "numpy" / "fields" / "fields.npz")
    second = np.load(tmp_path / "compiled" / "fields" / "fields.npz")
    for name in ("perfusion", "ifp", "auc", "c_t"):
        scale = np.abs(first[name]).max()
        assert np.abs(second[name] - first[name]).max() <= 1e-12 * scale, name


def test_info_and_run_threads_report_the_cpu_path(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from perfusion.cli import main

    monkeypatch.setenv("PERFUSION_CPU_KERNELS", "0")
    shown = CliRunner().invoke(main, ["info"])
    assert shown.exit_code == 0 and "CPU kernels: numpy (PERFUSION_CPU_KERNELS=0)" in shown.output
    monkeypatch.delenv("PERFUSION_CPU_KERNELS")
    monkeypatch.setattr(native, "_THREADS", [])
    before = int(native.load(native.kernel_files()[0]).shim_threads())
    case = tmp_path / "liver.toml"
    case.write_text(tomli_w.dumps(LIVER))
    try:
        ran = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "out"),
                                        "--threads", "1", "--backend", "numpy"])
        assert ran.exit_code == 0, ran.output
    finally:
        for loaded in native._LIBRARIES:
            loaded.shim_set_threads(before)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["cpu_kernels"]["path"] == "compiled" and metrics["cpu_kernels"]["threads"] == 1
