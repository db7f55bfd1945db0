"""The colour-by-colour levels of the NumPy cycle (``perfusion.solvers.redblack``) against the
grid-layout levels that run the ``perfusion.ops`` references (the CUDA kernels' semantics).

Float64 hierarchies, so that the two layouts agree to rounding (1e-13): the half-sweep, the
residual, the transfers and the whole cycle; odd sizes, thick slices (semi-coarsening), 1-D.
"""
from __future__ import annotations

import numpy as np
import pytest
from test_multigrid import MM, organ_problem

from perfusion.compute.backend import make_backend
from perfusion.ops import mg_smooth, mg_transfer
from perfusion.solvers import multigrid, redblack
from perfusion.solvers.coarsening import GridOperator, coarse_operator, coarsened_axes
from perfusion.solvers.redblack import RedBlackLevel

PROBLEMS = [((9, 7, 5), (MM,) * 3), ((33, 20, 17), (MM,) * 3), ((24, 24, 8), (MM, MM, 3 * MM)),
            ((12, 10, 4), (MM, MM, 4 * MM)), ((1, 1, 40), (MM,) * 3), ((70, 3, 2), (MM,) * 3)]
IDS = ["odd", "odd-3-levels", "ct-3mm", "thick-slices", "1-D", "thin"]


def _level(shape, spacing):
    stencil, rhs, _ = organ_problem(shape, spacing)
    operator = GridOperator.from_stencil(stencil, np.float64)
    return operator, RedBlackLevel.build(operator), multigrid.Level.build(operator), rhs


def _close(got, expected):
    assert np.abs(got - expected).max() <= 1e-13 * np.abs(expected).max()


@pytest.mark.parametrize("shape, spacing", PROBLEMS, ids=IDS)
def test_layout_round_trip_keeps_the_padding_zero(shape, spacing):
    _, level, _, rhs = _level(shape, spacing)
    vector = level.from_grid(rhs, level.vector(np.float64))
    assert np.array_equal(level.as_grid(vector, np.empty(shape)), rhs)
    assert np.isclose(vector.sum(), rhs.sum(), rtol=1e-13) and level.padded[1] % 2 == 1
    assert level.padded[2] % 2 == 1 and vector[:level.halo].max(initial=0) == 0


@pytest.mark.parametrize("shape, spacing", PROBLEMS, ids=IDS)
def test_half_sweeps_residual_and_transfers_match_the_references(shape, spacing):
    operator, level, grid_level, rhs = _level(shape, spacing)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    b, vx = (level.from_grid(a, level.vector(np.float64)) for a in (rhs, x))
    red, black = grid_level.colour_weights
    expected = x.copy()
    for colour, weight in [(1, black), (0, red), (1, black)]:  # in the cycle's order
        level._wavefront([("sweep", colour)], b, vx, None)
        mg_smooth.smooth_reference(*operator.faces, operator.reaction, weight, rhs, expected)
        _close(level.as_grid(vx, np.empty(shape)), expected)
    residual = mg_smooth.residual_reference(*operator.faces, operator.reaction, rhs, expected)
    _close(level.as_grid(level.residual(b, vx), np.empty(shape)), residual)
    coarse = coarse_operator(operator, coarsened_axes(operator)).shape
    restricted, from_zero, grid_x = np.empty(coarse), level.vector(np.float64), np.zeros(shape)
    level.presmooth(b, from_zero, 1, level.work(np.float64), restricted)  # red, black
    for weight in (red, black):
        mg_smooth.smooth_reference(*operator.faces, operator.reaction, weight, rhs, grid_x)
    _close(level.as_grid(from_zero, np.empty(shape)), grid_x)
    residual = mg_smooth.residual_reference(*operator.faces, operator.reaction, rhs, grid_x)
    _close(restricted, mg_transfer.restrict_reference(residual, coarse))  # black residual 0
    correction = rng.standard_normal(coarse)
    level.prolong(correction, vx)
    mg_transfer.prolong_reference(correction, expected)
    reds = level.as_grid(vx, np.empty(shape))[black == 0]
    _close(reds, expected[black == 0])  # the black cells are set by the next half-sweep


@pytest.mark.parametrize("shape, spacing", PROBLEMS, ids=IDS)
def test_wavefront_gives_the_bits_of_one_stage_after_the_other(monkeypatch, shape, spacing):
    """Chunks of one halo (the smallest allowed) cut even small grids into many chunks."""
    _, level, _, rhs = _level(shape, spacing)
    b = level.from_grid(rhs, level.vector(np.float64))
    x = level.from_grid(np.random.default_rng(2).standard_normal(shape), level.vector(np.float64))
    stages = [("zero", 0), ("sweep", 1), ("sweep", 0), ("sweep", 1), ("residual", 0),
              ("sweep", 0), ("residual", 1)]
    one_by_one, r_one_by_one = x.copy(), level.vector(np.float64)
    for stage in stages:
        level._wavefront([stage], b, one_by_one, r_one_by_one)
    monkeypatch.setattr(redblack, "CHUNK", 1)
    assert -(-max(level.sizes) // level.halo) >= 9 or shape[0] == 1  # chunks
    r = level.vector(np.float64)
    level._wavefront(stages, b, x, r)
    assert np.array_equal(x, one_by_one) and np.array_equal(r, r_one_by_one)


@pytest.mark.parametrize("cycle", ["V", "W"])
@pytest.mark.parametrize("shape, spacing", PROBLEMS, ids=IDS)
def test_cycle_matches_the_grid_layout_cycle(monkeypatch, shape, spacing, cycle):
    monkeypatch.setattr(multigrid, "CYCLE_DTYPE", np.float64)
    monkeypatch.setattr(multigrid, "COARSEST_CELLS", 16)
    stencil, rhs, _ = organ_problem(shape, spacing)
    backend = make_backend("numpy")
    colours = multigrid.build_multigrid(stencil, backend, cycle=cycle)
    assert isinstance(colours.levels[0], RedBlackLevel) and len(colours.levels) >= 2
    monkeypatch.setattr(multigrid, "RedBlackLevel", multigrid.Level)
    grid = multigrid.build_multigrid(stencil, backend, cycle=cycle)
    assert [level.shape for level in grid.levels] == [level.shape for level in colours.levels]
    for b in (rhs, np.random.default_rng(1).standard_normal(shape)):
        out = np.full(shape, np.nan)
        assert colours.apply(b, out=out) is out
        _close(out, grid.apply(b))
        _close(colours.apply(b), out)  # the work arrays leave nothing behind
