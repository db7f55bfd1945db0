"""Exposure over all time (``perfusion.transport.total_exposure``) against a hand derivation.

The box is ``case_data.WELL_MIXED``: 216 voxels of 1 mL, uniformly perfused at
``F = 216 mL/min / 216 mL``, every voxel fed by the catheter (``θ = 1``), no filtration or
lymph (so no solvent drag and no surface outflow), hence every voxel is alike and diffusion
does nothing. For the plasma-only tracer (``R_b = 1 − Hct``) write ``F_p = (1 − Hct) F``,
``X = F_p E_RC`` (``E_RC = 1 − e^{−PS/F_p}``, ``PS = P S/V``), ``Q_p = F_p V_tot`` the
catheter's (and the box's) drug-carrying flow, ``P = S + D_cath/Q_p`` the plasma AUC
(``c_p = c_sys + I_ia/Q_p``, docs/model.md §6.1) and ``S = ∫c_sys dt``.

Per voxel (§6.3–§6.4; ``m = v_e c_e``, ``c`` bound, linear uptake ``U = k_in m − k_out c``):

    dm/dt = X (c_p − m/v_e) − k_e m − k_in m + k_out c ,    dc/dt = k_in m − (k_out + k_c) c

Every state decays to zero, so integrating over ``[0, ∞)`` from ``(m₀, c₀)`` gives, with
``M = ∫m``, ``C = ∫c``, ``q = k_out + k_c``:

    −c₀ = k_in M − q C                      ⇒ C = (k_in M + c₀)/q
    −m₀ = X P − (X/v_e + k_e + k_in) M + k_out C
        ⇒ (X/v_e + λ) M = X P + m₀ + k_out c₀/q ,      λ = k_e + k_in k_c/q

The body (§7) receives the doses and returns whatever the tissue does not eliminate; over all
time everything given (doses, the body's ``A₀``, the tissue's ``V_tot (m₀ + c₀)``) is
eliminated, by ``CL`` in the body or by ``k_e``, ``k_c`` in the tissue:

    CL S + V_tot (k_e M + k_c C) = D_cath + D_iv + A₀ + V_tot (m₀ + c₀)

Two linear equations in ``S`` and ``M``; ``AUC(C_t) = v_p P + M + C`` (§6.3). Without an
initial state this is the textbook ``S = (D_iv + D_cath (1 − E))/(CL + Q_p E)`` with the
voxel's extraction ``E = λ X/(F_p (X/v_e + λ))``, so the regional advantage (IA ÷ IV of
``AUC_T/S``, with ``AUC_T ∝ P`` in every voxel) is ``P_IA/S_IA = 1 + CL_TB/(Q_p (1 − E))`` —
Collins (1984) exactly, which ``test_collins.py`` checks for the time-stepped run to 1 %.
The whole-time AUC does not depend on ``V_1``, ``k12``, ``k21`` (left on here). Tolerance
1e-9 relative: the perfusion is uniform to ~1e-13 and the solve is converged to 1e-12.
"""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.compute.backend import make_backend
from perfusion.domain import build_domain
from perfusion.steady.solve import solve_steady
from perfusion.transport.run import drug_setup
from perfusion.transport.total_exposure import TotalExposure, catheter_plasma

HEMATOCRIT = 0.45
PERFUSION = 1 / 60                      # 216 mL/min into 216 mL [1/s]
PS = 1e-6 * 1e4                         # P · S/V of the tracer [1/s]
V_E, V_P = 0.25, 0.05
V_TOT = 216e-6                          # tissue volume [m³]
CLEARANCE = 500e-6 / 60                 # [systemic] clearance, CL_rest [m³/s]
F_P = (1 - HEMATOCRIT) * PERFUSION
Q_P = F_P * V_TOT
EXCHANGE = F_P * -math.expm1(-PS / F_P)  # X = F_p E_RC [1/s]
RATE = 1e-6 / 60                        # 1 mg/min [kg/s]
TOLERANCE = 1e-9

ELIMINATION = {"elimination_rate": "1e-3 1/s"}                          # (a) k_e, no uptake
UPTAKE = {"uptake": "linear", "uptake_rate": "2e-3 1/s", "release_rate": "5e-4 1/s",
          "cell_elimination_rate": "1e-4 1/s"}                          # (b) k_in, k_out, k_c
RATES = {"elimination": (1e-3, 0.0, 0.0, 0.0), "uptake": (0.0, 2e-3, 5e-4, 1e-4)}


def closed_form(rates, catheter_dose=0.0, iv_dose=0.0, free0=0.0, bound0=0.0, body0=0.0):
    """(AUC C_t, M, C, S) of one voxel from the derivation in the module docstring."""
    k_e, k_in, k_out, k_c = rates
    q = k_out + k_c
    loss = k_e + (k_in * k_c / q if k_in else 0.0)                       # λ
    release = k_out * bound0 / q if k_in else 0.0
    back = EXCHANGE / V_E + loss
    # M = (X (S + D_cath/Q_p) + m₀ + k_out c₀/q)/back = m_per_s S + m_rest
    m_per_s, m_rest = EXCHANGE / back, (EXCHANGE * catheter_dose / Q_P + free0 + release) / back
    bound_decay0 = k_c * bound0 / q if k_in else 0.0
    given = catheter_dose + iv_dose + body0 + V_TOT * (free0 + bound0)
    systemic = (given - V_TOT * (loss * m_rest + bound_decay0)) / (CLEARANCE + V_TOT * loss * m_per_s)
    free = m_per_s * systemic + m_rest
    bound = (k_in * free + bound0) / q if k_in else 0.0
    plasma = systemic + catheter_dose / Q_P
    return V_P * plasma + free + bound, free, bound, systemic


def _raw(drug, infusion, duration):
    from case_data import WELL_MIXED, tracer

    raw = copy.deepcopy(WELL_MIXED)
    raw["drug"] = tracer(**drug)
    raw["infusion"] = infusion
    raw["simulation"] = {"duration": duration, "output_every": duration, "max_step": "1 min",
                         "compare_iv": True}
    return raw


IA_ONLY = [{"route": "intra-arterial", "start": "0 min", "duration": "30 min", "rate": "1 mg/min"}]
IA_AND_IV = IA_ONLY + [{"route": "intravenous", "start": "10 min", "duration": "30 min",
                        "rate": "0.5 mg/min"}]


@pytest.fixture(scope="module", params=["elimination", "uptake"])
def box_run(request, tmp_path_factory):
    """A run of the box with both routes in its schedule (and the IV comparator)."""
    drug = ELIMINATION if request.param == "elimination" else UPTAKE
    raw = _raw(drug, IA_AND_IV, "40 min")
    result = run_case(case_from_dict(raw), tmp_path_factory.mktemp("box") / "run",
                      backend="numpy")
    metrics = json.loads((result.directory / "metrics.json").read_text())
    return RATES[request.param], metrics


def test_run_reports_the_closed_form(box_run):
    """metrics.json → exposure_total: AUC of C_t, ∫c_sys and the regional advantage."""
    rates, metrics = box_run
    total = metrics["exposure_total"]
    catheter, iv = 30 * RATE * 60, 15 * RATE * 60
    tissue, _, _, systemic = closed_form(rates, catheter_dose=catheter, iv_dose=iv)
    iv_tissue, _, _, iv_systemic = closed_form(rates, iv_dose=catheter + iv)
    assert total["linear_model"] is True
    assert total["target"] == "all tissue"
    assert total["systemic_auc"] == pytest.approx(systemic, rel=TOLERANCE)
    assert total["tumor_auc"] == pytest.approx(tissue, rel=TOLERANCE)
    assert total["auc"]["normal"] == pytest.approx(tissue, rel=TOLERANCE)
    assert total["regional_advantage"] == pytest.approx(
        (tissue / systemic) / (iv_tissue / iv_systemic), rel=TOLERANCE)
    # the run's own window plus its tail is the time-stepped estimate of the same number
    assert total["window_and_tail_relative_difference"] < 1e-2


@pytest.mark.parametrize("kind", ["elimination", "uptake"])
def test_regional_advantage_is_collins_exactly(tmp_path, kind):
    """All-IA schedule: exposure_total.regional_advantage = 1 + CL_TB/(Q_p (1 − E)) (§7),
    ``E`` written as docs/model.md states it, ``E_RC v_e k/(F_p E_RC + v_e k)`` with ``k``
    every first-order loss of free drug (uptake followed by bound decay included)."""
    k_e, k_in, k_out, k_c = RATES[kind]
    drug = ELIMINATION if kind == "elimination" else UPTAKE
    result = run_case(case_from_dict(_raw(drug, IA_ONLY, "30 min")), tmp_path / "run",
                      backend="numpy")
    metrics = json.loads((result.directory / "metrics.json").read_text())
    k = k_e + (k_in * k_c / (k_out + k_c) if k_in else 0.0)
    e_rc = EXCHANGE / F_P
    extraction = e_rc * V_E * k / (F_P * e_rc + V_E * k)
    total_body = CLEARANCE + Q_P * extraction
    collins = 1 + total_body / (Q_P * (1 - extraction))
    assert collins > 2                              # a real advantage, not a trivial 1
    assert metrics["exposure_total"]["regional_advantage"] == pytest.approx(collins,
                                                                            rel=TOLERANCE)
    # the organ's own clearance the run reports is Q_p E of the same voxel
    assert metrics["organ_clearance_ml_min"] == pytest.approx(Q_P * extraction * 6e7, rel=1e-9)


@pytest.fixture(scope="module")
def box_system():
    """TotalExposure of the uptake tracer on the box, and the catheter's ``g``."""
    from case_data import WELL_MIXED, tracer

    raw = copy.deepcopy(WELL_MIXED)
    raw["drug"] = tracer(**UPTAKE)
    raw["infusion"] = IA_ONLY
    raw["simulation"] = {"duration": "30 min"}
    case = case_from_dict(raw)
    backend = make_backend("numpy", "float64")
    domain = build_domain(case, backend)
    steady = solve_steady(case, domain)
    setup = drug_setup(case, domain, steady)
    system = TotalExposure(setup.problem, setup.pk.clearance, domain.voxel_volume, backend)
    return system, catheter_plasma(system, setup.problem, backend)


def test_every_voxel_matches_free_bound_and_systemic(box_system):
    """TotalExposure.totals voxel by voxel: M, C and AUC(C_t), for IA and IV doses."""
    system, g = box_system
    assert system.index.size == 216
    assert g == pytest.approx(np.full(216, 1 / Q_P), rel=1e-12)
    for catheter, iv in ((3e-5, 0.0), (0.0, 3e-5), (2e-5, 1e-5)):
        totals = system.totals(catheter, iv, g)
        tissue, free, bound, systemic = closed_form(RATES["uptake"], catheter, iv)
        assert totals.systemic == pytest.approx(systemic, rel=TOLERANCE)
        assert totals.free == pytest.approx(np.full(216, free), rel=TOLERANCE)
        assert totals.bound == pytest.approx(np.full(216, bound), rel=TOLERANCE)
        assert totals.tissue == pytest.approx(np.full(216, tissue), rel=TOLERANCE)


def test_decay_from_an_initial_state(box_system):
    """The tail of a run: no dose, drug in the tissue (free and bound) and in the body."""
    system, _ = box_system
    free0, bound0, body0 = 2e-3, 5e-3, 4e-6       # kg/m³ per voxel, kg in the body
    totals = system.totals(free0=np.full(216, free0), bound0=np.full(216, bound0), body0=body0)
    tissue, free, bound, systemic = closed_form(RATES["uptake"], free0=free0, bound0=bound0,
                                                body0=body0)
    assert totals.systemic == pytest.approx(systemic, rel=TOLERANCE)
    assert totals.free == pytest.approx(np.full(216, free), rel=TOLERANCE)
    assert totals.bound == pytest.approx(np.full(216, bound), rel=TOLERANCE)
    assert totals.tissue == pytest.approx(np.full(216, tissue), rel=TOLERANCE)
