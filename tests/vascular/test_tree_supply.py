"""Tree supplies end to end: conservation, catheter placement, embolisation, outputs, errors."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from case_data import LIVER, WELL_MIXED, tracer

from perfusion.compute.backend import make_backend
from perfusion.case.loader import case_from_dict
from perfusion.cli import main
from perfusion.cli.run_commands import _summary
from perfusion.domain import build_domain
from perfusion.steady.embolization import embolized_steady
from perfusion.pipeline import run_case
from perfusion.steady.solve import solve_steady
from perfusion.vascular.tree_file import read_tree_vtp

TREE = {"source": "generated", "root": ["48 mm", "6 mm", "40 mm"], "inflow": "65 mL/min",
        "pressure": "100 mmHg", "terminals": 60, "seed": 3, "kernel_radius": "6 mm"}


def tree_case(catheter=None, **tree) -> dict:
    raw = copy.deepcopy(LIVER)
    raw["supplies"][0] = {"name": "hepatic_artery", "tree": {**TREE, **tree}}
    raw["catheter"] = {"supply": "hepatic_artery", **(catheter or {"feeds": "tumor"})}
    return raw


def steady_of(raw):
    case = case_from_dict(raw)
    domain = build_domain(case, make_backend("numpy", "float64"))
    return case, domain, solve_steady(case, domain)


@pytest.mark.parametrize("boundary", ["inflow", "pressure"])
def test_root_inflow_equals_terminal_flows_equals_tissue_perfusion(boundary):
    _, domain, steady = steady_of(tree_case(boundary=boundary))
    supply = steady.supplies["hepatic_artery"]
    flow = supply.tree_flow
    delivered = float(supply.perfusion.sum()) * domain.voxel_volume
    if boundary == "inflow":
        assert flow.inflow == pytest.approx(65 / 6e7, rel=1e-8)
    else:   # the root pressure drives it: 100 mmHg at the root, to solver tolerance
        root = supply.feed.tree.roots[0]
        assert flow.node_pressure[root] + steady.venous_pressure == pytest.approx(
            100 * 133.322387415, rel=1e-12)
    assert flow.terminal_flow.sum() == pytest.approx(flow.inflow, rel=1e-8)
    assert delivered == pytest.approx(flow.inflow, rel=1e-8)
    assert len(supply.inlets) == 60 and supply.conservation_error < 1e-8
    assert supply.inflow == pytest.approx(flow.inflow, rel=1e-12)


def test_catheter_placements_and_their_territories():
    by_feed = steady_of(tree_case({"feeds": "tumor", "feed_fraction": 0.5}))[2]
    placement = by_feed.catheter
    tree = by_feed.supplies["hepatic_artery"].feed.tree
    flow = by_feed.supplies["hepatic_artery"].tree_flow
    assert placement.class_share["tumor"] >= 0.5
    # most distal: no child of the chosen vessel still carries half the tumour inflow
    for child in tree.children(placement.segment):
        sub = steady_of(tree_case({"vessel": int(child)}))[2].catheter
        assert sub.class_share["tumor"] < 0.5
    assert placement.flow == pytest.approx(flow.segment_flow[placement.segment])
    territory = by_feed.catheter_territory
    assert territory.flow_weighted_mean == pytest.approx(territory.expected_mean, rel=1e-8)
    assert territory.catheter_flow == pytest.approx(placement.flow, rel=1e-8)
    # by position: the segment whose axis passes nearest
    a, b = tree.points[tree.segments[placement.segment]]
    by_position = steady_of(tree_case({"position": [f"{v * 1e3} mm" for v in (a + b) / 2]}))[2]
    assert by_position.catheter.segment == placement.segment


def test_embolising_the_catheterised_subtree_cuts_its_flow():
    raw = tree_case({"feeds": "tumor", "feed_fraction": 0.5})
    raw["drug"] = tracer()
    raw["systemic"] = WELL_MIXED["systemic"]
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "5 min",
                        "dose": "1 mg"}]
    raw["simulation"] = {"duration": "10 min"}
    raw["embolization"] = {"time": "5 min", "factor": 0.05}
    case, domain, steady = steady_of(raw)
    after = embolized_steady(case, domain, steady)
    segment = steady.catheter.segment
    before_flow = steady.supplies["hepatic_artery"].tree_flow.segment_flow[segment]
    after_flow = after.supplies["hepatic_artery"].tree_flow
    assert after_flow.segment_flow[segment] < 0.3 * before_flow
    assert after_flow.inflow == pytest.approx(65 / 6e7, rel=1e-8)   # the root flow is held
    supply = after.supplies["hepatic_artery"]
    delivered = float(supply.perfusion.sum()) * domain.voxel_volume
    assert delivered == pytest.approx(after_flow.inflow, rel=1e-8)


def test_run_writes_the_tree_and_its_metrics(tmp_path):
    raw = tree_case({"feeds": "tumor"})
    raw["drug"] = tracer()
    raw["systemic"] = WELL_MIXED["systemic"]
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "10 min",
                        "dose": "1 mg"}]
    raw["simulation"] = {"duration": "20 min", "output_every": "10 min"}
    result = run_case(case_from_dict(raw), tmp_path / "out", backend="numpy")
    metrics = result.metrics
    tree_metrics = metrics["trees"]["hepatic_artery"]
    assert tree_metrics["terminals"] == 60
    assert tree_metrics["conservation_relative_error"] < 1e-8
    assert metrics["catheter"]["class_inflow_share"]["tumor"] >= 0.8
    tree, points, cells = read_tree_vtp(tmp_path / "out" / "fields" / "tree_hepatic_artery.vtp")
    assert len(tree.segments) == tree_metrics["segments"]
    assert cells["flow"].max() == pytest.approx(65 / 6e7, rel=1e-8)
    inside = cells["catheter"] == 1
    assert inside.sum() > 0 and np.all(cells["drug_plasma_peak"][inside]
                                       > cells["drug_plasma_peak"][~inside].max())
    assert points["pressure"].max() > points["pressure"].min()
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["trees"]["hepatic_artery"]["segments"] == tree_metrics["segments"]
    summary = _summary(saved)
    assert "hepatic_artery tree: 60 terminals" in summary and "catheter in segment" in summary


def _cli(raw, tmp_path, *extra):
    path = tmp_path / "case.toml"
    path.write_text(tomli_w.dumps(raw))
    return CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out"),
                                     "--backend", "numpy", *extra])


def test_unknown_catheter_vessel_is_a_clear_error(tmp_path):
    result = _cli(tree_case({"vessel": 99999}), tmp_path)
    assert result.exit_code == 1
    assert "catheter.vessel" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_root_outside_the_tissue_is_a_clear_error(tmp_path):
    result = _cli(tree_case(root=["48 mm", "-30 mm", "40 mm"]), tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "supplies.0.tree" in result.output or "root" in result.output


def test_catheter_needs_a_tree_placement_on_a_tree_supply(tmp_path):
    result = _cli(tree_case({"inlets": ["right"]}), tmp_path)
    assert result.exit_code == 1 and "catheter.inlets" in result.output


def test_superselective_beats_lobar(tmp_path):
    """Same tree and dose: a catheter on the tumour feeder gives a higher tumour share of the
    exposure, a higher tumour-to-normal ratio and less normal-tissue exposure than a
    proximal (lobar) one."""
    runs = {}
    for name, fraction in (("lobar", 0.95), ("superselective", 0.5)):
        raw = tree_case({"feeds": "tumor", "feed_fraction": fraction})
        raw["drug"] = tracer(uptake="linear", uptake_rate="1e-3 1/s", release_rate="1e-4 1/s")
        raw["systemic"] = WELL_MIXED["systemic"]
        raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                            "dose": "5 mg"}]
        raw["simulation"] = {"duration": "40 min"}
        runs[name] = run_case(case_from_dict(raw), tmp_path / name, backend="numpy").metrics
    lobar, selective = runs["lobar"], runs["superselective"]
    assert selective["catheter"]["vessel_flow_ml_min"] < lobar["catheter"]["vessel_flow_ml_min"]
    assert selective["auc_share"]["tumor"] > lobar["auc_share"]["tumor"]
    assert selective["tumor_to_normal_auc"] > lobar["tumor_to_normal_auc"]
    assert selective["auc"]["normal"] < lobar["auc"]["normal"]


def test_loaded_tree_outside_the_tissue_is_a_clear_error(tmp_path):
    from perfusion.vascular import VascularTree
    from perfusion.vascular.tree_file import write_tree_vtp

    points = np.array([[48, 30, 40], [48, 44, 40], [40, 56, 40], [56, 56, 40]], float) * 1e-3
    tree = VascularTree.from_edges(points, [[0, 1], [1, 2], [1, 3]], [1e-3, 7e-4, 7e-4], [0])
    write_tree_vtp(tmp_path / "tree.vtp", tree)
    raw = tree_case()
    raw["supplies"][0]["tree"] = {"source": "centerlines", "path": str(tmp_path / "tree.vtp"),
                                  "radius_array": "radius", "unit": "1 m", "inflow": "65 mL/min",
                                  "origin": ["0 m", "0 m", "0.5 m"]}      # shifted out of the grid
    result = _cli(raw, tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "supplies.0.tree" in result.output and "outside the grid" in result.output
    raw["supplies"][0]["tree"]["origin"] = ["0 m", "0 m", "0 m"]         # where it belongs
    steady = steady_of(raw)[2]
    assert steady.supplies["hepatic_artery"].tree_flow.inflow == pytest.approx(65 / 6e7, rel=1e-8)


def test_vessel_mask_without_vessels_is_a_clear_error(tmp_path):
    import nibabel

    empty = nibabel.Nifti1Image(np.zeros((24, 22, 20), np.uint8), np.diag([4.0, 4.0, 4.0, 1.0]))
    nibabel.save(empty, tmp_path / "vessels.nii.gz")
    raw = tree_case()
    raw["supplies"][0]["tree"] = {"source": "mask", "path": str(tmp_path / "vessels.nii.gz"),
                                  "inflow": "65 mL/min"}
    result = _cli(raw, tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "supplies.0.tree.path" in result.output and "vessels.nii.gz" in result.output


def test_drug_split_by_flow_or_streaming_and_transit_times():
    from perfusion.vascular import VascularTree
    from perfusion.vascular.catheter import drug_split

    points = np.array([[0, 0, 0], [10, 0, 0], [16, 5, 0], [18, -4, 0]], float) * 1e-3
    tree = VascularTree.from_edges(points, [[0, 1], [1, 2], [1, 3]], [1e-3, 7e-4, 5e-4], [0])
    flow = np.array([3.0, 2.0, 1.0]) * 1e-6
    share, weights, transit = drug_split(tree, flow, 0, 1.0)
    assert share == pytest.approx([1, 2 / 3, 1 / 3], rel=1e-12)
    assert all(w == pytest.approx(1.0, rel=1e-12) for w in weights.values())
    share, weights, _ = drug_split(tree, flow, 0, 2.0)
    assert share[1:] == pytest.approx([4 / 5, 1 / 5], rel=1e-12)
    q_terminal = {f"terminal {tree.segments[s, 1]}": flow[s] for s in (1, 2)}
    assert sum(q_terminal[n] * a for n, a in weights.items()) == pytest.approx(flow[0], rel=1e-12)
    volume = np.pi * tree.radii ** 2 * tree.lengths
    assert transit == pytest.approx([volume[0] / flow[0], volume[0] / flow[0] + volume[1] / flow[1],
                                     volume[0] / flow[0] + volume[2] / flow[2]], rel=1e-12)


def test_streaming_keeps_the_drug_flux_and_shifts_it_to_dominant_branches():
    mixed = steady_of(tree_case({"feeds": "tumor", "feed_fraction": 0.95}))[2]
    streaming = steady_of(tree_case({"feeds": "tumor", "feed_fraction": 0.95,
                                     "streaming_exponent": 3.0}))[2]
    assert len(mixed.catheter.inlets) > 10
    for steady in (mixed, streaming):
        territory = steady.catheter_territory
        assert territory.flow_weighted_mean == pytest.approx(territory.expected_mean, rel=1e-8)
    weights = streaming.catheter.inlet_weights
    assert max(weights.values()) > 1.05 and min(weights.values()) < 0.95
    assert all(w == pytest.approx(1.0) for w in mixed.catheter.inlet_weights.values())
    assert streaming.catheter.summary()["transit_s"]["max"] < 5.0


def test_float32_tree_supply_agrees_with_float64():
    case = case_from_dict(tree_case())
    flows = {}
    for precision in ("float64", "float32"):
        domain = build_domain(case, make_backend("numpy", precision))
        supply = solve_steady(case, domain).supplies["hepatic_artery"]
        assert supply.conservation_error < (1e-8 if precision == "float64" else 1e-5)
        flows[precision] = supply.tree_flow.terminal_flow
    assert np.abs(flows["float32"] - flows["float64"]).max() <= 1e-4 * flows["float64"].max()
