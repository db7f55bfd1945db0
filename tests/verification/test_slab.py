"""1D slab: screened Poisson with Dirichlet ends, through the IFP operators.

−K p'' + a p = a p_e on 0 < x < L, p(0) = p(L) = 0:
p = p_e (1 − cosh(m(x − L/2)) / cosh(mL/2)), m = sqrt(a/K).
The slab is a row of tissue voxels between two outside voxels (the Dirichlet surface half a
cell beyond the last voxel). Cell-centred finite volumes are second order here: ≤ 0.1% of
p_e at 100 cells with mL = 8, and an observed order of 2 ± 0.1 under refinement.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from perfusion.case import case_from_dict
from perfusion.domain import build_domain
from perfusion.steady.interstitial import solve_interstitial

L = 0.02
K_I = 6.4e-15
M_L = 8.0


def slab_error(backend, cells: int, axis: int = 0) -> float:
    h = L / cells
    shape = [1, 1, 1]
    shape[axis] = cells + 2
    size = ["1 m", "1 m", "1 m"]
    size[axis] = f"{L!r} m"
    inlet = [0, 0, 0]
    inlet[axis] = 1
    coefficient = (M_L / L) ** 2 * K_I
    raw = {
        "case": {"name": "slab"},
        "grid": {"shape": shape, "spacing": f"{h!r} m"},
        "geometry": {"kind": "phantom", "organ": {"shape": "box", "size": size}},
        "tissue": {"normal": {"interstitial_conductivity": f"{K_I} m^2/(Pa*s)",
                              "vessel_wall_conductivity": f"{coefficient!r} m/(Pa*s)",
                              "vascular_surface_density": "1 1/m",
                              "lymphatic_conductance": "0 1/(Pa*s)"}},
        "supplies": [{"name": "a", "inlets": [{"name": "i", "voxel": inlet, "flow": "1 mL/min"}]}],
    }
    case = case_from_dict(raw)
    domain = build_domain(case, backend)
    assert int((domain.labels > 0).sum()) == cells
    props = domain.tissue["normal"]
    p_e = props["capillary_pressure"] - props["osmotic_reflection"] * (
        props["plasma_oncotic_pressure"] - props["interstitial_oncotic_pressure"])
    pressure = backend.to_host(solve_interstitial(case, domain).pressure).ravel()[1:-1]
    x = (np.arange(cells) + 0.5) * h
    m = M_L / L
    exact = p_e * (1 - np.cosh(m * (x - L / 2)) / np.cosh(m * L / 2))
    return float(np.abs(pressure - exact).max() / p_e)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_slab_within_a_tenth_of_a_percent(backend, axis):
    assert slab_error(backend, 100, axis) < 1e-3


def test_slab_second_order(backend):
    errors = [slab_error(backend, n) for n in (50, 100, 200)]
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    print(f"slab errors {errors}, observed orders {orders}")
    assert all(abs(order - 2) < 0.1 for order in orders), orders
