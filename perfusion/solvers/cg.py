"""Preconditioned conjugate gradients for the symmetric operators of ``stencil``.

Solves ``A x = b`` to ``‖b − A x‖₂ ≤ tol ‖b‖₂`` with a Jacobi (diagonal) preconditioner.
Dot products and norms are accumulated in float64 whatever the working precision. In
float32 a relative residual below ~1e-6 is not reachable; the tolerance is raised to
``FLOAT32_TOLERANCE`` and the report says so. Not reaching the tolerance raises
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

log = logging.getLogger(__name__)

FLOAT32_TOLERANCE = 1e-6


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
                       max_iterations: int, x0=None, progress_every: int = 500):
    """Jacobi-preconditioned CG; returns ``(x, SolveReport)``.

    Examples
    --------
    >>> import numpy as np
    >>> from perfusion.backend import make_backend
    >>> from perfusion.solvers.stencil import masked_stencil
    >>> be = make_backend("numpy")
    >>> mask = np.ones((8, 8, 8), bool)
    >>> A = masked_stencil(np.ones((8, 8, 8)), np.full((8, 8, 8), 0.1), mask, (1.0,) * 3)
    >>> x, report = conjugate_gradient(A, np.ones((8, 8, 8)), be, name="demo",
    ...                                tolerance=1e-10, max_iterations=500)
    >>> bool(np.allclose(x, 10.0))
    True
    """
    xp = backend.xp
    if np.dtype(backend.dtype) == np.float32 and tolerance < FLOAT32_TOLERANCE:
        log.info("%s: float32 cannot reach %.0e; using tolerance %.0e", name, tolerance,
                 FLOAT32_TOLERANCE)
        tolerance = FLOAT32_TOLERANCE
    start = time.perf_counter()
    inverse_diagonal = 1.0 / stencil.diagonal()
    x = xp.zeros_like(rhs) if x0 is None else x0.astype(rhs.dtype, copy=True)
    r = rhs - stencil.apply(x)
    norm_b = math.sqrt(backend.dot(rhs, rhs))
    if norm_b == 0.0:
        return xp.zeros_like(rhs), SolveReport(name, "jacobi-cg", tolerance, 0, 0.0, 0.0, [0.0])
    z = inverse_diagonal * r
    p = z.copy()
    rz = backend.dot(r, z)
    history = [math.sqrt(backend.dot(r, r)) / norm_b]
    iteration = 0
    while history[-1] > tolerance:
        if iteration >= max_iterations or not math.isfinite(history[-1]):
            raise ConvergenceError(
                f"{name}: conjugate gradients reached a relative residual of {history[-1]:.2e} "
                f"after {iteration} iterations, not the tolerance {tolerance:.0e}. Raise "
                "solver.max_iterations, loosen solver.tolerance, or check the case for "
                "conductivities that differ by many orders of magnitude.")
        ap = stencil.apply(p)
        alpha = rz / backend.dot(p, ap)
        cg_update.update_solution(x, r, z, p, ap, inverse_diagonal, alpha)
        rz_next = backend.dot(r, z)
        cg_update.update_direction(p, z, rz_next / rz)
        rz = rz_next
        iteration += 1
        history.append(math.sqrt(backend.dot(r, r)) / norm_b)
        if iteration % progress_every == 0:
            log.info("%s: iteration %d, relative residual %.2e", name, iteration, history[-1])
    report = SolveReport(name, "jacobi-cg", tolerance, iteration, history[-1],
                         time.perf_counter() - start, history)
    log.debug("%s: %d iterations, relative residual %.2e", name, iteration, history[-1])
    return x, report
