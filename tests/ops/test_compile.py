"""Every CUDA kernel file compiles with nvcc (sm_80, sm_90) and with g++ through the CPU shim."""
from __future__ import annotations

import pytest
from cpu_kernels import compile_cpu, compile_ptx, entry_points, kernel_files, nvcc_available

FILES = kernel_files()


def test_there_are_kernels():
    assert FILES, "kernels/ holds no .cu file"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_nvcc_compiles(path, arch):
    if not nvcc_available():
        pytest.skip("nvcc is not installed on this machine")
    ptx = compile_ptx(path, arch)
    for name in entry_points(path):
        assert f".entry {name}(" in ptx, name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cpu_shim_compiles_every_entry_point(path):
    library = compile_cpu(path)
    names = entry_points(path)
    assert names and all(hasattr(library, f"shim_{name}") for name in names)
    assert {n.rsplit("_", 1)[-1] for n in names} == {"f32", "f64"}, "one entry point per precision"
