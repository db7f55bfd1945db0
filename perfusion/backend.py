"""The array-backend seam: NumPy on any CPU, CuPy on an NVIDIA GPU.

A :class:`Backend` is created once (from the case or the command line) and passed
explicitly to every stage. It holds the array module ``xp``, the working dtype and a
description of the device. Only this module and the kernel loader import CuPy, and only
when a CuPy backend is requested or probed — never at import time.

``precision="float32"`` stores fields in float32; reductions (dot products, norms,
integrals, mass budgets) are accumulated in float64 by :meth:`Backend.sum` and
:meth:`Backend.dot`.
"""
from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .errors import BackendUnavailableError

log = logging.getLogger(__name__)

PRECISIONS = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class Backend:
    """Array module, working dtype and device, passed explicitly to every stage.

    Examples
    --------
    >>> from perfusion.backend import make_backend
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
        same bits on every machine), and does not stall when the cores are shared.
        """
        if self.name == "numpy":
            return float(np.einsum("i,i->", a.ravel(), b.ravel(), dtype=np.float64))
        return float(self.xp.vdot(a.ravel().astype(self.xp.float64, copy=False),
                                  b.ravel().astype(self.xp.float64, copy=False)))


def _cupy_status() -> tuple[ModuleType | None, str]:
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
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
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
    cupy, description = _cupy_status()
    if cupy is not None:
        if name == "auto":
            log.info("backend auto: chose cupy (%s)", description)
        return Backend("cupy", cupy, dtype, description)
    if name == "cupy":
        raise BackendUnavailableError(
            f"backend 'cupy' was requested but cannot be used: {description}. "
            "Install the GPU extra matching your CUDA (pip install 'perfusion[cuda12]' or "
            "'perfusion[cuda13]') on a machine with an NVIDIA GPU, or run with --backend numpy.")
    log.info("backend auto: chose numpy (%s)", description)
    return Backend("numpy", np, dtype, _cpu_description())


def describe_backends() -> list[dict[str, str]]:
    """What each backend would be on this machine (for ``perfusion info``)."""
    cupy, description = _cupy_status()
    return [
        {"backend": "numpy", "available": "yes", "device": _cpu_description()},
        {"backend": "cupy", "available": "yes" if cupy is not None else "no",
         "device": description},
    ]
