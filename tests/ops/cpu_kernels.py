"""Compile CUDA kernel files for the CPU (g++ + cpu_shim.h) or to PTX (nvcc), and call them.

For each ``extern "C" __global__ void name(params)`` in a ``.cu`` file a wrapper
``shim_name(grid, block, params)`` is generated that runs the kernel through
``shim_launch``; ctypes calls it with NumPy arrays (pointers) and scalars checked against the
parameter types. Builds are cached per file content in a temporary folder.
"""
from __future__ import annotations

import ctypes
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"
SHIM = Path(__file__).with_name("cpu_shim.h")
BUILD = Path(tempfile.gettempdir()) / "perfusion-kernel-tests"
ENTRY = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', re.S)
SCALARS = {"int": ctypes.c_int, "long long": ctypes.c_longlong, "double": ctypes.c_double,
           "float": ctypes.c_float, "unsigned": ctypes.c_uint}
POINTEES = {"double": np.float64, "float": np.float32, "int": np.int32, "unsigned char": np.uint8,
            "bool": np.bool_, "signed char": np.int8}


def kernel_files() -> list[Path]:
    return sorted(KERNELS.glob("*.cu"))


def entry_points(path: Path) -> dict[str, list[tuple[str, str, bool]]]:
    """name → [(base type, parameter name, is pointer)] for every entry point of a file."""
    found = {}
    for name, params in ENTRY.findall(path.read_text()):
        parsed = []
        for param in filter(None, (p.strip() for p in params.split(","))):
            pointer = "*" in param
            words = param.replace("*", " ").replace("const", " ").replace("__restrict__", " ").split()
            parsed.append((" ".join(words[:-1]), words[-1], pointer))
        found[name] = parsed
    return found


def compile_cpu(path: Path) -> ctypes.CDLL:
    """Build ``path`` with the shim into a shared library (cached by content)."""
    source = path.read_text()
    digest = hashlib.sha256((source + SHIM.read_text()).encode()).hexdigest()[:16]
    library = BUILD / f"{path.stem}-{digest}.so"
    if not library.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        wrappers = []
        for name, params in entry_points(path).items():
            declared = ", ".join(f"{t}{'*' if p else ''} {n}" for t, n, p in params)
            names = ", ".join(n for _, n, _ in params)
            wrappers.append(f'extern "C" void shim_{name}(unsigned grid, unsigned block, {declared}) '
                            f"{{ shim_launch({name}, grid, block, {names}); }}")
        wrapper = BUILD / f"{path.stem}-{digest}.cpp"
        wrapper.write_text(f'#include "{SHIM}"\n#include "{path}"\n' + "\n".join(wrappers) + "\n")
        subprocess.run(["g++", "-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off",
                        "-o", str(library), str(wrapper)], check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(library))


def run_cpu(path: Path, name: str, threads: int, *args, block: int = 128) -> None:
    """Launch entry point ``name`` of ``path`` on the CPU over ``threads`` threads."""
    params = entry_points(path)[name]
    assert len(params) == len(args), f"{name} takes {len(params)} arguments"
    converted = []
    for (base, pname, pointer), value in zip(params, args):
        if pointer:
            assert isinstance(value, np.ndarray) and value.flags.c_contiguous, pname
            assert value.dtype == POINTEES[base], f"{pname}: {value.dtype} is not {base}"
            converted.append(ctypes.c_void_p(value.ctypes.data))
        else:
            converted.append(SCALARS[base](value))
    function = getattr(compile_cpu(path), f"shim_{name}")
    function(ctypes.c_uint(-(-threads // block)), ctypes.c_uint(block), *converted)


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
