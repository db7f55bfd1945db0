"""Shared fixtures: the ``backend`` fixture runs a test on every backend available.

NumPy always; CuPy on a usable GPU, and elsewhere the strict CuPy stand-in of
``tests/cupy_standin`` (NumPy on the CPU behind CuPy's rules, kernels compiled with g++),
installed as ``cupy`` before any test imports it, so the CuPy path runs everywhere.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from case_data import LIVER, WELL_MIXED

from perfusion.compute.backend import BackendUnavailableError, make_backend


def _real_cupy_has_a_gpu() -> bool:
    try:
        import cupy  # noqa: PLC0415

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # not installed, a broken CUDA install, or no device
        return False


def install_cupy_standin() -> None:
    """Make ``import cupy`` give the stand-in, unless the real CuPy has a GPU to run on."""
    if _real_cupy_has_a_gpu():
        return
    for name in [m for m in sys.modules if m.split(".")[0] in ("cupy", "cupy_backends")]:
        del sys.modules[name]
    sys.path.insert(0, str(Path(__file__).with_name("cupy_standin")))
    import cupy  # noqa: F401, PLC0415  (now the stand-in)


install_cupy_standin()


def _backend_or_skip(name: str, precision: str):
    try:
        return make_backend(name, precision)
    except BackendUnavailableError as exc:
        pytest.skip(f"{name} backend unavailable: {exc}")


@pytest.fixture(params=["numpy", "cupy"])
def backend(request):
    """float64 backend, once per array module."""
    return _backend_or_skip(request.param, "float64")


@pytest.fixture
def host():
    """The NumPy float64 backend (for tests of host-only code)."""
    return make_backend("numpy", "float64")


@pytest.fixture
def liver_dict():
    """A small two-supply phantom liver with two tumours (one necrotic), as a raw case dict."""
    return copy.deepcopy(LIVER)


@pytest.fixture
def well_mixed_dict():
    """A uniformly perfused box fed entirely by the catheter (a well-mixed region)."""
    return copy.deepcopy(WELL_MIXED)
