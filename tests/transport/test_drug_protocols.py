"""Protocols of the drug run: the time grid's events, repeated cycles and embolisation."""
from __future__ import annotations

import numpy as np
import pytest
from hai_protocol import DOXORUBICIN_HAI

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.case.protocol import output_times
from perfusion.transport.body.schedule import Schedule, time_grid


def test_time_grid_hits_every_event():
    schedule = Schedule.from_case(case_from_dict({**__import__("case_data").LIVER, **DOXORUBICIN_HAI}).infusion)
    outputs = output_times(7200.0, 1200.0)
    ends = time_grid(7200.0, outputs, schedule.breakpoints(), 60.0)
    for t in [600.0, 2400.0, *outputs]:
        assert np.any(ends == t)
    assert np.diff(np.concatenate([[0.0], ends])).max() <= 60.0 + 1e-9


def test_repeated_cycles_give_the_total_dose(liver_dict, tmp_path):
    liver_dict.update(drug={"name": "cisplatin"}, simulation={"duration": "3 h", "max_step": "2 min"},
                      infusion=[{"route": "intravenous", "start": "0 h", "duration": "10 min",
                                 "rate": "1 mg/min", "repeat": 3, "every": "1 h"}])
    result = run_case(case_from_dict(liver_dict), tmp_path / "cycles", backend="numpy")
    assert result.metrics["dose_kg"]["total"] == pytest.approx(30e-6)
    assert result.metrics["mass_balance_error"] < 1e-10


def test_embolisation_cuts_the_catheter_flow(liver_dict, tmp_path):
    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["simulation"] = {"duration": "2 h", "output_every": "1 h"}
    liver_dict["embolization"] = {"time": "40 min", "factor": 0.05}
    result = run_case(case_from_dict(liver_dict), tmp_path / "embo", backend="numpy")
    plain = run_case(case_from_dict({**liver_dict, "embolization": None} if False else
                                    {k: v for k, v in liver_dict.items() if k != "embolization"}),
                     tmp_path / "plain", backend="numpy")
    assert result.metrics["mass_balance_error"] < 1e-10
    # after the territory is occluded, less drug washes out of it: more stays in the tumour
    assert result.metrics["dose_fraction_in_target"]["final"] > plain.metrics["dose_fraction_in_target"]["final"]


def test_embolised_supply_conserves_and_reduces_flow(liver_dict):
    from perfusion.compute.backend import make_backend
    from perfusion.domain import build_domain
    from perfusion.steady.embolization import embolized_steady
    from perfusion.steady.solve import solve_steady

    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["embolization"] = {"time": "40 min", "factor": 0.1}
    case = case_from_dict(liver_dict)
    domain = build_domain(case, make_backend("numpy"))
    steady = solve_steady(case, domain)
    occluded = embolized_steady(case, domain, steady)
    before = steady.supplies["hepatic_artery"]
    after = occluded.supplies["hepatic_artery"]
    assert after.inflow == pytest.approx(before.inflow - 0.9 * 30e-6 / 60)
    assert after.conservation_error < 1e-8
    territory = domain.backend.to_host(steady.catheter_territory.fraction) > 0.5
    assert after.perfusion[territory].mean() < 0.2 * before.perfusion[territory].mean()
    assert occluded.catheter_territory.flow_weighted_mean == pytest.approx(
        occluded.catheter_territory.expected_mean, rel=1e-8)
