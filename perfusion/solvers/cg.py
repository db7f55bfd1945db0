"""Preconditioned conjugate gradients for the symmetric operators of ``stencil``.

Solves ``A x = b`` to ``‖b − A x‖₂ ≤ tol ‖b‖₂``. The preconditioner is one geometric
multigrid cycle (``"multigrid"``, the default: ``perfusion.solvers.multigrid``, reported
as e.g. ``mg-cg V(2,2)``) or the diagonal (``"jacobi"``, ``jacobi-cg``: cheap per
iteration, but the iteration count grows with the grid size). Cells without faces
(outside the mask) are decoupled, ``x = b/d`` there; CG iterates on the bounding box of
the others, cropped out of the grid when that saves at least ``1 − CROP_BELOW`` of it (a
real organ fills a fraction of its CT volume). Dot products and norms are accumulated in
float64 whatever the working precision. In float32 a relative residual below ~1e-6 is
not reachable; the tolerance is raised to ``FLOAT32_TOLERANCE`` and the report says so.
Not reaching the tolerance raises :class:`~perfusion.errors.ConvergenceError` — never a
silent answer.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError
from ..ops import cg_update, on_gpu
from .multigrid import build_multigrid, cycle_name

log = logging.getLogger(__name__)

FLOAT32_TOLERANCE = 1e-6
PRECONDITIONERS = ("multigrid", "jacobi")
#: Solve on the bounding box of the coupled cells when it is at most this share of the grid.
CROP_BELOW = 0.9
#: Elements per chunk of the NumPy vector updates (fits the L2 cache with its operands).
CHUNK = 2**14


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
    >>> from perfusion.compute.backend import make_backend
    >>> from perfusion.solvers.stencil import masked_stencil
    >>> be = make_backend("numpy")
    >>> mask = np.ones((16, 16, 16), bool)
    >>> A = masked_stencil(np.ones((16, 16, 16)), np.full((16, 16, 16), 0.1), mask, (1.0,) * 3)
    >>> x, report = conjugate_gradient(A, np.ones((16, 16, 16)), be, name="demo",
    ...                                tolerance=1e-10, max_iterations=500)
    >>> bool(np.allclose(x, 10.0)), report.method
    (True, 'mg-cg V(2,2)')
    """
    if preconditioner not in PRECONDITIONERS:
        raise ValueError(f"preconditioner {preconditioner!r} is unknown: use one of "
                         f"{PRECONDITIONERS}")
    if np.dtype(backend.dtype) == np.float32 and tolerance < FLOAT32_TOLERANCE:
        log.info("%s: float32 cannot reach %.0e; using tolerance %.0e", name, tolerance,
                 FLOAT32_TOLERANCE)
        tolerance = FLOAT32_TOLERANCE
    start = time.perf_counter()
    norm_b = math.sqrt(backend.dot(rhs, rhs))
    reaction = stencil.reaction  # d x = b solves the decoupled cells, the box holds the rest
    solution = rhs / backend.xp.where(reaction != 0, reaction, 1)
    box = stencil.coupled_box()
    method = (f"mg-cg {cycle_name(cycle, smoothing_steps)}" if preconditioner == "multigrid"
              else "jacobi-cg")
    history = [0.0]
    if box is not None and norm_b > 0.0:
        inner, box = _cropped(stencil, box)
        x = None if x0 is None else x0[box].astype(rhs.dtype)
        if preconditioner == "multigrid":
            precondition = build_multigrid(inner, backend, cycle=cycle,
                                           smoothing_steps=smoothing_steps).apply
        else:
            precondition = 1.0 / inner.diagonal()
        x, history = _iterate(inner, backend.xp.ascontiguousarray(rhs[box]), x, precondition,
                              backend, norm_b, tolerance, max_iterations, name, method,
                              progress_every)
        solution[box] = x
    report = SolveReport(name, method, tolerance, len(history) - 1, history[-1],
                         time.perf_counter() - start, history)
    log.debug("%s: %s, %d iterations, relative residual %.2e", name, method,
              report.iterations, report.residual)
    return solution, report


def _cropped(stencil, box):
    """(operator, box) to iterate on: the coupled cells' box, or the grid if that is not smaller
    than ``CROP_BELOW`` of it (cropping copies the operator)."""
    if math.prod(s.stop - s.start for s in box) > CROP_BELOW * stencil.reaction.size:
        return stencil, (slice(None),) * 3
    return stencil.crop(box), box


def _iterate(stencil, rhs, x, precondition, backend, norm_b: float, tolerance: float,
             max_iterations: int, name: str, method: str, progress_every: int):
    """The CG iteration from ``x`` (``None``: zero), updated in place; ``precondition`` is a
    callable or ``D⁻¹``. Returns ``x`` and the history of ``‖b − A x‖ / norm_b``
    (``norm_b`` of the whole grid's rhs).
    """
    jacobi = not callable(precondition)
    xp = backend.xp
    if x is None:
        x, r = xp.zeros_like(rhs), rhs.copy()
    else:
        r = rhs - stencil.apply(x)
    z = precondition * r if jacobi else precondition(r)
    p, ap = z.copy(), xp.empty_like(rhs)
    rz = backend.dot(r, z)
    history = [math.sqrt(backend.dot(r, r)) / norm_b]
    while history[-1] > tolerance:
        iteration = len(history) - 1
        if iteration >= max_iterations or not math.isfinite(history[-1]):
            raise ConvergenceError(
                f"{name}: conjugate gradients ({method}) reached a relative residual of "
                f"{history[-1]:.2e} after {iteration} iterations, not the tolerance "
                f"{tolerance:.0e}. Raise solver.max_iterations, loosen solver.tolerance, or "
                "check the case for conductivities that differ by many orders of magnitude.")
        stencil.apply(p, out=ap)
        alpha = rz / backend.dot(p, ap)
        if jacobi:
            cg_update.update_solution(x, r, z, p, ap, precondition, alpha)
        else:
            _step(x, r, p, ap, alpha)
            precondition(r, out=z)
        rz_next = backend.dot(r, z)
        cg_update.update_direction(p, z, rz_next / rz)
        rz = rz_next
        history.append(math.sqrt(backend.dot(r, r)) / norm_b)
        if (iteration + 1) % progress_every == 0:
            log.info("%s: iteration %d, relative residual %.2e", name, iteration + 1,
                     history[-1])
    return x, history


def _step(x, r, p, ap, alpha: float) -> None:
    """``x ← x + α p``, ``r ← r − α Ap`` in place; on NumPy chunk by chunk, so that ``α p``
    and ``α Ap`` are cache-sized temporaries (same bits as the whole-array expressions)."""
    if on_gpu(x) or not (x.flags.c_contiguous and r.flags.c_contiguous):
        x += alpha * p
        r -= alpha * ap
        return
    x, r, p, ap = (a.reshape(-1) for a in (x, r, p, ap))
    scaled = np.empty(min(x.size, CHUNK), dtype=x.dtype)
    for start in range(0, x.size, CHUNK):
        stop = min(x.size, start + CHUNK)
        chunk = scaled[:stop - start]
        np.multiply(p[start:stop], alpha, out=chunk)
        x[start:stop] += chunk
        np.multiply(ap[start:stop], alpha, out=chunk)
        r[start:stop] -= chunk
