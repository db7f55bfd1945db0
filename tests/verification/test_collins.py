"""Collins (1984) regional advantage of intra-arterial over intravenous infusion.

A well-mixed region (uniformly perfused box fed entirely by the catheter) with the full
loop, constant infusion for 48 h. At steady state, with ``Q_p`` the region's *plasma* flow
and ``E`` its extraction ratio, ``R_d = (c_target/c_sys)_IA ÷ (c_target/c_sys)_IV =
1 + CL_TB / (Q_p (1 − E))``, ``CL_TB = CL_rest + Q_p E``. In our model the extraction of a
region with Renkin–Crone exchange ``E_RC = 1 − e^{−PS/F_p}`` and local elimination ``k_e``
(no uptake) is ``E = E_RC v_e k_e / (F_p E_RC + v_e k_e)``. Tolerance 1%: the whole-run AUC
includes the start-up transient (body time constant 9 min against 48 h; the peripheral
compartment is switched off here, its slow phase would bias a finite-time AUC by ~1%).

Blood-to-plasma partition (docs/model.md §6.1): the flow that carries the drug is
``Q_eff = R_b Q_blood`` — the plasma flow for a plasma-only drug (``R_b = 1 − Hct``, the
default), the blood flow for ``R_b = 1`` — and Collins holds with ``Q = Q_eff`` on the same
region. A portal-venous infusion through a catheter on a portal supply (§8.2) is the same
well-mixed region fed by the portal flow: Collins with ``Q`` the portal ``Q_eff``.
"""
from __future__ import annotations

import math

import pytest

from perfusion import run_case
from perfusion.case import case_from_dict

HEMATOCRIT = 0.45
V_E = 0.25
PERFUSION = 216 / 216 / 60  # 216 mL/min into 216 mL of tissue [1/s]
PS_OVER_F = 3.0


def _collins_run(raw, tmp_path, extraction, blood_to_plasma=None, portal=False):
    """Run the well-mixed region at a target extraction; (result, Q_eff [m³/s], expected R_d)."""
    from case_data import tracer

    r_b = 1 - HEMATOCRIT if blood_to_plasma is None else blood_to_plasma
    f_eff = r_b * PERFUSION
    e_rc = 1 - math.exp(-PS_OVER_F)
    k_e = extraction * f_eff * e_rc / (V_E * (e_rc - extraction))
    raw["drug"] = tracer(permeability=f"{PS_OVER_F * f_eff / 1e4!r} m/s",
                         elimination_rate=f"{k_e!r} 1/s")
    if blood_to_plasma is not None:
        raw["drug"]["blood_to_plasma"] = blood_to_plasma
    route = "intra-arterial"
    if portal:
        raw["supplies"][0]["name"] = raw["catheter"]["supply"] = "portal_vein"
        route = "portal-venous"
    raw["systemic"].update(k12="0 1/min", k21="0 1/min")
    raw["infusion"] = [{"route": route, "start": "0 h", "duration": "48 h", "rate": "1 mg/min"}]
    raw["simulation"] = {"duration": "48 h", "output_every": "12 h", "max_step": "5 min",
                         "compare_iv": True}
    result = run_case(case_from_dict(raw), tmp_path / "collins", backend="numpy")
    q_eff = f_eff * 216e-6
    clearance_total = 500e-6 / 60 + q_eff * extraction
    return result, q_eff, 1 + clearance_total / (q_eff * (1 - extraction))


@pytest.mark.slow
@pytest.mark.parametrize("blood_to_plasma, portal", [(1.0, False), (None, True), (1.0, True)],
                         ids=["blood-flow R_b=1", "portal plasma-only", "portal R_b=1"])
def test_collins_with_the_drug_carrying_flow(well_mixed_dict, tmp_path, blood_to_plasma, portal):
    """R_d = 1 + CL_TB/(Q_eff(1 − E)) with Q_eff = R_b Q_blood, through an artery or the portal
    vein; the plasma-only arterial case is the test above."""
    result, q_eff, expected = _collins_run(well_mixed_dict, tmp_path, 0.5, blood_to_plasma, portal)
    print(f"Collins R_b={blood_to_plasma} portal={portal}: R_d expected {expected:.4f}, "
          f"got {result.metrics['regional_advantage']:.4f}")
    assert result.metrics["regional_advantage"] == pytest.approx(expected, rel=0.01)
    flow = result.metrics["regional_advantage_flow"]
    assert flow["catheter_blood_ml_min"] == pytest.approx(216.0, rel=1e-8)
    if blood_to_plasma is not None:
        assert flow["catheter_effective_ml_min"] == pytest.approx(q_eff * 6e7, rel=1e-8)
        assert flow["catheter_effective_ml_min"] == pytest.approx(216.0, rel=1e-8)  # R_b = 1
    if portal:
        assert result.metrics["dose_kg"]["portal_venous"] == pytest.approx(48 * 60e-6, rel=1e-12)
    assert result.metrics["mass_balance_error"] < 1e-10
    assert result.metrics["iv"]["mass_balance_error"] < 1e-10


@pytest.mark.slow
@pytest.mark.parametrize("extraction", [0.3, 0.8])
def test_regional_advantage_matches_collins(well_mixed_dict, tmp_path, extraction):
    from case_data import tracer

    f_p = (1 - HEMATOCRIT) * PERFUSION
    e_rc = 1 - math.exp(-PS_OVER_F)
    k_e = extraction * f_p * e_rc / (V_E * (e_rc - extraction))
    surface = 1e4
    raw = well_mixed_dict
    raw["drug"] = tracer(permeability=f"{PS_OVER_F * f_p / surface!r} m/s",
                         elimination_rate=f"{k_e!r} 1/s")
    raw["systemic"].update(k12="0 1/min", k21="0 1/min")  # one compartment: no slow phase
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 h", "duration": "48 h", "rate": "1 mg/min"}]
    raw["simulation"] = {"duration": "48 h", "output_every": "12 h", "max_step": "5 min",
                         "compare_iv": True}
    result = run_case(case_from_dict(raw), tmp_path / "collins", backend="numpy")
    q_p = f_p * 216e-6
    clearance_total = 500e-6 / 60 + q_p * extraction
    expected = 1 + clearance_total / (q_p * (1 - extraction))
    print(f"Collins E={extraction}: R_d expected {expected:.4f}, got {result.metrics['regional_advantage']:.4f}")
    assert result.metrics["regional_advantage"] == pytest.approx(expected, rel=0.01)
    # the reported flow Q is the region's plasma flow: the catheter's, and the target's
    flow = result.metrics["regional_advantage_flow"]
    assert flow["catheter_plasma_ml_min"] == pytest.approx(q_p * 6e7, rel=1e-8)
    assert flow["target_plasma_ml_min"] == pytest.approx(q_p * 6e7, rel=1e-8)
    assert flow["catheter_blood_ml_min"] == pytest.approx(216.0, rel=1e-8)
    assert result.metrics["mass_balance_error"] < 1e-10
    assert result.metrics["iv"]["mass_balance_error"] < 1e-10
