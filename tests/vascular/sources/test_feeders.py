"""Tumour feeders: dedicated arteries into each tumour, Murray's law, flows ∝ demand."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from perfusion.vascular.flow.network import conductances, solve_tree_flow
from perfusion.vascular.sources.feeders import FeederError, generate_fed_tree

H = 1e-3
MU = 3.6e-3
FLOW, P_ROOT, P_TERM = 1e-6, 1.2e4, 4e3


def _tissue():
    """A 20³ mm block with a large (r 3.5 mm) and a small (r 2.2 mm) tumour of twice the
    demand, and a 3-voxel tumour (too small for a feeder)."""
    centres = np.indices((20, 20, 20)).transpose(1, 2, 3, 0) + 0.5
    big = ((centres - [14, 10, 10]) ** 2).sum(-1) < 3.5**2
    small = ((centres - [5, 5, 5]) ** 2).sum(-1) < 2.2**2
    tiny = np.zeros_like(big)
    tiny[2:5, 17, 17] = True
    tumour = big | small | tiny
    return np.ones(big.shape, bool), np.where(tumour, 2.0, 1.0), tumour


def _grow(count=2, feeder_terminals=4, seed=1, terminals=40):
    mask, demand, tumour = _tissue()
    return generate_fed_tree(mask, demand, tumour, H, root=(0.0, 10e-3, 10e-3), flow=FLOW,
                             root_pressure=P_ROOT, terminal_pressure=P_TERM,
                             terminals=terminals, count=count,
                             feeder_terminals=feeder_terminals, seed=seed, viscosity=MU)


def _component_of_terminals(tree, labels):
    cells = np.floor(tree.points[tree.terminals] / H).astype(int)
    return labels[tuple(cells.T)]


def _feeders(tree, labels):
    """Per component label, the feeder segments: maximal subtrees whose terminals all lie in
    that component."""
    where = _component_of_terminals(tree, labels)
    terminal_of = {int(s): int(c) for s, c in zip(tree.terminal_segments, where)}
    found = {}
    for s in range(len(tree.segments)):
        below = {terminal_of[t] for t in tree.subtree(s) if t in terminal_of}
        parent = tree.parent[tree.segments[s, 0]]
        above = {terminal_of[t] for t in tree.subtree(parent) if t in terminal_of} \
            if parent >= 0 else {0}
        if len(below) == 1 and 0 not in below and above != below:
            found.setdefault(below.pop(), []).append(s)
    return found


def test_each_tumour_gets_count_feeders_whose_terminals_all_lie_inside_it():
    tree = _grow(count=2, feeder_terminals=4)
    labels, _ = ndimage.label(_tissue()[2])
    sizes = np.bincount(labels.ravel())
    where = _component_of_terminals(tree, labels)
    fed = [c for c in range(1, len(sizes)) if sizes[c] >= 8]
    assert len(fed) == 2 and len(tree.terminals) == 40 + 2 * 2 * 4
    assert np.bincount(where, minlength=len(sizes))[fed].tolist() == [8, 8]   # tiny: main tree's
    feeders = _feeders(tree, labels)
    assert len(feeders) == 3                  # the tiny tumour holds one main-tree terminal
    for segments in (feeders[c] for c in fed):
        assert len(segments) == 2
        assert sum(len([t for t in tree.subtree(s) if t in set(tree.terminal_segments)])
                   for s in segments) == 8


def test_murray_holds_at_every_bifurcation_including_feeder_junctions():
    tree = _grow()
    parents = tree.parent[tree.segments[:, 0]]
    checked = 0
    for p in np.unique(parents[parents >= 0]):
        children = np.flatnonzero(parents == p)
        assert len(children) == 2
        assert (tree.radii[children] ** 3).sum() == pytest.approx(tree.radii[p] ** 3, rel=1e-9)
        checked += 1
    assert checked == len(tree.terminals) - 1


def test_terminal_flows_follow_the_demand_and_sum_to_the_root_flow():
    tree = _grow(count=1, feeder_terminals=5)
    mask, demand, tumour = _tissue()
    labels, _ = ndimage.label(tumour)
    solved = solve_tree_flow(tree, conductances(tree, MU), P_TERM, root_pressure=P_ROOT)
    assert solved.inflow(tree) == pytest.approx(FLOW, rel=1e-9)
    total = demand.sum()
    fed = np.isin(labels, [c for c in np.unique(labels)[1:] if (labels == c).sum() >= 8])
    main_each = FLOW * demand[~fed].sum() / total / 40
    where = _component_of_terminals(tree, labels)
    expected = np.where(fed.ravel()[np.ravel_multi_index(
        np.floor(tree.points[tree.terminals] / H).astype(int).T, fed.shape)],
        [FLOW * demand[labels == c].sum() / total / 5 for c in where], main_each)
    assert solved.flow[tree.terminal_segments] == pytest.approx(expected, rel=1e-9)


def test_same_seed_same_tree():
    a, b, c = _grow(seed=4), _grow(seed=4), _grow(seed=5)
    assert np.array_equal(a.points, b.points) and np.array_equal(a.radii, b.radii)
    assert np.array_equal(a.segments, b.segments)
    assert not np.array_equal(a.points, c.points)


def test_more_feeder_terminals_than_tumour_voxels_is_a_feeder_error():
    with pytest.raises(FeederError, match=r"tumor component 1 \(\d+ voxels.*terminals per feeder"):
        _grow(feeder_terminals=500)
