"""Geometric multigrid (``perfusion.solvers.multigrid``, ``coarsening``) and MG-CG.

The heterogeneous problem: an organ-shaped mask (two overlapping ellipsoidal lobes with a
notch cut into one, ~30% of the box), a spatially correlated lognormal conductivity
(2e-9 m²/(Pa·s) · exp(0.5 g), g smoothed Gaussian noise) with a spherical tumour whose
conductivity is 100× lower, β = 1.3e-6 1/(Pa·s) (the supply scale of docs/model.md §9.2: the
operator is diffusion-dominated, 1/λ ≈ 4 cm), five point sources and a weak background
source; 1 mm voxels unless stated. Tolerances: iteration counts as measured with margin
(the issue asks for counts flat within ±2 from 32³ to 128³).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from perfusion import run_case
from perfusion.compute.backend import make_backend
from perfusion.case import case_from_dict
from perfusion.domain import build_domain
from perfusion.steady.interstitial import solve_interstitial
from perfusion.solvers import multigrid
from perfusion.solvers.cg import conjugate_gradient
from perfusion.solvers.coarsening import GridOperator, coarse_operator, coarsened_axes
from perfusion.solvers.stencil import Stencil, masked_stencil

MM = 1e-3


def organ_problem(shape, spacing=(MM,) * 3, contrast=100.0, seed=0):
    """(stencil, rhs, mask) of the module docstring on a grid of ``shape``."""
    rng = np.random.default_rng(seed)
    x, y, z = np.meshgrid(*((np.arange(n) + 0.5) / n for n in shape), indexing="ij")
    lobe = ((x - 0.42) / 0.36) ** 2 + ((y - 0.5) / 0.40) ** 2 + ((z - 0.5) / 0.34) ** 2 <= 1
    small_lobe = ((x - 0.72) / 0.22) ** 2 + ((y - 0.38) / 0.26) ** 2 + ((z - 0.55) / 0.28) ** 2 <= 1
    notch = (((y - 0.75) / 0.12) ** 2 + ((z - 0.5) / 0.1) ** 2 <= 1) & (x < 0.5)
    mask = (lobe | small_lobe) & ~notch
    g = gaussian_filter(rng.standard_normal(shape), sigma=max(1.0, shape[0] / 32))
    conductivity = 2e-9 * np.exp(0.5 * (g - g.mean()) / g.std())
    conductivity[(x - 0.55) ** 2 + (y - 0.4) ** 2 + (z - 0.45) ** 2 <= 0.12 ** 2] /= contrast
    rhs = np.where(mask, 1e-6 * rng.random(shape), 0)
    rhs.flat[rng.choice(np.flatnonzero(mask), 5, replace=False)] = 1e-3
    return masked_stencil(conductivity, np.full(shape, 1.3e-6), mask, spacing), rhs, mask


def solve(stencil, rhs, backend=None, tolerance=1e-10, **options):
    backend = backend or make_backend("numpy")
    return conjugate_gradient(stencil, rhs, backend, name="test", tolerance=tolerance,
                              max_iterations=200, **options)


def dense(operator, shape):
    """The matrix of a linear map of grid arrays, column by column."""
    size = int(np.prod(shape))
    return np.array([operator(e.reshape(shape)).ravel() for e in np.eye(size)]).T


@pytest.mark.parametrize("cycle", ["V", "W"])
@pytest.mark.parametrize("shape, spacing", [((9, 7, 5), (MM,) * 3),
                                            ((12, 10, 4), (MM, MM, 4 * MM)),
                                            ((1, 1, 40), (MM,) * 3)],
                         ids=["odd", "thick-slices", "1-D"])
def test_cycle_is_symmetric_positive_definite(monkeypatch, shape, spacing, cycle):
    """B = Bᵀ and B A has a positive spectrum (float64 cycle, coarsened down to 8 cells)."""
    monkeypatch.setattr(multigrid, "CYCLE_DTYPE", np.float64)
    monkeypatch.setattr(multigrid, "COARSEST_CELLS", 8)
    stencil, _, mask = organ_problem(shape, spacing)
    mg = multigrid.build_multigrid(stencil, make_backend("numpy"), cycle=cycle, smoothing_steps=1)
    assert len(mg.levels) >= 3
    b_matrix, a_matrix = dense(mg.apply, shape), dense(stencil.apply, shape)
    assert np.abs(b_matrix - b_matrix.T).max() <= 1e-12 * np.abs(b_matrix).max()
    factor = np.linalg.cholesky(a_matrix)
    spectrum = np.linalg.eigvalsh(factor.T @ (0.5 * (b_matrix + b_matrix.T)) @ factor)
    assert 0.3 < spectrum.min() and spectrum.max() < 2.0, (spectrum.min(), spectrum.max())
    outside = ~mask.ravel()
    assert np.array_equal(b_matrix[np.ix_(outside, outside)], np.eye(outside.sum()))


def test_coarse_operator_of_a_uniform_medium_is_its_rediscretisation():
    """Coarsening K, β on h gives the same operator on 2h, in sums over the 8 children."""
    shape = (12, 10, 8)
    def uniform(shape, h):
        return masked_stencil(np.full(shape, 3.0), np.full(shape, 0.2), np.ones(shape, bool),
                              (h,) * 3)

    coarse = coarse_operator(GridOperator.from_stencil(uniform(shape, 1.0), np.float64),
                             (True, True, True))
    expected = GridOperator.from_stencil(uniform(tuple(n // 2 for n in shape), 2.0), np.float64)
    for got, want in zip(coarse.faces, expected.faces):
        np.testing.assert_allclose(got, 8 * want, rtol=1e-14)
    np.testing.assert_allclose(coarse.reaction, 8 * expected.reaction, rtol=1e-14)


def test_coarse_operator_keeps_mask_edges_and_odd_sizes():
    stencil, _, mask = organ_problem((15, 13, 11))
    coarse = coarse_operator(GridOperator.from_stencil(stencil, np.float64), (True, True, True))
    assert coarse.reaction.shape == (8, 7, 6)
    children = np.zeros((16, 14, 12), int)
    children[:15, :13, :11] = mask
    inside = children.reshape(8, 2, 7, 2, 6, 2).sum(axis=(1, 3, 5)) > 0
    assert np.all(coarse.reaction[~inside] == 1)           # identity where no child is tissue
    np.testing.assert_allclose(coarse.reaction[inside].sum(), 1.3e-6 * mask.sum(), rtol=1e-12)
    for axis, t in enumerate(coarse.faces):
        last = tuple(slice(-1, None) if a == axis else slice(None) for a in range(3))
        assert t.min() >= 0 and t.sum() > 0 and not t[last].any()


def test_thick_slices_are_semi_coarsened():
    stencil, _, _ = organ_problem((32, 32, 12), (MM, MM, 4 * MM))
    mg = multigrid.build_multigrid(stencil, make_backend("numpy"))
    shapes = [level.shape for level in mg.levels]
    assert shapes == [(32, 32, 12), (16, 16, 12), (8, 8, 12), (4, 4, 6)], shapes
    assert coarsened_axes(GridOperator.from_stencil(stencil, np.float32)) == (True, True, False)


def test_iterations_at_32_and_64():
    counts = [solve(*organ_problem((n,) * 3)[:2])[1].iterations for n in (32, 64)]
    assert max(counts) <= 12 and max(counts) - min(counts) <= 2, counts


@pytest.mark.slow
def test_iterations_flat_from_32_to_128():
    """The issue's acceptance test: flat (±2) iteration counts, 100× jump, organ mask."""
    counts = []
    for n in (32, 64, 128):
        x, report = solve(*organ_problem((n,) * 3)[:2])
        assert report.residual <= 1e-10
        counts.append(report.iterations)
    print(f"MG-CG V(2,2) iterations to 1e-10 at 32³, 64³, 128³: {counts}")
    assert max(counts) - min(counts) <= 2, counts


@pytest.mark.parametrize("shape, spacing", [((45, 39, 51), (MM,) * 3),
                                            ((64, 64, 24), (MM, MM, 3 * MM)),
                                            ((48, 40, 10), (0.8 * MM, 0.8 * MM, 5 * MM)),
                                            ((70, 3, 1), (MM,) * 3)],
                         ids=["odd", "ct-3mm", "ct-5mm", "thin"])
def test_odd_sizes_and_anisotropic_spacing_converge(shape, spacing):
    stencil, rhs, _ = organ_problem(shape, spacing)
    x, report = solve(stencil, rhs)
    assert report.residual <= 1e-10 and report.iterations <= 14, report.iterations
    r = rhs - stencil.apply(x)
    assert np.linalg.norm(r) <= 1.01e-10 * np.linalg.norm(rhs)


def test_large_contrast_and_both_cycles():
    stencil, rhs, _ = organ_problem((40, 40, 40), contrast=1e4)
    runs = {options: solve(stencil, rhs, cycle=options[0], smoothing_steps=options[1])
            for options in (("V", 2), ("W", 1), ("V", 1))}
    assert {r.method for _, r in runs.values()} == {"mg-cg V(2,2)", "mg-cg W(1,1)", "mg-cg V(1,1)"}
    assert runs["V", 2][1].iterations <= 14
    reference = runs["V", 2][0]
    for x, report in runs.values():
        assert report.residual <= 1e-10 and report.iterations <= 25
        assert np.linalg.norm(x - reference) <= 1e-7 * np.linalg.norm(reference)


def test_jacobi_fallback_agrees_and_needs_many_more_iterations():
    stencil, rhs, _ = organ_problem((32, 32, 32))
    x_mg, mg_report = solve(stencil, rhs)
    x_jacobi, jacobi_report = conjugate_gradient(stencil, rhs, make_backend("numpy"), name="test",
                                                 tolerance=1e-10, max_iterations=5000,
                                                 preconditioner="jacobi")
    assert jacobi_report.method == "jacobi-cg" and mg_report.method == "mg-cg V(2,2)"
    assert jacobi_report.iterations > 10 * mg_report.iterations
    assert np.linalg.norm(x_mg - x_jacobi) <= 1e-7 * np.linalg.norm(x_jacobi)


def test_float32_backend_reaches_its_tolerance():
    stencil, rhs, _ = organ_problem((24, 24, 24))
    backend = make_backend("numpy", "float32")
    faces = tuple(t.astype(np.float32) for t in stencil.faces)
    x, report = solve(Stencil(faces, stencil.reaction.astype(np.float32)), rhs.astype(np.float32),
                      backend)
    assert x.dtype == np.float32 and report.tolerance == 1e-6 and report.residual <= 1e-6


def test_unknown_options_are_rejected():
    stencil, rhs, _ = organ_problem((8, 8, 8))
    with pytest.raises(ValueError, match="cycle 'F' is unknown"):
        solve(stencil, rhs, cycle="F")
    with pytest.raises(ValueError, match="preconditioner 'ilu' is unknown"):
        solve(stencil, rhs, preconditioner="ilu")


def test_sphere_verification_solve_uses_multigrid_to_1e_10(backend):
    """The Baxter–Jain sphere (tests/verification) through the default solver settings."""
    raw = {"case": {"name": "sphere"}, "grid": {"shape": [40, 40, 40], "spacing": "0.3125 mm"},
           "geometry": {"kind": "phantom", "organ": {"shape": "sphere", "center": ["0 m"] * 3,
                                                     "radius": "10 mm"}},
           "supplies": [{"name": "a", "inlets": [{"name": "i", "voxel": [0, 0, 0],
                                                  "flow": "1 mL/min"}]}]}
    case = case_from_dict(raw)
    report = solve_interstitial(case, build_domain(case, backend)).report
    assert report.method == "mg-cg V(2,2)" and report.residual <= 1e-10
    assert report.iterations <= 12


def test_case_solver_options_reach_metrics(tmp_path, liver_dict):
    case = case_from_dict({**liver_dict, "solver": {"cycle": "W", "smoothing_steps": 1}})
    metrics = run_case(case, tmp_path, backend="numpy").metrics
    assert {s["method"] for s in metrics["solver"]["solves"]} == {"mg-cg W(1,1)"}
    assert all(s["relative_residual"] <= s["tolerance"] for s in metrics["solver"]["solves"])


@pytest.mark.parametrize("preconditioner", ["multigrid", "jacobi"])
def test_solve_on_the_coupled_box_matches_the_whole_grid(monkeypatch, preconditioner):
    """A small organ in a large box, with isolated tissue voxels (decoupled, d ≠ 1) outside."""
    shape = (40, 36, 30)
    stencil, rhs, mask = organ_problem((16, 14, 12))
    conductivity = np.zeros(shape)
    conductivity[5:21, 10:24, 3:15][mask] = 2e-9
    big_mask = conductivity > 0
    big_mask[35, 30, 25] = big_mask[0, 0, 0] = True      # isolated voxels: x = b / β there
    big_rhs = np.zeros(shape)
    big_rhs[5:21, 10:24, 3:15] = rhs
    big_rhs[35, 30, 25] = 2.6e-6
    big = masked_stencil(conductivity, np.full(shape, 1.3e-6), big_mask, (MM,) * 3)
    corners = np.argwhere(conductivity > 0)
    assert [(s.start, s.stop) for s in big.coupled_box()] == list(
        zip(corners.min(axis=0), corners.max(axis=0) + 1))
    cropped, report = solve(big, big_rhs, preconditioner=preconditioner)
    monkeypatch.setattr("perfusion.solvers.cg.CROP_BELOW", 0.0)
    whole, whole_report = solve(big, big_rhs, preconditioner=preconditioner)
    assert report.residual <= 1e-10 and whole_report.residual <= 1e-10
    assert np.linalg.norm(big_rhs - big.apply(cropped)) <= 1.01e-10 * np.linalg.norm(big_rhs)
    assert cropped[35, 30, 25] == pytest.approx(2.0, rel=1e-12) and cropped[0, 0, 0] == 0
    assert np.linalg.norm(cropped - whole) <= 1e-8 * np.linalg.norm(whole)
    warm, warm_report = solve(big, big_rhs, x0=cropped, preconditioner=preconditioner)
    assert warm_report.iterations == 0 and np.array_equal(warm, cropped)


def test_zero_and_decoupled_right_hand_sides():
    stencil, rhs, _ = organ_problem((12, 12, 12))
    x, report = solve(stencil, np.zeros_like(rhs))
    assert report.iterations == 0 and not x.any()
    isolated = masked_stencil(np.ones((5, 5, 5)), np.full((5, 5, 5), 0.5), np.ones((5, 5, 5), bool),
                              (1.0,) * 3)
    isolated = Stencil(tuple(np.zeros_like(t) for t in isolated.faces), isolated.reaction)
    x, report = solve(isolated, np.ones((5, 5, 5)))
    assert report.iterations == 0 and np.all(x == 2.0)
