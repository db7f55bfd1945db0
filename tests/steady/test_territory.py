"""The catheter territory (docs/model.md §4) with sinks: inlets (tree terminals) whose flow is
negative drain blood back into the tree. A sink removes blood at the voxel's own ``w``; it
is not a negative catheter-free source (issue 13: ``w`` up to 202 on the real brain)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from perfusion.solvers.cg import conjugate_gradient
from perfusion.solvers.stencil import masked_stencil
from perfusion.steady.inlets import Inlet, source_density
from perfusion.steady.territory import solve_territory

SHAPE = (14, 7, 6)
SPACING = (1e-3, 1e-3, 1e-3)
VOLUME = 1e-9
K, BETA = 1e-9, 1e-6


def _inlet(name, flow, cells, weights=None):
    index = np.ravel_multi_index(tuple(np.asarray(cells).T), SHAPE)
    weights = np.full(index.size, 1.0 / index.size) if weights is None else np.asarray(weights)
    position = tuple((np.asarray(cells[0]) + 0.5) * 1e-3)
    return Inlet("s", name, position, flow, index, weights / weights.sum())


def _supply(host, inlets):
    """A supply solved to round-off with the (net) source of ``inlets``, as ``solve_supply``."""
    mask = np.ones(SHAPE, dtype=bool)
    stencil = masked_stencil(np.full(SHAPE, K), np.full(SHAPE, BETA), mask, SPACING)
    source = source_density(inlets, SHAPE, VOLUME)
    phi, _ = conjugate_gradient(stencil, source, host, name="test", tolerance=1e-14,
                                max_iterations=2000, preconditioner="jacobi")
    return SimpleNamespace(name="s", stencil=stencil, source=source, pressure=phi,
                           perfusion=BETA * phi, inlets=tuple(inlets),
                           inflow=sum(i.flow for i in inlets))


CASES = {
    # the catheter's source and a sink share a voxel (overlapping kernels): the voxel's net
    # source is small, but the catheter blood entering it is not
    "sink on the catheter's voxel": [
        _inlet("cath", 2e-9, [(1, 3, 3)]),
        _inlet("other", 2e-9, [(12, 3, 2)]),
        _inlet("drain", -1.6e-9, [(1, 3, 3)])],
    # a smooth sink kernel overlapping a catheter kernel and a free one, as tree terminals
    "overlapping kernels": [
        _inlet("cath", 3e-9, [(2, 2, 2), (2, 3, 2), (3, 2, 2), (2, 2, 3)], [4, 2, 2, 1]),
        _inlet("other", 2e-9, [(11, 4, 3), (11, 5, 3), (12, 4, 3)]),
        _inlet("drain", -1.5e-9, [(2, 2, 2), (2, 3, 2), (3, 3, 2), (3, 2, 3), (4, 3, 3)],
               [3, 3, 2, 1, 1])],
}


@pytest.mark.parametrize("name", list(CASES))
def test_sinks_keep_w_in_bounds_and_conserve_the_catheter_tracer(host, name):
    inlets = CASES[name]
    supply = _supply(host, inlets)
    territory = solve_territory(supply, {"cath": 1.0}, host, VOLUME)
    w = territory.fraction
    assert w.min() >= -1e-12 and w.max() <= 1 + 1e-12
    assert territory.bounds[1] <= 1 + 1e-12
    # shares of the *inflow* (positive sources only)
    q_cath, q_in = inlets[0].flow, inlets[0].flow + inlets[1].flow
    assert territory.catheter_flow == pytest.approx(q_cath, rel=1e-14)
    assert territory.expected_mean == pytest.approx(q_cath / q_in, rel=1e-14)
    assert territory.sink_flow == pytest.approx(-inlets[2].flow, rel=1e-14)
    # tracer conservation: what enters through the catheter leaves through the capillaries
    # (F) or the sink (r, at the voxel's own w)
    sink = source_density([inlets[2]], SHAPE, VOLUME) * -1
    leaving = ((supply.perfusion + sink) * w).sum() * VOLUME
    assert leaving == pytest.approx(q_cath, rel=1e-10)
    assert territory.flow_weighted_mean == pytest.approx(territory.expected_mean, rel=1e-10)
    assert territory.perfusion_weighted_mean == pytest.approx(
        (supply.perfusion * w).sum() / supply.perfusion.sum(), rel=1e-12)
    # the catheter's voxels get catheter blood, the far end none
    assert w.ravel()[inlets[0].index].max() > 0.5 and w[12, 4, 2] < 0.5


def test_without_sinks_the_perfusion_weighted_mean_is_the_share(host):
    inlets = CASES["overlapping kernels"][:2]
    supply = _supply(host, inlets)
    territory = solve_territory(supply, {"cath": 1.0}, host, VOLUME)
    w = territory.fraction
    assert w.min() >= -1e-12 and w.max() <= 1 + 1e-12
    assert territory.sink_flow == 0
    assert territory.flow_weighted_mean == territory.perfusion_weighted_mean
    assert territory.flow_weighted_mean == pytest.approx(3 / 5, rel=1e-10)
