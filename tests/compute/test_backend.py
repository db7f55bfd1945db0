"""The backend seam: explicit choice, no silent fallback, float32 with float64 reductions."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from perfusion.compute.backend import make_backend
from perfusion.case import case_from_dict
from perfusion.domain import build_domain
from perfusion.errors import BackendUnavailableError
from perfusion.steady.solve import solve_steady


def test_auto_says_what_it_chose(caplog):
    with caplog.at_level(logging.INFO, logger="perfusion.compute.backend"):
        backend = make_backend("auto")
    assert backend.name in ("numpy", "cupy")
    assert f"chose {backend.name}" in caplog.text


@pytest.mark.parametrize("name, precision, message", [
    ("gpu", "float64", "backend 'gpu' is unknown"),
    ("numpy", "float16", "precision 'float16' is not supported"),
])
def test_bad_requests(name, precision, message):
    with pytest.raises(BackendUnavailableError, match=message):
        make_backend(name, precision)


@pytest.mark.parametrize("name", ["numpy", "cupy"])
def test_float32_reductions_accumulate_in_float64(name, monkeypatch):
    """Sums and dot products of float32 arrays in float64: on CuPy the dot converts chunks
    (here of 3,000,001 elements, so the last one is partial), never the whole arrays."""
    from perfusion.compute import backend as backend_module

    monkeypatch.setattr(backend_module, "DOT_CHUNK", 3_000_001)
    try:
        backend = make_backend(name, "float32")
    except BackendUnavailableError as exc:
        pytest.skip(f"{name} backend unavailable: {exc}")
    values = backend.asarray(np.full(10_000_000, 0.1))
    assert values.dtype == np.float32
    assert backend.sum(values) == pytest.approx(1e7 * float(np.float32(0.1)), rel=1e-12)
    # float64 sums of 1e7 terms, in another order than the reference's: 1e-10, not round-off
    assert backend.dot(values, values) == pytest.approx(1e7 * float(np.float32(0.1)) ** 2, rel=1e-10)
    ramp = backend.asarray(np.linspace(0, 1, 10_000_000))
    host = backend.to_host(ramp).astype(np.float64)
    assert backend.dot(ramp, values) == pytest.approx(float(host @ np.full(host.size, float(
        np.float32(0.1)))), rel=1e-10)


@pytest.mark.parametrize("name", ["numpy", "cupy"])
def test_float32_matches_float64(name, liver_dict):
    """float32 fields agree with float64 to the float32 solver tolerance (1e-6 residual)."""
    try:
        single = make_backend(name, "float32")
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    double = make_backend(name, "float64")
    case = case_from_dict(liver_dict)
    results = {}
    for backend in (single, double):
        domain = build_domain(case, backend)
        steady = solve_steady(case, domain)
        results[backend.precision] = (domain.class_means(steady.perfusion),
                                      domain.class_means(steady.interstitial.pressure),
                                      max(s.conservation_error for s in steady.supplies.values()))
    for f32, f64 in zip(results["float32"][:2], results["float64"][:2]):
        for key in f64:
            assert f32[key] == pytest.approx(f64[key], rel=1e-4, abs=1e-12)
    assert results["float32"][2] < 1e-4
