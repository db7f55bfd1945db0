"""Compiled CPU kernels: the ``kernels/*.cu`` files built for the CPU with g++ and OpenMP.

The same CUDA C sources as the GPU path (docs/model.md §12): ``kernels/cpu_shim.h`` maps
``__global__``/``__device__`` to C++ and ``threadIdx``/``blockIdx``/``blockDim`` to
thread-local globals, and runs the 1-D grid of ``⌈n / BLOCK⌉`` blocks of ``BLOCK`` threads as
a ``#pragma omp parallel for`` over the blocks. For each entry point
``extern "C" __global__ void name(params)`` a wrapper ``shim_name(grid, block, params)`` is
generated; ctypes calls it with NumPy arrays (pointers) and scalars converted to the declared
parameter types.

Build: ``$CXX`` (default ``g++``) with :data:`FLAGS` (IEEE arithmetic, no FMA contraction, so
the compiled path agrees with the NumPy reference to rounding), once per machine, into
``$XDG_CACHE_HOME/perfusion/kernels`` (else ``~/.cache/perfusion/kernels``) as
``<name>-<hash>.so``, the hash over the source, the shim, the compiler's version and the flags;
``<name>-<hash>.json`` next to it records the compiler and the flags.

Selection (:func:`selection`): NumPy arrays run the compiled kernels unless
``PERFUSION_CPU_KERNELS=0``, no compiler is found, or a build fails (logged); then the NumPy
reference runs, which stays the oracle. Threads: ``PERFUSION_THREADS``, else
``OMP_NUM_THREADS``, else every core (:func:`set_threads` for ``perfusion run --threads``).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .kernels import BLOCK, kernel_dir, precision_suffix

log = logging.getLogger(__name__)

# -ftls-model=initial-exec: the shim's thread-local threadIdx/blockIdx are read without a call
FLAGS = ("-O3", "-fopenmp", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off",
         "-ftls-model=initial-exec")
SHIM_NAME = "cpu_shim.h"
ENTRY = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', re.DOTALL)
SCALARS = {"int": ctypes.c_int, "long long": ctypes.c_longlong, "double": ctypes.c_double,
           "float": ctypes.c_float, "unsigned": ctypes.c_uint}
POINTEES = {"double": np.float64, "float": np.float32, "int": np.int32, "unsigned char": np.uint8,
            "bool": np.bool_, "signed char": np.int8}


@dataclass(frozen=True)
class Selection:
    """Which CPU path the NumPy arrays take, and why (``perfusion info``, ``metrics.json``)."""

    path: str               # "compiled" or "numpy"
    reason: str
    compiler: str | None
    flags: str
    threads: int

    def as_dict(self) -> dict:
        return asdict(self)


def cache_dir() -> Path:
    """Where the compiled libraries are kept (one set per machine)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "perfusion" / "kernels"


def compiler() -> str | None:
    """The C++ compiler's path (``$CXX``, else ``g++``), or None."""
    return shutil.which(os.environ.get("CXX") or "g++")


@functools.cache
def compiler_version(path: str) -> str:
    """The first line of ``<compiler> --version`` (part of the cache key)."""
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.splitlines() or [""])[0]


def kernel_files() -> list[Path]:
    """Every ``.cu`` file of the kernel folder."""
    return sorted(kernel_dir().glob("*.cu"))


@functools.cache
def _entry_points(text: str) -> dict[str, list[tuple[str, str, bool]]]:
    found = {}
    for name, params in ENTRY.findall(text):
        parsed = []
        for param in filter(None, (p.strip() for p in params.split(","))):
            words = param.replace("*", " ").replace("const", " ").replace("__restrict__", " ").split()
            parsed.append((" ".join(words[:-1]), words[-1], "*" in param))
        found[name] = parsed
    return found


def entry_points(path: Path) -> dict[str, list[tuple[str, str, bool]]]:
    """name → [(base type, parameter name, is pointer)] for every entry point of a file."""
    return _entry_points(Path(path).read_text(encoding="utf-8"))


def build(path: Path) -> Path:
    """Compile ``path`` with the shim into a shared library in :func:`cache_dir` (if not there)."""
    path = Path(path)
    cxx = compiler()
    if cxx is None:
        raise FileNotFoundError("no C++ compiler: install g++ or set CXX")
    shim = kernel_dir() / SHIM_NAME
    source = path.read_text(encoding="utf-8")
    key = "\n".join((source, shim.read_text(encoding="utf-8"), compiler_version(cxx), *FLAGS))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = cache_dir()
    library = folder / f"{path.stem}-{digest}.so"
    if library.exists():
        return library
    folder.mkdir(parents=True, exist_ok=True)
    wrappers = []
    for name, params in entry_points(path).items():
        declared = ", ".join(f"{t}{'*' if p else ''} {n}" for t, n, p in params)
        names = ", ".join(n for _, n, _ in params)
        wrappers.append(f'extern "C" void shim_{name}(unsigned grid, unsigned block, {declared}) '
                        f"{{ shim_launch<{name}>(grid, block, {names}); }}")
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        wrapper = Path(scratch) / f"{path.stem}.cpp"
        wrapper.write_text(f'#include "{shim}"\n#include "{path}"\n' + "\n".join(wrappers) + "\n")
        built = Path(scratch) / library.name
        done = subprocess.run([cxx, *FLAGS, "-o", str(built), str(wrapper)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{path}: {cxx} failed: {done.stderr.strip()[:2000]}")
        os.replace(built, library)   # atomic: another process may be building the same
    library.with_suffix(".json").write_text(json.dumps(
        {"source": str(path), "compiler": cxx, "version": compiler_version(cxx),
         "flags": list(FLAGS)}, indent=1))
    log.info("compiled %s for the CPU into %s", path.name, library)
    return library


@functools.cache
def load(path: Path) -> ctypes.CDLL:
    """The compiled library of ``path`` (built if needed), with the thread count applied."""
    library = ctypes.CDLL(str(build(path)))
    library.shim_threads.restype = ctypes.c_int
    if _threads_wanted() is not None:
        library.shim_set_threads(_threads_wanted())
    _LIBRARIES.append(library)
    return library


def call(path: Path, name: str, threads: int, *args, block: int = BLOCK) -> None:
    """Run entry point ``name`` of ``path`` over ``threads`` CUDA threads on the CPU."""
    params = entry_points(path)[name]
    if len(params) != len(args):
        raise TypeError(f"{name} takes {len(params)} arguments, got {len(args)}")
    converted = []
    for (base, pname, pointer), value in zip(params, args):
        if pointer:
            if not (isinstance(value, np.ndarray) and value.flags.c_contiguous
                    and value.dtype == POINTEES[base]):
                raise TypeError(f"{name}: {pname} must be a C-contiguous {base} array")
            converted.append(ctypes.c_void_p(value.ctypes.data))
        else:
            converted.append(SCALARS[base](value))
    function = getattr(load(Path(path)), f"shim_{name}")
    function(ctypes.c_uint(max(1, -(-threads // block))), ctypes.c_uint(block), *converted)


def launch(name: str, entry: str, threads: int, *args) -> None:
    """``compute.kernels.launch`` for NumPy arrays: ``<entry>_<f32|f64>`` of ``<name>.cu``."""
    dtype = next(a.dtype for a in args if isinstance(a, np.ndarray) and a.ndim > 0)
    call(kernel_dir() / f"{name}.cu", f"{entry}_{precision_suffix(dtype)}", threads, *args)


_THREADS: list[int] = []   # set by set_threads (perfusion run --threads)
_LIBRARIES: list[ctypes.CDLL] = []   # every library loaded, to apply set_threads to


def _threads_wanted() -> int | None:
    """The thread count asked for: set_threads, else PERFUSION_THREADS; None: OpenMP's own."""
    if _THREADS:
        return _THREADS[-1]
    value = os.environ.get("PERFUSION_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def set_threads(count: int) -> None:
    """Run later launches on ``count`` CPU threads (≥ 1)."""
    if count < 1:
        raise ValueError(f"--threads must be at least 1, got {count}")
    _THREADS.append(int(count))
    for library in _LIBRARIES:
        library.shim_set_threads(int(count))


@functools.cache
def _probe(cxx: str | None) -> str | None:
    """Build and load every kernel once; None if all did, else why not."""
    if cxx is None:
        return "no C++ compiler found (install g++ or set CXX)"
    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(build, kernel_files()))
        for path in kernel_files():
            load(path)
    except (OSError, RuntimeError) as exc:
        log.warning("compiled CPU kernels unavailable, the NumPy reference runs: %s", exc)
        return f"build failed: {str(exc)[:300]}"
    return None


def selection() -> Selection:
    """The CPU path that NumPy arrays take now, and why."""
    cxx = compiler()
    flags = " ".join(FLAGS)
    if os.environ.get("PERFUSION_CPU_KERNELS", "").strip() == "0":
        return Selection("numpy", "PERFUSION_CPU_KERNELS=0", cxx, flags, 1)
    failure = _probe(cxx)
    if failure is not None:
        return Selection("numpy", failure, cxx, flags, 1)
    threads = int(load(kernel_files()[0]).shim_threads())
    source = ("--threads/PERFUSION_THREADS" if _threads_wanted() is not None
              else "OMP_NUM_THREADS" if os.environ.get("OMP_NUM_THREADS") else "all cores")
    return Selection("compiled", f"{cxx} found, kernels built; threads from {source}", cxx, flags,
                     threads)


def enabled() -> bool:
    """Whether NumPy arrays run the compiled kernels (see :func:`selection`)."""
    if os.environ.get("PERFUSION_CPU_KERNELS", "").strip() == "0":
        return False
    return _probe(compiler()) is None
