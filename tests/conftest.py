"""Shared fixtures: the ``backend`` fixture runs a test on every backend available.

NumPy always; CuPy where a usable GPU is present (otherwise the CuPy parameters are
skipped with the reason shown by ``pytest -ra``).
"""
from __future__ import annotations

import copy

import pytest

from perfusion.backend import BackendUnavailableError, make_backend


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


LIVER = {
    "case": {"name": "small-liver"},
    "grid": {"shape": [24, 22, 20], "spacing": "4 mm"},
    "geometry": {
        "kind": "phantom",
        "organ": {"shape": "ellipsoid", "radii": ["44 mm", "40 mm", "36 mm"]},
        "tumors": [{"center": ["62 mm", "46 mm", "40 mm"], "radius": "13 mm",
                    "necrotic_radius": "6 mm"},
                   {"center": ["28 mm", "40 mm", "44 mm"], "radius": "8 mm"}],
    },
    "tissue": {
        "normal": {"supply_fractions": {"hepatic_artery": 0.25, "portal_vein": 0.75}},
        "tumor": {"perfusion": "40 mL/min/(100 mL)",
                  "supply_fractions": {"hepatic_artery": 0.9, "portal_vein": 0.1}},
    },
    "supplies": [
        {"name": "hepatic_artery", "inlets": [
            {"name": "right", "position": ["62 mm", "40 mm", "36 mm"], "flow": "30 mL/min"},
            {"name": "left", "position": ["26 mm", "46 mm", "40 mm"], "flow": "20 mL/min"},
            {"name": "caudal", "position": ["48 mm", "30 mm", "24 mm"], "flow": "15 mL/min"}]},
        {"name": "portal_vein", "pressure_drop": "8 mmHg", "conductivity": "2e-8 m^2/(Pa*s)",
         "inlets": [{"name": "trunk", "position": ["48 mm", "48 mm", "40 mm"], "flow": "190 mL/min"}]},
    ],
    "catheter": {"supply": "hepatic_artery", "inlets": ["right"]},
}


@pytest.fixture
def liver_dict():
    """A small two-supply phantom liver with two tumours (one necrotic), as a raw case dict."""
    return copy.deepcopy(LIVER)
