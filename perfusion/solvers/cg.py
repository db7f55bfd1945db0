"""Preconditioned conjugate gradients for the symmetric operators of ``stencil``.

Solves ``A x = b`` to ``‖b − A x‖₂ ≤ tol ‖b‖₂``. The preconditioner is one geometric
multigrid cycle (``"multigrid"``, the default: ``perfusion.solvers.multigrid``, reported
as e.g. ``mg-cg V(2,2)``) or the diagonal (``"jacobi"``, ``jacobi-cg``: cheap per
iteration, but the iteration count grows with the grid size). Dot products and norms are
accumulated in float64 whatever the working precision. In float32 a relative residual
below ~1e-6 is not reachable; the tolerance is raised to ``FLOAT32_TOLERANCE`` and the
report says so. Not reaching the tolerance raises
:class:`~perfusion.errors.ConvergenceError` — never a silent answer.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError
from ..ops import cg_update
from .multigrid import build_multigrid

log = logging.getLogger(__name__)

FLOAT32_TOLERANCE = 1e-6
PRECONDITIONERS = ("multigrid", "jacobi")


@dataclass(frozen=True)
class SolveReport:
    """What one solve did: for ``metrics.json`` and the residual-history file."""

    name: str
    method: str
    tolerance: float
    iterations: int
    residual: float
    seconds: float
    history: list[float] = field(repr=False)

    def summary(self) -> dict:
        return {"method": self.method, "tolerance": self.tolerance, "iterations": self.iterations,
                "relative_residual": self.residual, "seconds": round(self.seconds, 4)}


def conjugate_gradient(stencil, rhs, backend, *, name: str, tolerance: float,
                       max_iterations: int, x0=None, progress_every: int = 500,
                       preconditioner: str = "multigrid", cycle: str = "V",
                       smoothing_steps: int = 2):
    """Preconditioned CG; returns ``(x, SolveReport)``.

    ``preconditioner`` is ``"multigrid"`` (with ``cycle`` ``"V"`` or ``"W"`` and
    ``smoothing_steps`` pre- and post-smoothing sweeps) or ``"jacobi"``.

    Examples
    --------
    >>> import numpy as np
    >>> from perfusion.backend import make_backend
    >>> from perfusion.solvers.stencil import masked_stencil
    >>> be = make_backend("numpy")
    >>> mask = np.ones((16, 16, 16), bool)
    >>> A = masked_stencil(np.ones((16, 16, 16)), np.full((16, 16, 16), 0.1), mask, (1.0,) * 3)
    >>> x, report = conjugate_gradient(A, np.ones((16, 16, 16)), be, name="demo",
    ...                                tolerance=1e-10, max_iterations=500)
    >>> bool(np.allclose(x, 10.0)), report.method
    (True, 'mg-cg V(2,2)')
    """
    xp = backend.xp
    if preconditioner not in PRECONDITIONERS:
        raise ValueError(f"preconditioner {preconditioner!r} is unknown: use one of "
                         f"{PRECONDITIONERS}")
    if np.dtype(backend.dtype) == np.float32 and tolerance < FLOAT32_TOLERANCE:
        log.info("%s: float32 cannot reach %.0e; using tolerance %.0e", name, tolerance,
                 FLOAT32_TOLERANCE)
        tolerance = FLOAT32_TOLERANCE
    start = time.perf_counter()
    if preconditioner == "multigrid":
        multigrid = build_multigrid(stencil, backend, cycle=cycle, smoothing_steps=smoothing_steps)
        method, inverse_diagonal = f"mg-cg {multigrid.description}", None
    else:
        multigrid, method, inverse_diagonal = None, "jacobi-cg", 1.0 / stencil.diagonal()
    x = xp.zeros_like(rhs) if x0 is None else x0.astype(rhs.dtype, copy=True)
    r = rhs - stencil.apply(x)
    norm_b = math.sqrt(backend.dot(rhs, rhs))
    if norm_b == 0.0:
        return xp.zeros_like(rhs), SolveReport(name, method, tolerance, 0, 0.0, 0.0, [0.0])
    z = multigrid.apply(r) if multigrid else inverse_diagonal * r
    p = z.copy()
    rz = backend.dot(r, z)
    history = [math.sqrt(backend.dot(r, r)) / norm_b]
    iteration = 0
    while history[-1] > tolerance:
        if iteration >= max_iterations or not math.isfinite(history[-1]):
            raise ConvergenceError(
                f"{name}: conjugate gradients ({method}) reached a relative residual of "
                f"{history[-1]:.2e} after {iteration} iterations, not the tolerance "
                f"{tolerance:.0e}. Raise solver.max_iterations, loosen solver.tolerance, or "
                "check the case for conductivities that differ by many orders of magnitude.")
        ap = stencil.apply(p)
        alpha = rz / backend.dot(p, ap)
        if multigrid:
            x += alpha * p
            r -= alpha * ap
            z = multigrid.apply(r)
        else:
            cg_update.update_solution(x, r, z, p, ap, inverse_diagonal, alpha)
        rz_next = backend.dot(r, z)
        cg_update.update_direction(p, z, rz_next / rz)
        rz = rz_next
        iteration += 1
        history.append(math.sqrt(backend.dot(r, r)) / norm_b)
        if iteration % progress_every == 0:
            log.info("%s: iteration %d, relative residual %.2e", name, iteration, history[-1])
    report = SolveReport(name, method, tolerance, iteration, history[-1],
                         time.perf_counter() - start, history)
    log.debug("%s: %s, %d iterations, relative residual %.2e", name, method, iteration,
              history[-1])
    return x, report
