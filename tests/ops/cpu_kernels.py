"""Run CUDA kernel files on the CPU through the package's compiled path, or compile to PTX.

The CPU builds are ``perfusion.compute.native``'s (g++ -O3 -fopenmp with
``kernels/cpu_shim.h``, cached per machine): ``compile_cpu`` loads one, ``run_cpu`` calls an
entry point with NumPy arrays and scalars checked against the declared parameter types.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from perfusion.compute import native
from perfusion.compute.native import entry_points, kernel_files  # noqa: F401  (re-exported)

KERNELS = Path(__file__).resolve().parents[2] / "kernels"


def compile_cpu(path: Path):
    """The compiled library of ``path`` (ctypes)."""
    return native.load(Path(path))


def run_cpu(path: Path, name: str, threads: int, *args, block: int = 128) -> None:
    """Launch entry point ``name`` of ``path`` on the CPU over ``threads`` threads."""
    native.call(Path(path), name, threads, *args, block=block)


def nvcc_available() -> bool:
    return shutil.which("nvcc") is not None


def compile_ptx(path: Path, arch: str) -> str:
    """Compile ``path`` to PTX for ``arch`` (e.g. sm_90); returns the PTX text."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{path.stem}.ptx"
        done = subprocess.run(["nvcc", "--ptx", f"-arch={arch}", "-o", str(out), str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return out.read_text()
