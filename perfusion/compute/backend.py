"""The array-backend seam: NumPy on any CPU, CuPy on an NVIDIA GPU.

A :class:`Backend` is created once (from the case or the command line) and passed
explicitly to every stage. It holds the array module ``xp``, the working dtype and a
description of the device. Only this module and the kernel loader import CuPy, and only
when a CuPy backend is requested or probed — never at import time.

``precision="float32"`` stores fields in float32; reductions (dot products, norms,
integrals, mass budgets) are accumulated in float64 by :meth:`Backend.sum` and
:meth:`Backend.dot`.

Memory: :meth:`Backend.free_memory` (free device memory, for the preflight check of
``perfusion.compute.memory``), :meth:`Backend.release_memory` (CuPy's pools, after an
out-of-memory error) and :func:`is_out_of_memory` (recognises CuPy's error by name, so
no other module needs CuPy to catch it).
"""
from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import BackendUnavailableError

log = logging.getLogger(__name__)

PRECISIONS = {"float64": np.float64, "float32": np.float32}
#: Elements per float64 chunk of a CuPy float32 dot product (16 MiB of operands).
DOT_CHUNK = 1 << 20


@dataclass(frozen=True)
class Backend:
    """Array module, working dtype and device, passed explicitly to every stage.

    Examples
    --------
    >>> from perfusion.compute.backend import make_backend
    >>> be = make_backend("numpy", "float64")
    >>> float(be.sum(be.xp.ones(4, dtype=be.dtype)))
    4.0
    """

    name: str
    xp: ModuleType
    dtype: Any
    device: str

    @property
    def precision(self) -> str:
        return np.dtype(self.dtype).name

    def asarray(self, array, dtype=None):
        """Copy a host (or device) array onto this backend, in ``dtype`` (default: working)."""
        return self.xp.asarray(array, dtype=self.dtype if dtype is None else dtype)

    def to_host(self, array) -> np.ndarray:
        """Return a NumPy copy of a backend array (no copy on the NumPy backend)."""
        if self.name == "cupy":
            return self.xp.asnumpy(array)
        return np.asarray(array)

    def sum(self, array) -> float:
        """Sum accumulated in float64, returned as a Python float."""
        return float(self.xp.sum(array, dtype=self.xp.float64))

    def dot(self, a, b) -> float:
        """Dot product of two real arrays (any shape) accumulated in float64.

        On NumPy this avoids BLAS: ``einsum`` is single-threaded and deterministic (the
        same bits on every machine), and does not stall when the cores are shared. On CuPy,
        float32 operands are converted ``DOT_CHUNK`` elements at a time, so a dot product
        costs two float64 chunks of memory rather than two full-grid float64 copies.
        """
        if self.name == "numpy":
            return float(np.einsum("i,i->", a.ravel(), b.ravel(), dtype=np.float64))
        xp, a, b = self.xp, a.ravel(), b.ravel()
        if a.dtype == xp.float64 and b.dtype == xp.float64:
            return float(xp.vdot(a, b))
        # float32 operands: float64 products chunk by chunk (no full float64 copies), summed
        # on the device, one host synchronisation
        total = xp.zeros((), dtype=xp.float64)
        for start in range(0, a.size, DOT_CHUNK):
            part = slice(start, start + DOT_CHUNK)
            total = total + xp.vdot(a[part].astype(xp.float64), b[part].astype(xp.float64))
        return float(total)

    def free_memory(self) -> int | None:
        """Bytes of device memory a run can still allocate (CuPy); None on NumPy (host RAM).

        Free memory of the current GPU plus the blocks CuPy's pool holds but does not use.
        """
        if self.name != "cupy":
            return None
        free, _total = self.xp.cuda.Device().mem_info
        return int(free) + int(self.xp.get_default_memory_pool().free_bytes())

    def release_memory(self) -> None:
        """Return the unused blocks of CuPy's memory pools to the driver (no-op on NumPy)."""
        if self.name == "cupy":
            self.xp.get_default_memory_pool().free_all_blocks()
            self.xp.get_default_pinned_memory_pool().free_all_blocks()


def available_host_memory() -> int | None:
    """Bytes of RAM this process may still use (MemAvailable, within a cgroup limit), or None."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
        if text != "max":
            with open("/sys/fs/cgroup/memory.current", encoding="ascii") as current:
                room = int(text) - int(current.read())
            available = room if available is None else min(available, room)
    except (OSError, ValueError):
        pass
    return available


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` means an allocation failed: ``MemoryError`` (NumPy, and CuPy's
    ``cupy.cuda.memory.OutOfMemoryError``) or a CUDA allocation error raised by CuPy."""
    if isinstance(exc, MemoryError):
        return True
    kind = type(exc)
    if not kind.__module__.startswith(("cupy", "cupy_backends")):
        return False
    return kind.__name__ == "OutOfMemoryError" or any(
        text in str(exc) for text in ("cudaErrorMemoryAllocation", "out of memory",
                                      "CUDA_ERROR_OUT_OF_MEMORY", "ALLOC_FAILED"))


def cupy_status() -> tuple[ModuleType | None, str]:
    """Import CuPy and probe for a usable device; return (module or None, reason/desc)."""
    try:
        import cupy  # noqa: PLC0415  (the one place CuPy is imported)
    except Exception as exc:  # ImportError, or a broken CUDA install
        return None, f"CuPy is not installed ({exc.__class__.__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return None, f"CuPy is installed but no usable GPU was found ({exc})"
    if count < 1:
        return None, "CuPy is installed but no GPU is visible"
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = _text(props["name"])
    return cupy, f"GPU 0: {name} ({props['totalGlobalMem'] / 2**30:.0f} GiB), CuPy {cupy.__version__}"


def _cpu_description() -> str:
    return f"CPU: {platform.processor() or platform.machine()}, NumPy {np.__version__}"


def make_backend(name: str = "auto", precision: str = "float64") -> Backend:
    """Create the backend named ``name`` (``auto``, ``numpy`` or ``cupy``).

    ``auto`` picks CuPy only when a usable GPU is present, and logs what it chose and why.
    An explicit ``cupy`` request without a usable GPU raises
    :class:`~perfusion.errors.BackendUnavailableError`; it never falls back silently.
    """
    if precision not in PRECISIONS:
        raise BackendUnavailableError(
            f"precision {precision!r} is not supported: use one of {sorted(PRECISIONS)}")
    dtype = PRECISIONS[precision]
    if name == "numpy":
        return Backend("numpy", np, dtype, _cpu_description())
    if name not in ("auto", "cupy"):
        raise BackendUnavailableError(
            f"backend {name!r} is unknown: use 'auto', 'numpy' or 'cupy'")
    cupy, description = cupy_status()
    if cupy is not None:
        if name == "auto":
            log.info("backend auto: chose cupy (%s)", description)
        return Backend("cupy", cupy, dtype, description)
    if name == "cupy":
        raise BackendUnavailableError(
            f"backend 'cupy' was requested but cannot be used: {description}. "
            "Install the GPU extra matching your CUDA (pip install 'perfusion-ia[cuda12]'"
            " or 'perfusion-ia[cuda13]') on a machine with an NVIDIA GPU, or run with"
            " --backend numpy.")
    log.info("backend auto: chose numpy (%s)", description)
    return Backend("numpy", np, dtype, _cpu_description())


def _cuda_version(number: int) -> str:
    """CUDA's integer version (12040) as text (12.4)."""
    return f"{number // 1000}.{number % 1000 // 10}"


def gpu_details(cupy) -> dict[str, str]:
    """Name, memory, compute capability and versions of GPU 0 (for ``perfusion info``).

    Each query that fails reports its error instead of hiding the others.
    """
    runtime = cupy.cuda.runtime
    queries = {
        "name": lambda: _text(runtime.getDeviceProperties(0)["name"]),
        "memory": lambda: "{1:.1f} GiB total, {0:.1f} GiB free".format(
            *(b / 2**30 for b in cupy.cuda.Device(0).mem_info)),
        "compute capability": lambda: "{major}.{minor}".format(**runtime.getDeviceProperties(0)),
        "CUDA driver": lambda: _cuda_version(runtime.driverGetVersion()),
        "CUDA runtime": lambda: _cuda_version(runtime.runtimeGetVersion()),
        "CuPy": lambda: str(cupy.__version__),
        "GPUs visible": lambda: str(runtime.getDeviceCount()),
    }
    details = {}
    for key, query in queries.items():
        try:
            details[key] = query()
        except Exception as exc:  # a broken driver: say so, keep the rest
            details[key] = f"unknown ({exc.__class__.__name__}: {exc})"
    return details


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def describe_backends() -> list[dict]:
    """What each backend would be on this machine (for ``perfusion info``).

    Each entry has ``backend``, ``available`` (yes/no) and ``device`` (what it runs on, or
    why it cannot be used); a usable CuPy adds ``details`` (:func:`gpu_details`).
    """
    cupy, description = cupy_status()
    entries = [
        {"backend": "numpy", "available": "yes", "device": _cpu_description()},
        {"backend": "cupy", "available": "yes" if cupy is not None else "no",
         "device": description},
    ]
    if cupy is not None:
        entries[1]["details"] = gpu_details(cupy)
    return entries
