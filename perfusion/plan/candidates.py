"""Candidate catheter positions on a tree, and the pieces every candidate is a sum of.

Candidates are the vessels (segments) of the catheterised supply's tree with radius
``r ≥ r_min`` and positive flow, or a given list; of a chain of segments without branches
(centre-line and mask trees have many) only the first, since every segment of it delivers
the same. A candidate ``s`` sends the share
``d_c^s`` of the drug into each segment ``c`` below it (``Q_c^σ`` at every bifurcation,
``perfusion.vascular.catheter.drug_split``). Terminal ``t`` below ``s`` gets the territory
source weight ``a_t^s = d_t^s Q_s / Q_t``.

Pieces. A *piece* is a subtree whose top segment ``p`` is not a candidate but hangs from
one (or a candidate without children). For a piece ``P`` below candidate ``s``,
``d_t^s = d_p^s d_t^p``, so ``a_t^s = c_P^s a_t^p`` with

    c_P^s = d_p^s Q_s / Q_p ,

and, the territory being linear in its sources, every candidate's territory (and, through
it, its drug exposure) is the sum over its pieces weighted by ``c_P^s``: ``responses`` solves
one problem per piece, not per candidate.

Default ``r_min``: 0.5 mm (a 1 mm lumen), the smallest vessel a 2.0–2.4 Fr microcatheter
(outer diameter 0.67–0.80 mm at the tip) enters and still leaves room for flow around it.
Source: the tip outer diameters of current microcatheters, e.g. Terumo Progreat 2.0 Fr
(0.67 mm) and Merit Maestro 2.4 Fr (0.80 mm), manufacturers' specifications; superselective
hepatic infusion reaches segmental and subsegmental arteries of about 1–2 mm (Bilbao &
Reiser, *Liver Radioembolization with 90Y Microspheres*, Springer 2008/2014, ch. 4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..case.checks import KeyedCaseError
from ..vascular.catheter import drug_split

#: Smallest vessel radius a microcatheter enters by default [m] (module docstring).
MIN_RADIUS = 0.5e-3
MIN_RADIUS_SOURCE = ("0.5 mm (1 mm lumen): smallest vessel a 2.0–2.4 Fr microcatheter "
                     "(tip OD 0.67–0.80 mm; Terumo Progreat, Merit Maestro specifications) "
                     "enters with flow around it")


@dataclass(frozen=True)
class Candidates:
    """The candidate vessels, the pieces, and the weights ``c_P^s`` that join them."""

    vessels: np.ndarray          # candidate segment ids
    pieces: np.ndarray           # top segment of each piece
    weights: np.ndarray          # (candidates, pieces) c_P^s (0 where P is not below s)
    piece_inlets: list           # per piece: {terminal inlet name: a_t^p}
    depth: np.ndarray            # bifurcations from the root to each candidate
    terminals: np.ndarray        # terminals below each candidate


def choose_candidates(tree, segment_flow: np.ndarray, *, min_radius: float = MIN_RADIUS,
                      vessels=None, key: str = "--candidates") -> np.ndarray:
    """Segment ids of the candidates: ``vessels`` if given (checked), else every segment with
    radius ≥ ``min_radius`` and positive flow, root first."""
    count = len(tree.segments)
    if vessels is not None:
        chosen = np.asarray(sorted(set(int(v) for v in vessels)), dtype=np.int64)
        bad = chosen[(chosen < 0) | (chosen >= count)]
        if bad.size:
            raise KeyedCaseError(key, f"vessel {int(bad[0])} does not exist: the tree has "
                                 f"segments 0…{count - 1} (fields/tree_<supply>.vtp, cell "
                                 "array segment_id)")
        dry = chosen[segment_flow[chosen] <= 0]
        if dry.size:
            raise KeyedCaseError(key, f"vessel {int(dry[0])} carries no forward flow, so a "
                                 "catheter there delivers nothing; choose another vessel")
        return chosen
    wide = (tree.radii >= min_radius) & (segment_flow > 0)
    if not wide.any():
        raise KeyedCaseError(key, f"no vessel of the tree has a radius ≥ {min_radius * 1e3:.3g} "
                             f"mm (the widest is {tree.radii.max() * 1e3:.3g} mm); lower "
                             "--min-radius or list the vessels with --candidates")
    # a segment that continues its parent without a branch delivers exactly what the parent
    # does (same terminals, same flow): only the first segment of such a chain is a candidate
    parent = tree.parent[tree.segments[:, 0]]
    continues = np.array([p >= 0 and wide[p] and tree.children(int(p)).size == 1
                          for p in parent])
    return np.flatnonzero(wide & ~continues)


def _depths(tree) -> np.ndarray:
    depth = np.zeros(len(tree.segments), dtype=np.int64)
    for s in range(len(tree.segments)):                 # segments are topological
        above = tree.parent[tree.segments[s, 0]]
        if above >= 0:
            depth[s] = depth[above] + (len(tree.children(above)) > 1)
    return depth


def build_candidates(tree, segment_flow: np.ndarray, vessels: np.ndarray, exponent: float,
                     terminal_inlets) -> Candidates:
    """Pieces and weights for the candidate ``vessels`` (``terminal_inlets(segment)``: the
    inlet names below a segment; ``exponent`` the streaming exponent σ)."""
    flow = np.maximum(segment_flow, 0.0)
    is_candidate = np.zeros(len(tree.segments), dtype=bool)
    is_candidate[vessels] = True
    decomposition = {}

    def expand(c: int) -> list[int]:
        """The pieces of the subtree of ``c``; a segment that continues its parent without a
        branch is looked through, like a candidate."""
        if is_candidate[c]:
            return decomposition[c]
        children = tree.children(c)
        above = tree.parent[tree.segments[c, 0]]
        if children.size and above >= 0 and tree.children(int(above)).size == 1:
            return [p for ch in children if flow[ch] > 0 for p in expand(int(ch))]
        return [c]

    for s in sorted((int(v) for v in vessels), reverse=True):   # children before parents
        children = tree.children(s)
        if children.size == 0:
            decomposition[s] = [s]
            continue
        decomposition[s] = [p for c in children if flow[c] > 0 for p in expand(int(c))]
    pieces = np.asarray(sorted({p for tops in decomposition.values() for p in tops}),
                        dtype=np.int64)
    column = {int(p): i for i, p in enumerate(pieces)}
    weights = np.zeros((vessels.size, pieces.size))
    terminals = np.zeros(vessels.size, dtype=np.int64)
    for row, s in enumerate(vessels):
        share, _, _ = drug_split(tree, segment_flow, int(s), exponent)
        for p in decomposition[int(s)]:
            weights[row, column[p]] = share[p] * flow[s] / flow[p]
        terminals[row] = len(terminal_inlets(int(s)))
    piece_inlets = [drug_split(tree, segment_flow, int(p), exponent)[1] for p in pieces]
    return Candidates(vessels=np.asarray(vessels, dtype=np.int64), pieces=pieces,
                      weights=weights, piece_inlets=piece_inlets,
                      depth=_depths(tree)[vessels], terminals=terminals)
