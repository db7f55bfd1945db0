"""Exchange, uptake and the body against closed forms (docs/model.md §6, §7, §12).

- Renkin–Crone: blood crossing tissue with zero drug loses ``E = 1 − e^{−PS/F_p}`` of it
  (single-pass extraction; the venous fraction is ``e^{−PS/F_p}``), PS/F = 1 and 3, to 1e-6.
- Saturable uptake (El-Kareh & Secomb) at steady state: ``U = 0`` gives
  ``c_c = K_i c_e/(v_e K_e)`` with ``c_e = c_p`` (no elimination), to 1e-8.
- Two-compartment PK through the whole loop (no exchange: P = 0, σ_f = 1): a constant IV
  infusion and a 1-s bolus against the bi-exponential closed form from the eigenvectors of
  the rate matrix (independent of the matrix exponential the code uses), to 1e-9; mass
  balance ≤ 1e-10.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.library.drugs import get_drug
from perfusion.transport.body.pk import SystemicPK
from perfusion.transport.exchange import ExchangeCoefficients, pointwise_step
from perfusion.transport.uptake import UptakeModel


@pytest.mark.parametrize("ps_over_f", [1.0, 3.0])
def test_renkin_crone_single_pass_extraction(backend, ps_over_f):
    xp = backend.xp
    plasma_flow = xp.full((3, 1, 1), 0.01)
    coefficients = ExchangeCoefficients.build(
        xp, plasma_flow, ps_over_f * plasma_flow, xp.zeros_like(plasma_flow),
        xp.zeros_like(plasma_flow), 1.0, 0.0, xp.full_like(plasma_flow, 1 / 0.3))
    dt, c_p = 1e-6, 2.0
    none = UptakeModel(kind="none", active=None, cell_elimination=0.0)
    zero = xp.zeros_like(plasma_flow)
    _, _, moved = pointwise_step(coefficients, none, zero, zero, c_p, dt)
    extraction = backend.to_host(moved.from_plasma) / (dt * 0.01 * c_p)
    assert np.allclose(extraction, 1 - math.exp(-ps_over_f), rtol=1e-6)
    assert np.allclose(1 - extraction, math.exp(-ps_over_f), rtol=1e-5)


def test_saturable_uptake_reaches_its_steady_state(backend):
    xp = backend.xp
    dox = get_drug("doxorubicin")
    v_e = xp.asarray([0.2, 0.3, 0.4]).reshape(3, 1, 1)
    c_p = 1e-5  # 0.01 µg/mL: far from saturation, so the bound pool settles within hours
    model = UptakeModel(kind="saturable", active=xp.ones((3, 1, 1), dtype=bool), cell_elimination=0.0,
                        max_rate=dox.max_uptake_rate.value,
                        extracellular_affinity=dox.extracellular_affinity.value,
                        intracellular_affinity=dox.intracellular_affinity.value,
                        extracellular_fraction=v_e)
    flow = xp.full((3, 1, 1), 0.01)
    coefficients = ExchangeCoefficients.build(xp, flow, 3 * flow, 0 * flow, 0 * flow, 1.0, 0.0, 1 / v_e)
    free, bound = xp.zeros_like(v_e), xp.zeros_like(v_e)
    for _ in range(500):
        free, bound, _ = pointwise_step(coefficients, model, free, bound, c_p, 600.0)
    c_e = backend.to_host(free / v_e)
    expected = model.intracellular_affinity * c_e / (backend.to_host(v_e) * model.extracellular_affinity)
    assert np.allclose(c_e, c_p, rtol=1e-8)
    assert np.allclose(backend.to_host(bound), expected, rtol=1e-8)


def _infusion_closed_form(pk: SystemicPK, rate: float, length: float, t: np.ndarray) -> np.ndarray:
    """c_sys(t) for a constant IV infusion over [0, length], from the eigenvectors of B."""
    values, vectors = np.linalg.eig(pk.matrix())
    inverse = np.linalg.inv(vectors)
    during = lambda s: vectors @ np.diag(np.expm1(values * s) / values) @ inverse @ [rate, 0.0]
    out = []
    for time in t:
        if time <= length:
            amounts = during(time)
        else:
            amounts = vectors @ np.diag(np.exp(values * (time - length))) @ inverse @ during(length)
        out.append(amounts[0] / pk.central_volume)
    return np.array(out)


@pytest.mark.parametrize("length, dose", [("1 s", "10 mg"), ("2 h", "100 mg")])
def test_two_compartment_pk_through_the_loop(well_mixed_dict, tmp_path, length, dose):
    from case_data import tracer

    raw = well_mixed_dict
    raw["drug"] = tracer(permeability="0 m/s")
    raw["infusion"] = [{"route": "intravenous", "start": "0 min", "duration": length, "dose": dose}]
    raw["simulation"] = {"duration": "6 h", "output_every": "1 h", "max_step": "5 min"}
    result = run_case(case_from_dict(raw), tmp_path / "pk", backend="numpy")
    import csv

    rows = list(csv.DictReader(open(result.directory / "timeseries.csv")))
    t = np.array([float(r["time_s"]) for r in rows])
    c_sys = np.array([float(r["c_sys"]) for r in rows])
    pk = SystemicPK(5e-3, 10e-3, 500e-6 / 60, 0.05 / 60, 0.025 / 60)
    seconds = {"1 s": 1.0, "2 h": 7200.0}[length]
    rate = {"10 mg": 1e-5, "100 mg": 1e-4}[dose] / seconds
    assert np.allclose(c_sys, _infusion_closed_form(pk, rate, seconds, t), rtol=1e-9, atol=0)
    assert result.metrics["mass_balance_error"] < 1e-10
    assert result.metrics["auc"]["normal"] > 0  # plasma in the tissue's vessels is counted
