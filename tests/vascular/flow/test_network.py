"""Poiseuille networks against closed forms, and the tree–tissue coupling's conservation."""
import numpy as np
import pytest

from perfusion.compute.backend import make_backend
from perfusion.steady.inlets import source_density
from perfusion.solvers.cg import conjugate_gradient
from perfusion.solvers.stencil import masked_stencil
from perfusion.vascular import TreeError, VascularTree
from perfusion.vascular.flow.coupling import CoupledSystem, solve_coupled
from perfusion.vascular.flow.feed import TreeFeed
from perfusion.vascular.flow.network import (PLASMA_VISCOSITY, conductances, pries_viscosity,
                                             solve_tree_flow)
from perfusion.vascular.flow.terminals import terminal_kernels

MU = 3.5e-3


def poiseuille(radius, length):
    return np.pi * radius ** 4 / (8 * MU * length)


def y_tree():
    points = np.array([[0, 0, 0], [10, 0, 0], [16, 5, 0], [18, -4, 0]], float) * 1e-3
    return VascularTree.from_edges(points, [[0, 1], [1, 2], [1, 3]], [1e-3, 0.7e-3, 0.5e-3], [0])


def test_single_bifurcation_matches_closed_form():
    tree = y_tree()
    g = conductances(tree, MU)
    lengths = [10e-3, np.hypot(6e-3, 5e-3), np.hypot(8e-3, 4e-3)]
    expected_g = [poiseuille(r, L) for r, L in zip([1e-3, 0.7e-3, 0.5e-3], lengths)]
    assert g == pytest.approx(expected_g, rel=1e-12)
    p0, pt = 12000.0, 4000.0
    flow = solve_tree_flow(tree, g, pt, root_pressure=p0)
    q = (p0 - pt) / (1 / g[0] + 1 / (g[1] + g[2]))
    assert flow.flow[0] == pytest.approx(q, rel=1e-10)
    assert flow.flow[1] == pytest.approx(q * g[1] / (g[1] + g[2]), rel=1e-10)
    assert flow.flow[2] == pytest.approx(q * g[2] / (g[1] + g[2]), rel=1e-10)
    assert flow.pressure[1] == pytest.approx(p0 - q / g[0], rel=1e-10)
    by_flow = solve_tree_flow(tree, g, pt, root_flow=q)
    assert by_flow.pressure[0] == pytest.approx(p0, rel=1e-10)


def symmetric_tree(levels: int, gamma: float = 3.0):
    """A binary tree, radii r_k = r₀ 2^(−k/γ), lengths halving per level, in a plane."""
    points, edges, radii = [[0.0, 0.0, 0.0], [0.02, 0.0, 0.0]], [[0, 1]], [1e-3]
    frontier = [(1, 0.0)]
    for k in range(1, levels + 1):
        nxt = []
        for node, angle in frontier:
            for turn in (-0.5, 0.5):
                a = angle + turn
                length = 0.02 * 0.5 ** k
                x = np.array(points[node]) + length * np.array([np.cos(a), np.sin(a), 0.1 * k])
                points.append(list(x))
                edges.append([node, len(points) - 1])
                radii.append(1e-3 * 2 ** (-k / gamma))
                nxt.append((len(points) - 1, a))
        frontier = nxt
    return VascularTree.from_edges(np.array(points), edges, radii, [0])


def test_symmetric_binary_tree_splits_evenly_and_matches_the_series_parallel_resistance():
    levels = 5
    tree = symmetric_tree(levels)
    g = conductances(tree, MU)
    depth = np.array([len(tree.path_to_root(s)) - 1 for s in range(len(tree.segments))])
    # resistance of the whole tree: Σ_k R_k / 2^k (2^k equal segments in parallel per level)
    total = sum((1 / g[depth == k][0]) / 2 ** k for k in range(levels + 1))
    flow = solve_tree_flow(tree, g, 0.0, root_pressure=8000.0)
    assert flow.inflow(tree) == pytest.approx(8000.0 / total, rel=1e-10)
    terminal_flows = flow.flow[tree.terminal_segments]
    assert terminal_flows == pytest.approx(np.full(2 ** levels, flow.inflow(tree) / 2 ** levels),
                                           rel=1e-10)
    assert len(tree.terminals) == 2 ** levels


def test_pries_law_limits():
    d = np.array([5e-6, 20e-6, 200e-6, 4e-3])
    ratio = (2e6 * d / (2e6 * d - 1.1)) ** 2
    # no red cells: only the wall term (D/(D − 1.1))² remains
    assert pries_viscosity(d, 0.0) == pytest.approx(PLASMA_VISCOSITY * ratio, rel=1e-12)
    # wide vessels at H = 0.45 tend to 3.2 × plasma; viscosity rises with haematocrit
    assert pries_viscosity(0.05, 0.45) / PLASMA_VISCOSITY == pytest.approx(3.2, rel=1e-3)
    assert np.all(pries_viscosity(d, 0.6) > pries_viscosity(d, 0.45))


def box(be=None, n=28, h=2e-3):
    be = be or make_backend("numpy", "float64")
    mask = np.zeros((n, n, n), bool)
    mask[2:-2, 2:-2, 2:-2] = True
    stencil = masked_stencil(be.asarray(np.where(mask, 2e-9, 0.0)),
                             be.asarray(np.where(mask, 1e-6, 0.0)), be.xp.asarray(mask), (h,) * 3)
    return mask, stencil, h


def coupled(be, scale, radius, **bc):
    mask, stencil, h = box(be)
    points = np.array([[5, 28, 28], [20, 28, 28], [32, 14, 28], [32, 42, 28], [44, 10, 20],
                       [44, 20, 40]], float) * 1e-3
    tree = VascularTree.from_edges(points, [[0, 1], [1, 2], [1, 3], [2, 4], [2, 5]],
                                   np.array([1.0, .8, .7, .5, .5]) * 1e-3, [0])
    kernels = terminal_kernels(tree.points[tree.terminals], radius, mask, (h,) * 3, key="test")
    system = CoupledSystem(stencil, tree, conductances(tree) * scale, kernels, be, h ** 3, **bc)
    return be, mask, stencil, h, tree, kernels, solve_coupled(
        system, name="test", tolerance=1e-11, max_iterations=3000)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])   # weak … strong tree–tissue coupling
@pytest.mark.parametrize("bc", [{"root_flow": 5e-7}, {"root_pressure": 5000.0}])
def test_coupled_flow_is_conserved_and_consistent(scale, bc, backend):
    be, mask, stencil, h, tree, kernels, flow = coupled(backend, scale, 3e-3, **bc)
    delivered = float((np.where(mask, 1e-6, 0) * be.to_host(flow.phi)).sum()) * h ** 3
    assert flow.terminal_flow.sum() == pytest.approx(flow.inflow, rel=1e-8)
    assert delivered == pytest.approx(flow.inflow, rel=1e-8)
    if "root_flow" in bc:
        assert flow.inflow == pytest.approx(bc["root_flow"], rel=1e-8)
    # Kirchhoff at every inner node
    net = np.zeros(len(tree.points))
    np.add.at(net, tree.segments[:, 0], -flow.segment_flow)
    np.add.at(net, tree.segments[:, 1], flow.segment_flow)
    inner = np.setdiff1d(np.arange(len(tree.points)), np.concatenate([tree.terminals, tree.roots]))
    assert np.abs(net[inner]).max() <= 1e-8 * flow.inflow
    # the 3D field is the supply solution for these terminal flows (independent solve)
    feed = TreeFeed("s", tree, conductances(tree), kernels, None, 1.0)
    q = be.asarray(source_density(feed.inlets(flow), mask.shape, h ** 3))
    phi, _ = conjugate_gradient(stencil, q, be, name="check", tolerance=1e-12, max_iterations=500)
    phi = be.to_host(phi)
    assert np.abs(phi - be.to_host(flow.phi)).max() <= 1e-7 * np.abs(phi).max()
    # each terminal's pressure is its kernel's mean compartment pressure
    for t, node in enumerate(tree.terminals):
        index, weight = kernels.of(t)
        assert flow.node_pressure[node] == pytest.approx((phi.flat[index] * weight).sum(), rel=1e-6)


def test_terminal_without_tissue_nearby_is_an_error():
    mask, _, h = box()
    with pytest.raises(TreeError, match="no perfused voxel within"):
        terminal_kernels(np.array([[0.5e-3, 0.5e-3, 0.5e-3]]), 1e-3, mask, (h,) * 3,
                         key="supplies.0.tree")


def test_bad_trees_are_clear_errors():
    points = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], float) * 1e-3
    with pytest.raises(TreeError, match="radius must be positive"):
        VascularTree.from_edges(points, [[0, 1], [1, 2]], [1e-4, -1e-4], [0])
    with pytest.raises(TreeError, match="loop"):
        VascularTree.from_edges(np.vstack([points, [[1, 1, 0]]]), [[0, 1], [1, 2], [2, 3], [3, 1]],
                                [1e-4] * 4, [0])
    with pytest.raises(TreeError, match="not connected"):
        VascularTree.from_edges(np.vstack([points, [[5, 5, 5]]]), [[0, 1], [1, 2]], [1e-4] * 2, [0])
