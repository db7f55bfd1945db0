"""Tumour feeders in a case: the coupled solve, the catheter on a feeder, keyed errors."""
from __future__ import annotations

import pytest

from test_tree_supply import steady_of, tree_case

from perfusion.vascular.tree import TreeError


def _fed_case(feeders, catheter):
    raw = tree_case(catheter)
    raw["supplies"][0]["tree"]["feeders"] = feeders
    return raw


def test_coupled_solve_conserves_flow_and_the_feeder_catheter_sends_most_blood_to_the_tumour():
    _, domain, steady = steady_of(_fed_case({"feeds": "tumor", "terminals": 3},
                                            {"feeds": "tumor", "feed_fraction": 0.6}))
    supply = steady.supplies["hepatic_artery"]
    flow = supply.tree_flow
    delivered = float(supply.perfusion.sum()) * domain.voxel_volume
    assert flow.terminal_flow.sum() == pytest.approx(flow.inflow, rel=1e-8)
    assert delivered == pytest.approx(flow.inflow, rel=1e-8)
    assert supply.conservation_error < 1e-8
    assert len(supply.inlets) == 60 + 2 * 3
    summary = steady.catheter.summary()
    assert sum(summary["blood_share"].values()) == pytest.approx(1.0, rel=1e-8)
    assert summary["blood_share"]["tumor"] > 0.5
    assert summary["terminals"] == 3          # the catheter sits on the big tumour's feeder


@pytest.mark.parametrize("feeders, key", [
    ({"feeds": "bone"}, "supplies.0.tree.feeders.feeds: class 'bone' is not in the domain"),
    ({"terminals": 5000}, "supplies.0.tree.feeders: tumor component 1"),
])
def test_bad_feeders_give_keyed_errors(feeders, key):
    with pytest.raises(TreeError) as caught:
        steady_of(_fed_case(feeders, {"feeds": "tumor"}))
    assert str(caught.value).startswith(key)
