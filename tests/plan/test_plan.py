"""``perfusion plan`` against ``perfusion run``: every row is what a run with the catheter in
that vessel reports (``exposure_total``), the pieces add up, and bad input is refused.

The case is the tests' small liver (``case_data.LIVER``) with a 60-terminal generated
hepatic arterial tree and tumour feeders, and a linear drug (FUDR: linear uptake into a
bound pool that decays), so the plan's superposition is exact and must agree with the full
pipeline to round-off; 1e-6 is the issue's bound, the observed differences are ~1e-12.
"""
from __future__ import annotations

import copy
import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from case_data import LIVER

from perfusion.case import case_from_dict
from perfusion.case.checks import KeyedCaseError
from perfusion.cli import main
from perfusion.pipeline import run_case
from perfusion.plan.exact import vessel_case
from perfusion.plan.run import plan_case

TREE = {"source": "generated", "root": ["48 mm", "6 mm", "40 mm"], "inflow": "65 mL/min",
        "pressure": "100 mmHg", "terminals": 60, "seed": 3, "kernel_radius": "6 mm",
        "feeders": {"feeds": "tumor", "terminals": 3}}
COMPARED = ("tumor_auc", "normal_auc", "tumor_to_normal_auc", "tumor_coverage",
            "normal_volume_above_ml", "tumor_auc_share", "tumor_blood_share",
            "regional_advantage", "systemic_auc")


def tree_case(drug="floxuridine", streaming=1.0, threshold="20 ug*h/mL") -> dict:
    raw = copy.deepcopy(LIVER)
    raw["supplies"][0] = {"name": "hepatic_artery", "tree": dict(TREE)}
    raw["catheter"] = {"supply": "hepatic_artery", "feeds": "tumor",
                       "streaming_exponent": streaming}
    raw["drug"] = {"name": drug}
    raw["patient"] = {"weight": "70 kg", "height": "175 cm"}
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "30 min",
                        "dose": "1 mg"}]
    raw["exposure"] = {"auc_threshold": threshold}
    raw["simulation"] = {"duration": "1 h", "output_every": "1 h", "max_step": "5 min",
                         "compare_iv": True}
    return raw


@pytest.fixture(scope="module")
def linear_plan():
    case = case_from_dict(tree_case())
    return case, plan_case(case, min_radius=0.0)


@pytest.mark.slow
@pytest.mark.parametrize("rank", [0, 3, -1])
def test_a_plan_row_is_what_a_run_with_the_catheter_in_that_vessel_reports(linear_plan, rank,
                                                                            tmp_path):
    case, plan = linear_plan
    row = plan.rows[rank]
    metrics = run_case(vessel_case(case, row["vessel"], compare_iv=True), tmp_path / "run").metrics
    total = metrics["exposure_total"]
    assert metrics["catheter"]["segment"] == row["vessel"]
    for key in COMPARED:
        assert row[key] == pytest.approx(total[key], rel=1e-6, abs=1e-12), key


def test_candidates_are_every_vessel_with_forward_flow_and_the_ranking_is_by_score(linear_plan):
    case, plan = linear_plan
    tree = plan.steady.supplies["hepatic_artery"].feed.tree
    flow = plan.steady.supplies["hepatic_artery"].tree_flow.segment_flow
    assert sorted(r["vessel"] for r in plan.rows) == sorted(np.flatnonzero(flow > 0).tolist())
    assert len(plan.rows) == len(tree.segments) - int((flow <= 0).sum())
    scores = [(r["score"], r["tumor_to_normal_auc"]) for r in plan.rows]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in plan.rows] == list(range(1, len(plan.rows) + 1))
    root = next(r for r in plan.rows if r["vessel"] == int(tree.root_segments[0]))
    assert root["tumor_blood_share"] < max(r["tumor_blood_share"] for r in plan.rows)


def test_each_candidate_is_the_flow_weighted_sum_of_its_children(linear_plan):
    """With σ = 1 the drug divides as the flow: the free-drug AUC per dose through a parent
    is the flow-weighted mean of its children's, and the territory is their sum."""
    _, plan = linear_plan
    supply = plan.steady.supplies["hepatic_artery"]
    tree, flow = supply.feed.tree, supply.tree_flow.segment_flow
    where = {r["vessel"]: i for i, r in enumerate(plan.rows[:len(plan.territory)])}
    parents = [s for s in where if tree.children(s).size == 2
               and all(int(c) in where for c in tree.children(s))]
    assert parents
    for s in parents[:5]:
        a, b = (where[int(c)] for c in tree.children(s))
        np.testing.assert_allclose(plan.territory[where[s]],
                                   plan.territory[a] + plan.territory[b], rtol=1e-5, atol=1e-7)
        share = flow[tree.children(s)] / flow[s]
        assert share.sum() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.slow
def test_streaming_splits_compose_through_the_pieces(tmp_path):
    case = case_from_dict(tree_case(streaming=2.0))
    plan = plan_case(case, min_radius=0.0, pairs=False)
    row = plan.rows[len(plan.rows) // 2]
    total = run_case(vessel_case(case, row["vessel"], compare_iv=True),
                     tmp_path / "run").metrics["exposure_total"]
    for key in ("tumor_auc", "normal_auc", "tumor_blood_share"):
        assert row[key] == pytest.approx(total[key], rel=1e-6), key


def test_a_split_dose_is_the_dose_weighted_mean_of_its_two_positions(linear_plan):
    _, plan = linear_plan
    assert plan.pairs
    by_vessel = {r["vessel"]: r for r in plan.rows}
    for pair in plan.pairs[:6]:
        f = pair["dose_fraction_a"]
        a, b = by_vessel[pair["vessel_a"]], by_vessel[pair["vessel_b"]]
        for key in ("tumor_auc", "normal_auc", "systemic_auc"):
            assert pair[key] == pytest.approx(f * a[key] + (1 - f) * b[key], rel=1e-9), key
        assert pair["tumor_blood_share"] <= max(a["tumor_blood_share"],
                                                b["tumor_blood_share"]) + 1e-12


def test_bad_candidates_and_cases_are_refused_with_the_key():
    case = case_from_dict(tree_case())
    with pytest.raises(KeyedCaseError, match="--candidates: vessel 99999 does not exist"):
        plan_case(case, vessels=[99999])
    with pytest.raises(KeyedCaseError, match="--candidates: no vessel of the tree has a radius"):
        plan_case(case, min_radius=0.1)
    point = copy.deepcopy(LIVER)
    point["drug"] = {"name": "floxuridine"}
    point["infusion"] = tree_case()["infusion"]
    point["simulation"] = tree_case()["simulation"]
    with pytest.raises(KeyedCaseError, match="catheter.supply: supply 'hepatic_artery' has "
                                             "point inlets"):
        plan_case(case_from_dict(point))


@pytest.mark.slow
def test_the_command_writes_the_plan_and_refuses_to_overwrite_it(tmp_path):
    import tomli_w

    path = tmp_path / "case.toml"
    raw = tree_case(drug="doxorubicin", threshold="1 ug*h/mL")
    path.write_text(tomli_w.dumps(raw))
    out = tmp_path / "plan"
    args = ["plan", str(path), "-o", str(out), "--exact", "1", "--no-figures"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    with open(out / "plan.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"vessel", "radius_mm", "flow_ml_min", "tumor_blood_share", "tumor_coverage",
            "tumor_to_normal_auc", "normal_auc", "regional_advantage", "score",
            "linear_error"} <= set(rows[0])
    info = json.loads((out / "plan.json").read_text())
    assert info["linear_model"] is False and len(info["exact_runs"]) == 1
    error = float(rows[0]["linear_error"])
    assert np.isfinite(error) and error != 0.0    # saturation: the linear plan is off
    assert rows[1]["linear_error"] == ""          # only the best row was re-run
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "already holds a plan; pass --overwrite" in again.output


def _intravenous(raw, catheter=True):
    raw["infusion"][0]["route"] = "intravenous"
    raw["simulation"]["compare_iv"] = False
    if not catheter:
        raw.pop("catheter")


@pytest.mark.parametrize("change, message", [
    (lambda raw: _intravenous(raw, catheter=False),
     "catheter: perfusion plan places the catheter itself"),
    (lambda raw: raw.update(embolization={"time": "20 min", "factor": 0.1}),
     "embolization: perfusion plan ranks drug exposure on one perfusion state"),
    (_intravenous, "infusion: no dose goes through the catheter"),
])
def test_cases_the_plan_cannot_rank_are_refused_with_the_key(change, message):
    raw = tree_case()
    change(raw)
    with pytest.raises(KeyedCaseError, match=message):
        plan_case(case_from_dict(raw))


def test_the_command_names_the_case_file_and_the_key(tmp_path):
    import tomli_w

    raw = tree_case()
    raw["embolization"] = {"time": "20 min", "factor": 0.1}
    path = tmp_path / "embolised.toml"
    path.write_text(tomli_w.dumps(raw))
    done = CliRunner().invoke(main, ["plan", str(path), "-o", str(tmp_path / "plan")])
    assert done.exit_code == 1
    assert f"{path}: embolization: perfusion plan ranks drug exposure" in done.output
    assert not (tmp_path / "plan").exists()
