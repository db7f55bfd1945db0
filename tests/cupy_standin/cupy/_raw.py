"""Stand-in ``cupy.RawModule``: the CUDA source compiled for the CPU with g++.

The source goes through ``tests/ops/cpu_kernels.py`` (``compile_cpu`` with ``cpu_shim.h``).
A function is launched as CuPy's ``RawKernel``: ``function(grid, block, args)``. Stricter
than CuPy where CuPy would pass wrong bytes silently: a pointer parameter takes a
C-contiguous device array of exactly the parameter's type; a scalar parameter takes a
value of its C type after CuPy's conversion (Python ``int`` → int64, ``float`` → float64).
"""
from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import tempfile
from pathlib import Path

import numpy as np

from ._core import ndarray

_spec = importlib.util.spec_from_file_location(
    "cupy._cpu_kernels", Path(__file__).resolve().parents[2] / "ops" / "cpu_kernels.py")
cpu_kernels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cpu_kernels)

SCALAR_TYPES = {"int": np.int32, "long long": np.int64, "double": np.float64,
                "float": np.float32, "unsigned": np.uint32}
PYTHON_SCALARS = {bool: np.bool_, int: np.int64, float: np.float64}  # as CuPy converts them
POINTEES = {"double": np.float64, "float": np.float32, "int": np.int32, "unsigned char": np.uint8,
            "bool": np.bool_, "signed char": np.int8}
CTYPES = {"int": ctypes.c_int, "long long": ctypes.c_longlong, "double": ctypes.c_double,
          "float": ctypes.c_float, "unsigned": ctypes.c_uint}
SOURCES = Path(tempfile.gettempdir()) / "perfusion-cupy-standin"


class CUDADriverError(RuntimeError):
    """CuPy's driver error (e.g. a missing entry point)."""


CUDADriverError.__module__ = "cupy_backends.cuda.api.driver"


class RawModule:
    """CUDA C source, compiled (on first ``get_function``) into a CPU shared library."""

    def __init__(self, code: str | None = None, path: str | None = None, options=(), **_ignored):
        if code is None:
            code = Path(path).read_text(encoding="utf-8")
        digest = hashlib.sha256(code.encode()).hexdigest()[:16]
        self.source = SOURCES / f"rawmodule-{digest}.cu"
        if not self.source.exists():
            SOURCES.mkdir(parents=True, exist_ok=True)
            self.source.write_text(code, encoding="utf-8")
        self.options = tuple(options)
        self._library = None

    def get_function(self, name: str) -> Function:
        entries = cpu_kernels.entry_points(self.source)
        if name not in entries:
            raise CUDADriverError("CUDA_ERROR_NOT_FOUND: named symbol not found")
        if self._library is None:
            self._library = cpu_kernels.compile_cpu(self.source)
        return Function(name, entries[name], getattr(self._library, f"shim_{name}"))


def _extent(size) -> int:
    """The x extent of a 1-D grid or block (the CPU shim runs 1-D launches only)."""
    dims = (size,) if isinstance(size, int) else tuple(size)
    if any(int(d) != 1 for d in dims[1:]):
        raise NotImplementedError(f"the CPU shim runs 1-D launches only, got {dims}")
    return int(dims[0])


class Function:
    """One ``extern "C" __global__`` entry point, called as CuPy's ``RawKernel``."""

    def __init__(self, name, params, entry):
        self.name, self.params, self.entry = name, params, entry

    def __call__(self, grid, block, args, shared_mem=0, stream=None):
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments, got {len(args)}")
        converted = [self._argument(param, value) for param, value in zip(self.params, args)]
        self.entry(ctypes.c_uint(_extent(grid)), ctypes.c_uint(_extent(block)), *converted)

    def _argument(self, param, value):
        base, pname, pointer = param
        where = f"{self.name}({pname})"
        if pointer:
            if not isinstance(value, ndarray):
                raise TypeError(f"Unsupported type {type(value)} for {where}")
            held = value._held
            if held.dtype != POINTEES[base]:
                raise TypeError(f"{where}: a {held.dtype} array for a {base}* parameter")
            if not held.flags.c_contiguous:
                raise ValueError(f"{where}: the array is not C-contiguous")
            return ctypes.c_void_p(held.ctypes.data)
        scalar = PYTHON_SCALARS[type(value)](value) if type(value) in PYTHON_SCALARS else value
        if not isinstance(scalar, np.generic) or scalar.dtype != SCALAR_TYPES[base]:
            passed = scalar.dtype if isinstance(scalar, np.generic) else type(value).__name__
            raise TypeError(f"{where}: {passed} passed for a '{base}' parameter")
        return CTYPES[base](scalar.item())
