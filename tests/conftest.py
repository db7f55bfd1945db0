"""Shared fixtures: the ``backend`` fixture runs a test on every backend available.

NumPy always; CuPy where a usable GPU is present (otherwise the CuPy parameters are
skipped with the reason shown by ``pytest -ra``).
"""
from __future__ import annotations

import copy

import pytest

from case_data import LIVER, WELL_MIXED

from perfusion.compute.backend import BackendUnavailableError, make_backend


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
