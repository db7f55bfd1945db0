"""The pressure benchmark's problem and the methods it times (imported by ``bench_pressure.py``,
whose docstring states every number): the heterogeneous supply-pressure problem on an ``n³``
grid, its reduced CSR matrix for the peers (checked against ``Stencil.apply``), and one
``run_*`` per method, each returning (solution on the mask, setup s, solve s, iterations).
"""
from __future__ import annotations

import time

import numpy as np
import pyamg
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.ndimage import binary_erosion, gaussian_filter

from perfusion.compute.backend import make_backend
from perfusion.solvers.cg import conjugate_gradient
from perfusion.solvers.stencil import masked_stencil

TOLERANCE = 1e-8
SPACING = (1e-3,) * 3
K0, BETA, TOTAL_FLOW, INLETS = 2e-9, 1.3e-6, 5.0 / 6e7, 5  # SI; 5 mL/min


def build_problem(n: int, seed: int) -> dict:
    """Conductivity, reaction, mask and source of bench_pressure.py's docstring on an n³ grid."""
    rng = np.random.default_rng(seed)
    idx = np.indices((n, n, n), dtype=float) + 0.5
    semi = np.array([0.49, 0.46, 0.43]) * n
    mask = sum(((idx[a] - n / 2) / semi[a]) ** 2 for a in range(3)) <= 1.0
    g = gaussian_filter(rng.standard_normal((n, n, n)), sigma=2.0)
    g = (g - g.mean()) / g.std()
    conductivity = K0 * np.exp(g)
    centre = np.array([0.62, 0.40, 0.55]) * n
    tumour = sum((idx[a] - centre[a]) ** 2 for a in range(3)) <= (n / 6) ** 2
    conductivity[tumour] *= 0.1
    reaction = np.where(mask, BETA, 0.0)
    interior = np.flatnonzero(binary_erosion(mask, iterations=3))
    rhs = np.zeros((n, n, n))
    rhs.flat[rng.choice(interior, INLETS, replace=False)] = TOTAL_FLOW / INLETS / np.prod(SPACING)
    return {"conductivity": conductivity, "reaction": reaction, "mask": mask, "rhs": rhs}


def assemble_csr(stencil, mask) -> sp.csr_matrix:
    """The reduced SPD matrix on the mask voxels (row i = i-th True voxel in C order)."""
    number = np.full(mask.shape, -1, dtype=np.int64)
    number[mask] = np.arange(mask.sum())
    diagonal = np.asarray(stencil.reaction)[mask].copy()
    rows, cols, vals = [], [], []
    for axis, t in enumerate(stencil.faces):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        a, b = number[tuple(lo)], number[tuple(hi)]
        keep = (a >= 0) & (b >= 0) & (t > 0)
        a, b, t = a[keep], b[keep], t[keep]
        np.add.at(diagonal, a, t)
        np.add.at(diagonal, b, t)
        rows += [a, b]
        cols += [b, a]
        vals += [-t, -t]
    size = diagonal.size
    rows.append(np.arange(size))
    cols.append(np.arange(size))
    vals.append(diagonal)
    matrix = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(size, size)).tocsr()
    matrix.sum_duplicates()
    return matrix


def check_csr(matrix, stencil, mask, seed: int) -> float:
    """Relative difference of ``A_csr x`` and ``Stencil.apply(x)`` on the mask (random x)."""
    x = np.random.default_rng(seed).standard_normal(mask.shape)
    expected = stencil.apply(x)[mask]
    got = matrix @ x[mask]
    error = np.linalg.norm(got - expected) / np.linalg.norm(expected)
    if not error <= 1e-12 or abs(matrix - matrix.T).max() != 0:
        raise SystemExit(f"CSR matrix does not match Stencil.apply: relative error {error:.2e}")
    return error


def run_ours(problem, matrix, b, preconditioner="multigrid"):
    backend = make_backend("numpy", "float64")
    start = time.perf_counter()
    stencil = masked_stencil(problem["conductivity"], problem["reaction"], problem["mask"],
                             SPACING)
    setup = time.perf_counter() - start
    x, report = conjugate_gradient(stencil, problem["rhs"], backend, name="pressure",
                                   tolerance=TOLERANCE, max_iterations=100000,
                                   preconditioner=preconditioner)
    solve = time.perf_counter() - start - setup
    outside = float(np.abs(x[~problem["mask"]]).max(initial=0.0))
    if outside != 0.0:
        raise SystemExit(f"ours: solution is {outside:.2e} outside the mask, expected 0")
    return x[problem["mask"]], setup, solve, report.iterations


def run_scipy_cg(problem, matrix, b, jacobi=False):
    start = time.perf_counter()
    preconditioner = None
    if jacobi:
        inverse = 1.0 / matrix.diagonal()
        preconditioner = sla.LinearOperator(matrix.shape, matvec=lambda r: inverse * r.ravel(),
                                            dtype=matrix.dtype)
    setup = time.perf_counter() - start
    count = [0]

    def callback(_):
        count[0] += 1

    x, info = sla.cg(matrix, b, rtol=TOLERANCE, atol=0.0, maxiter=100000, M=preconditioner,
                     callback=callback)
    solve = time.perf_counter() - start - setup
    if info != 0:
        raise SystemExit(f"scipy cg did not converge (info={info})")
    return x, setup, solve, count[0]


def run_pyamg(problem, matrix, b):
    start = time.perf_counter()
    hierarchy = pyamg.smoothed_aggregation_solver(matrix)
    setup = time.perf_counter() - start
    residuals = []
    x, info = hierarchy.solve(b, tol=TOLERANCE, accel="cg", maxiter=1000, residuals=residuals,
                              return_info=True)
    solve = time.perf_counter() - start - setup
    if info != 0:
        raise SystemExit(f"pyamg did not converge (info={info})")
    return x, setup, solve, len(residuals) - 1


def run_fipy(problem, matrix, b):
    """FiPy on the full box (K = 0 and identity outside, as ours); not run where not installed."""
    import fipy  # noqa: PLC0415

    n = problem["mask"].shape[0]
    start = time.perf_counter()
    mesh = fipy.Grid3D(nx=n, ny=n, nz=n, dx=SPACING[0], dy=SPACING[1], dz=SPACING[2])
    # FiPy numbers cells x-fastest: Fortran order of our (x, y, z) arrays.
    cell = {key: problem[key].ravel(order="F") for key in ("conductivity", "reaction", "rhs")}
    inside = problem["mask"].ravel(order="F")
    pressure = fipy.CellVariable(mesh=mesh, value=0.0)
    conductivity = fipy.CellVariable(mesh=mesh, value=np.where(inside, cell["conductivity"], 0))
    reaction = fipy.CellVariable(mesh=mesh, value=np.where(inside, cell["reaction"], 1.0))
    source = fipy.CellVariable(mesh=mesh, value=cell["rhs"])
    equation = (fipy.DiffusionTerm(coeff=conductivity.harmonicFaceValue)
                - fipy.ImplicitSourceTerm(coeff=reaction) + source == 0)
    solver = fipy.LinearCGSolver(tolerance=TOLERANCE, iterations=100000, criterion="RHS")
    setup = time.perf_counter() - start
    equation.solve(var=pressure, solver=solver)
    solve = time.perf_counter() - start - setup
    x = np.asarray(pressure.value).reshape(problem["mask"].shape, order="F")
    return x[problem["mask"]], setup, solve, -1  # FiPy does not report its iterations


METHODS = {
    "perfusion MG-CG V(2,2) (numpy)": run_ours,
    "perfusion Jacobi-CG (numpy)": lambda p, m, b: run_ours(p, m, b, preconditioner="jacobi"),
    "SciPy CG": run_scipy_cg,
    "SciPy CG + Jacobi": lambda p, m, b: run_scipy_cg(p, m, b, jacobi=True),
    "PyAMG SA + CG": run_pyamg,
    "FiPy LinearCGSolver": run_fipy,
}
