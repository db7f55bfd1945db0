"""Candidate vessels and pieces on a hand-made tree (``perfusion.plan.candidates``)."""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.plan.candidates import build_candidates, choose_candidates
from perfusion.vascular.tree import VascularTree

# root 0 → 1 → 2 (a chain without a branch), then 2 → 3, 2 → 4, and 4 → 5, 4 → 6
POINTS = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 2], [1, 0, 3], [-1, 0, 3], [-1, 1, 4],
                   [-1, -1, 4]], dtype=float) * 1e-3
EDGES = [(0, 1), (1, 2), (2, 3), (2, 4), (4, 5), (4, 6)]
RADII = np.array([1.0, 1.0, 0.6, 0.7, 0.4, 0.45]) * 1e-3


def _tree():
    tree = VascularTree.from_edges(POINTS, EDGES, RADII, roots=[0])
    flow = np.zeros(len(tree.segments))
    ends = {tuple(seg): s for s, seg in enumerate(tree.segments.tolist())}
    for (u, d), q in zip(EDGES, [10.0, 10.0, 4.0, 6.0, 2.5, 3.5]):
        flow[ends[(u, d)]] = q
    return tree, flow, ends


def test_a_chain_is_one_candidate_and_thin_vessels_are_not_candidates():
    tree, flow, ends = _tree()
    chosen = choose_candidates(tree, flow, min_radius=0.5e-3)
    assert sorted(chosen.tolist()) == sorted([ends[(0, 1)], ends[(2, 3)], ends[(2, 4)]])


def test_pieces_and_weights_split_the_drug_by_flow():
    tree, flow, ends = _tree()
    chosen = choose_candidates(tree, flow, min_radius=0.5e-3)

    def inlets(segment):
        return [n for n in tree.subtree(segment) if tree.children(int(n)).size == 0]

    built = build_candidates(tree, flow, chosen, 1.0, inlets)
    # pieces: the leaf 2→3 and the two thin children of 4 (not candidates themselves)
    assert sorted(built.pieces.tolist()) == sorted([ends[(2, 3)], ends[(4, 5)], ends[(4, 6)]])
    root = list(built.vessels).index(ends[(0, 1)])
    column = {int(p): i for i, p in enumerate(built.pieces)}
    # c_P = d_P Q_s / Q_P = (Q_P / Q_s) Q_s / Q_P = 1 for every piece under σ = 1
    for piece in built.pieces:
        assert built.weights[root, column[int(piece)]] == pytest.approx(1.0, rel=1e-14)
    # with streaming σ = 2 the drug favours the larger child of 4: d = 3.5²/(2.5² + 3.5²)
    streamed = build_candidates(tree, flow, chosen, 2.0, inlets)
    left = list(streamed.vessels).index(ends[(2, 4)])
    share = 3.5 ** 2 / (2.5 ** 2 + 3.5 ** 2)
    assert streamed.weights[left, column[ends[(4, 6)]]] == pytest.approx(share * 6.0 / 3.5,
                                                                          rel=1e-12)
