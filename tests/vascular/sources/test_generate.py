"""CCO tree generation: count, tissue constraint, seeds, Murray, Poiseuille, density, errors.

Phantom: an ellipsoid (semi-axes 38 × 34 × 30 mm) in a 40 × 36 × 32 grid of 2 mm voxels,
demand 1 in normal tissue and 5 in a tumour sphere (radius 10 mm); the root sits in the
first tissue voxel on the −x side of the centre line. The flows of a generated tree are
recomputed here, independently of the generator: Kirchhoff's law at every inner node with
Poiseuille conductances ``π r⁴ / (8 μ L)``, the root held at ``root_pressure`` and every
terminal at ``terminal_pressure``, solved directly with SciPy's sparse LU.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from perfusion.vascular.sources import generate as generate_module
from perfusion.vascular.sources.generate import fitted_murray_exponent, generate_tree
from perfusion.vascular.tree import TreeError

H = 2e-3
SHAPE = (40, 36, 32)
FLOW, P_ROOT, P_TERM, MU = 5e-7, 1.2e4, 4.0e3, 3.6e-3
N = 300


def _phantom():
    x, y, z = np.meshgrid(*[(np.arange(n) + 0.5) * H for n in SHAPE], indexing="ij")
    c = np.asarray(SHAPE) * H / 2
    mask = ((x - c[0]) / 0.038) ** 2 + ((y - c[1]) / 0.034) ** 2 + ((z - c[2]) / 0.030) ** 2 <= 1
    tumour = mask & ((x - c[0] - 0.012) ** 2 + (y - c[1] - 0.008) ** 2 + (z - c[2]) ** 2
                     <= 0.010**2)
    demand = np.where(mask, 1.0, 0.0)
    demand[tumour] = 5.0
    first = int(np.argmax(mask[:, SHAPE[1] // 2, SHAPE[2] // 2]))
    root = np.array([first + 0.5, SHAPE[1] // 2 + 0.5, SHAPE[2] // 2 + 0.5]) * H
    return mask, demand, tumour, root


MASK, DEMAND, TUMOUR, ROOT = _phantom()


def _grow(terminals=N, **options):
    arguments = dict(root=ROOT, flow=FLOW, root_pressure=P_ROOT, terminal_pressure=P_TERM,
                     terminals=terminals, viscosity=MU)
    arguments.update(options)
    mask = arguments.pop("mask", MASK)
    demand = arguments.pop("demand", DEMAND)
    return generate_tree(mask, demand, arguments.pop("spacing", H), **arguments)


@pytest.fixture(scope="module")
def tree():
    return _grow()


def _in_mask(points, mask=MASK):
    cells = np.floor(points / H).astype(int)
    inside = ((cells >= 0) & (cells < np.asarray(mask.shape))).all(axis=1)
    ok = inside.copy()
    ok[inside] = mask[tuple(cells[inside].T)]
    return ok


def _kirchhoff_flows(tree):
    """Segment flows [m³/s] of ``tree`` with the root and terminal pressures fixed."""
    conductance = np.pi * tree.radii**4 / (8 * MU * tree.lengths)
    u, d = tree.segments.T
    n = len(tree.points)
    rows = np.concatenate([u, d, u, d])
    cols = np.concatenate([u, d, d, u])
    values = np.concatenate([conductance, conductance, -conductance, -conductance])
    laplacian = sp.csr_matrix((values, (rows, cols)), shape=(n, n))
    fixed = np.zeros(n, dtype=bool)
    fixed[tree.roots] = fixed[tree.terminals] = True
    pressure = np.zeros(n)
    pressure[tree.roots], pressure[tree.terminals] = P_ROOT, P_TERM
    free = ~fixed
    rhs = -laplacian[free][:, fixed] @ pressure[fixed]
    pressure[free] = sla.spsolve(laplacian[free][:, free].tocsc(), rhs)
    return conductance * (pressure[u] - pressure[d])


def test_requested_terminal_count(tree):
    assert len(tree.terminals) == N
    assert len(tree.segments) == 2 * N - 1
    assert list(tree.roots) == [0]
    assert np.allclose(tree.points[0], ROOT)
    assert tree.lengths.min() > 1e-3 * H


def test_every_node_and_segment_stays_in_the_tissue(tree):
    assert _in_mask(tree.points).all()
    a, b = tree.points[tree.segments[:, 0]], tree.points[tree.segments[:, 1]]
    for fraction in np.linspace(0, 1, 401):   # ≤ 0.21 mm apart: segments are ≤ 84 mm long
        assert _in_mask(a + fraction * (b - a)).all()
    assert tree.lengths.max() / 400 <= H / 2


def test_non_convex_tissue_keeps_segments_inside():
    """A U-shaped slab: straight connections across the gap must be refused."""
    mask = np.zeros((24, 24, 4), dtype=bool)
    mask[2:22, 2:8] = mask[2:8, 2:22] = mask[16:22, 2:22] = True
    grown = _grow(80, mask=mask, demand=mask * 1.0, root=np.array([12.5, 2.5, 2.5]) * H)
    a, b = grown.points[grown.segments[:, 0]], grown.points[grown.segments[:, 1]]
    for fraction in np.linspace(0, 1, 401):
        assert _in_mask(a + fraction * (b - a), mask).all()
    cells = np.floor(grown.points[grown.terminals] / H).astype(int)
    assert (cells[:, 1] >= 8).sum() > 20             # both arms are supplied


def test_same_seed_same_tree_other_seed_other_tree():
    first, again, other = _grow(60, seed=7), _grow(60, seed=7), _grow(60, seed=8)
    for key in ("points", "segments", "radii"):
        assert np.array_equal(getattr(first, key), getattr(again, key))
    assert not np.array_equal(first.points, other.points)


def _murray_residuals(tree, gamma):
    feeding = tree.parent[tree.segments[:, 0]]
    residuals = []
    for parent in np.unique(feeding[feeding >= 0]):
        children = np.flatnonzero(feeding == parent)
        assert len(children) == 2
        residuals.append((tree.radii[children] ** gamma).sum() / tree.radii[parent] ** gamma - 1)
    return np.array(residuals)


@pytest.mark.parametrize("gamma", [2.7, 3.0])
def test_murray_law_at_every_bifurcation(tree, gamma):
    grown = tree if gamma == 3.0 else _grow(120, murray_exponent=gamma)
    residuals = _murray_residuals(grown, gamma)
    assert len(residuals) == len(grown.terminals) - 1
    assert np.abs(residuals).max() < 1e-9
    fitted = fitted_murray_exponent(grown)
    print(f"fitted Murray exponent {fitted:.9f} (requested {gamma})")
    assert fitted == pytest.approx(gamma, abs=1e-6)


def test_fitted_exponent_of_a_hand_made_bifurcation():
    from perfusion.vascular.tree import VascularTree

    points = [[0, 0, 0], [1, 0, 0], [2, 1, 0], [2, -1, 0]]
    radii = [2.0 ** (1 / 2.5), 1.0, 1.0]          # r_p^2.5 = 1 + 1
    made = VascularTree(np.asarray(points) * 1e-3, [[0, 1], [1, 2], [1, 3]], np.array(radii))
    assert fitted_murray_exponent(made) == pytest.approx(2.5, abs=1e-10)


def test_poiseuille_flows_match_the_requested_flow(tree):
    flows = _kirchhoff_flows(tree)
    root_flow = flows[np.isin(tree.segments[:, 0], tree.roots)].sum()
    assert root_flow == pytest.approx(FLOW, rel=1e-8)
    terminal_flows = flows[tree.terminal_segments]
    assert np.abs(terminal_flows / (FLOW / N) - 1).max() < 1e-6


def test_one_terminal_is_one_segment_carrying_the_flow():
    single = _grow(1)
    assert single.segments.tolist() == [[0, 1]]
    assert _kirchhoff_flows(single)[0] == pytest.approx(FLOW, rel=1e-12)
    with pytest.raises(TreeError, match="no bifurcation"):
        fitted_murray_exponent(single)


def test_terminal_density_follows_demand(tree):
    cells = np.floor(tree.points[tree.terminals] / H).astype(int)
    in_tumour = int(TUMOUR[tuple(cells.T)].sum())
    tumour_density = in_tumour / TUMOUR.sum()
    normal_density = (N - in_tumour) / (MASK.sum() - TUMOUR.sum())
    print(f"terminals per voxel: tumour {tumour_density:.4f}, normal {normal_density:.4f}")
    assert tumour_density > 2 * normal_density


def test_root_on_the_tissue_surface():
    """A root in the voxel just outside the tissue, half a voxel from its surface."""
    grown = _grow(80, root=ROOT - [H, 0, 0])
    assert not _in_mask(grown.points[:1]).any()
    assert _in_mask(grown.points[1:]).all()
    assert len(grown.terminals) == 80


def test_segment_check_sees_a_clipped_corner():
    """A segment that cuts 0.05 voxel through the corner of an outside voxel (sampling every
    half voxel would miss it) is outside; one that stays in tissue voxels is inside."""
    from perfusion.vascular.sources.placement import TissueCheck

    mask = np.zeros((3, 3, 1), dtype=bool)
    mask[0, 0, 0] = mask[0, 1, 0] = mask[1, 1, 0] = True
    check = TissueCheck(mask, mask * 1.0, np.full(3, H), np.array([0.5, 0.5, 0.5]) * H)
    starts = np.array([[0.5, 0.45, 0.5], [0.5, 0.5, 0.5]]) * H
    stops = np.array([[1.55, 1.5, 0.5], [1.5, 1.5, 0.5]]) * H
    assert list(check.segments_inside(starts, stops)) == [False, True]
    sampled = starts[0] + np.linspace(0, 1, 4)[:, None] * (stops[0] - starts[0])
    assert check.contains(sampled).all()       # what half-voxel sampling would have seen


def _two_blobs():
    mask = np.zeros((20, 10, 10), dtype=bool)
    mask[1:5, 3:7, 3:7] = True
    mask[14:19, 3:7, 3:7] = True
    demand = np.zeros(mask.shape)
    demand[14:19, 3:7, 3:7] = 1.0
    return mask, demand


@pytest.mark.parametrize("options, message", [
    (dict(root=(-0.01, 0.036, 0.032)), "outside the grid"),
    (dict(root=(0.001, 0.001, 0.001)), "from the nearest tissue voxel"),
    (dict(demand=np.zeros(SHAPE)), "no voxel of the mask has demand > 0"),
    (dict(terminals=0), "terminals must be a whole number"),
    (dict(terminals=2.5), "terminals must be a whole number"),
    (dict(terminals=9, mask=np.pad(np.ones((2, 2, 2), bool), 1), demand=np.ones((4, 4, 4)),
          root=(3e-3, 3e-3, 3e-3)), "at most one terminal per voxel"),
    (dict(flow=0.0), "flow must be positive"),
    (dict(root_pressure=P_TERM), "must exceed terminal_pressure"),
    (dict(demand=-DEMAND), "demand must be finite and ≥ 0"),
    (dict(demand=DEMAND[:-1]), "one demand value per voxel"),
    (dict(mask=_two_blobs()[0], demand=_two_blobs()[1], root=(6e-3, 10e-3, 10e-3),
          terminals=5),
     "no straight segment from the root"),
])
def test_bad_input_says_what_to_change(options, message):
    with pytest.raises(TreeError, match=message):
        _grow(**options)


def test_placement_failure_is_reported(monkeypatch):
    monkeypatch.setattr(generate_module, "_connect_best", lambda *args: False)
    with pytest.raises(TreeError, match="terminal 2 could not be placed.*fewer terminals"):
        _grow(5)
