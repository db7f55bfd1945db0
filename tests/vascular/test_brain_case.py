"""The real-brain case (Hodneland et al. 2019, CC BY 4.0) on a coarse grid: the tree from
the arterial mask feeds grey and white matter, flows are conserved, the catheter sits in
the left middle cerebral artery."""
from pathlib import Path

import pytest

from perfusion.compute.backend import make_backend
from perfusion.case.loader import load_case
from perfusion.domain import build_domain
from perfusion.steady.solve import solve_steady

CASE = Path(__file__).parents[2] / "cases" / "brain_mca.toml"
DATA = Path(__file__).parents[3] / "shared" / "data" / "brain-hodneland2019"


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason=f"brain data not beside this checkout ({DATA})")
def test_brain_tree_feeds_the_brain_and_the_catheter_sits_in_the_mca():
    case = load_case(CASE, ["geometry.downsample=6"])
    domain = build_domain(case, make_backend("numpy", "float64"))
    steady = solve_steady(case, domain)
    supply = steady.supplies["cerebral_arteries"]
    flow, tree = supply.tree_flow, supply.feed.tree
    assert len(tree.roots) == 3 and len(tree.terminals) > 100
    assert flow.inflow == pytest.approx(400 / 6e7, rel=1e-8)
    assert flow.terminal_flow.sum() == pytest.approx(flow.inflow, rel=1e-8)
    assert float(supply.perfusion.sum()) * domain.voxel_volume == pytest.approx(flow.inflow,
                                                                               rel=1e-8)
    means = supply.calibration["classes"]
    assert means["grey"]["achieved_ml_min_100ml"] / means["white"]["achieved_ml_min_100ml"] \
        == pytest.approx(56 / 21, rel=0.02)
    # the MCA: a major branch (a quarter to a half of one carotid's 200 mL/min) on the left
    catheter = steady.catheter
    assert 60 / 6e7 < catheter.flow < 160 / 6e7
    assert tree.points[tree.segments[catheter.segment, 0], 0] < tree.points[:, 0].mean()
    assert flow.report.iterations < 60
    # the catheter territory (issue 13): terminals draining into the tree are sinks that remove
    # blood at the voxel's own w, so 0 ≤ w ≤ max(1, a_max) (a_t − 1 is the coupled solve's
    # Kirchhoff residual) and the tracer that enters through the catheter leaves through the
    # capillaries or the sinks: the outflow-weighted mean is the catheter's share of the inflow
    territory = steady.catheter_territory
    w = domain.backend.to_host(territory.fraction)
    a_max = max(1.0, max(catheter.inlet_weights.values()))
    assert a_max - 1 < 1e-9
    assert w.min() >= -1e-12 and w.max() <= a_max + 1e-12
    assert territory.bounds[1] <= a_max + 1e-12
    inlets = supply.inlets
    q_in = sum(i.flow for i in inlets if i.flow > 0)
    q_cath = sum(i.flow * catheter.inlet_weights[i.name] for i in inlets
                 if i.flow > 0 and i.name in catheter.inlet_weights)
    assert q_cath == pytest.approx(catheter.flow, rel=1e-8)   # Σ a_t Q_t = Q of the vessel
    assert territory.catheter_flow == pytest.approx(q_cath, rel=1e-12)
    assert territory.expected_mean == pytest.approx(q_cath / q_in, rel=1e-12)
    assert territory.flow_weighted_mean == pytest.approx(territory.expected_mean, rel=1e-8)
    sinks = -sum(i.flow for i in inlets if i.flow < 0)
    assert territory.sink_flow == pytest.approx(sinks, rel=1e-12)
    assert q_in - sinks == pytest.approx(flow.inflow, rel=1e-8)
