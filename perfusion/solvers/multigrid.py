"""Geometric multigrid preconditioner for the masked 7-point operators (DESIGN §3).

On the hierarchy ``A_0 = A``, ``A_{l+1}`` the coarse operator of ``A_l``
(``perfusion.solvers.coarsening``: coarsening by 2 along the strongly coupled axes, fine
faces summed, halved along the coarsened axes), one cycle approximates ``A⁻¹ b``:

    cycle_l(b):  x = 0
                 ν × (red half-sweep, black half-sweep)          Gauss–Seidel pre-smoothing
                 e = cycle_{l+1}(Pᵀ (b − A_l x))                 coarse correction
                 W-cycle only:  e ← e + cycle_{l+1}(Pᵀ (b − A_l x) − A_{l+1} e)
                 x ← x + P e
                 ν × (black half-sweep, red half-sweep)          post-smoothing (adjoint order)
    cycle_L(b) = A_L⁻¹ b                                  dense inverse, ≤ COARSEST_CELLS cells

``P`` is piecewise-constant prolongation, ``R = Pᵀ`` the sum over the children
(``perfusion.ops.mg_transfer``); the half-sweeps and residuals are ``perfusion.ops.mg_smooth``.
Post-smoothing is the adjoint of pre-smoothing and ``R = Pᵀ``, so the cycle is a symmetric
operator ``B``; it is positive definite because a Gauss–Seidel sweep is a convergent
splitting (``M + Mᵀ − A = D > 0``) and every coarse operator is SPD. Hence ``B`` is an
admissible preconditioner for conjugate gradients (``perfusion.solvers.cg``).

The cycle runs in float32 whatever the working precision (mixed precision): it only has
to be a fixed, good approximation of ``A⁻¹``, and its cost is memory traffic, which float32
halves. CG keeps its vectors, residuals and recurrences in the working precision and its
dot products in float64, so the attainable accuracy is unchanged (1e-10 in float64).

Cells outside the mask are decoupled identity rows: the first half-sweep sets them to
``b``, the restricted residual there is zero, and the post-smoothing resets whatever the
prolongation added, so ``B`` is the identity on them and the transfers need no mask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..ops import array_module, axis_slice, mg_smooth, mg_transfer
from .coarsening import GridOperator, coarse_operator, coarsened_axes
from .stencil import Stencil

#: Precision of the hierarchy and the cycle (see the module docstring).
CYCLE_DTYPE = np.float32
#: Coarsen until a level has at most this many cells; it is then solved by a dense inverse.
COARSEST_CELLS = 256
CYCLES = ("V", "W")


@dataclass(frozen=True)
class Level:
    """One grid of the hierarchy: its operator and the Gauss–Seidel weights of each colour
    (``D⁻¹`` on the cells with ``(i + j + k) mod 2 = c``, 0 elsewhere)."""

    operator: GridOperator
    colour_weights: tuple

    @classmethod
    def build(cls, operator: GridOperator) -> "Level":
        """The level of ``operator``, with its colour weights."""
        xp = array_module(operator.reaction)
        nx, ny, nz = operator.shape
        odd = [(xp.arange(n) % 2).astype(xp.uint8) for n in (nx, ny, nz)]
        red = (odd[0][:, None, None] ^ odd[1][None, :, None] ^ odd[2]) == 0
        inverse = 1 / operator.diagonal()
        return cls(operator, (xp.where(red, inverse, 0), xp.where(red, 0, inverse)))

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.operator.shape


@dataclass(frozen=True)
class Multigrid:
    """A multigrid cycle on a fixed hierarchy; call :meth:`apply` to precondition.

    It holds its work arrays (per level the iterate, the residual and the restricted
    right-hand side, in ``CYCLE_DTYPE``), so one object must not be applied by two threads
    at once.
    """

    levels: tuple[Level, ...]
    coarsest_inverse: object
    cycle: str = "V"
    smoothing_steps: int = 2
    work: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        xp = array_module(self.levels[0].operator.reaction)
        work = tuple(_Work(*(xp.empty(level.shape, dtype=CYCLE_DTYPE) for _ in range(3)))
                     for level in self.levels)
        object.__setattr__(self, "work", work)

    @property
    def description(self) -> str:
        """Cycle name for reports, e.g. ``V(2,2)``."""
        return cycle_name(self.cycle, self.smoothing_steps)

    def apply(self, b, out=None):
        """``B b``: one cycle from a zero initial guess (in float32), as ``b.dtype`` in ``out``
        (a new array if not given)."""
        rhs = self.work[0].rhs
        rhs[...] = b
        x = self._cycle(0, rhs)
        if out is None:
            return x.astype(b.dtype)
        out[...] = x
        return out

    def _cycle(self, index: int, b):
        """``cycle_index(b)`` of the module docstring, in ``work[index].x``."""
        work = self.work[index]
        if index == len(self.levels) - 1:
            flat = work.x.reshape(-1)
            array_module(b).matmul(self.coarsest_inverse, b.reshape(-1), out=flat)
            return work.x
        level, coarse = self.levels[index], self.levels[index + 1]
        red, black = level.colour_weights
        x = work.x
        array_module(b).multiply(red, b, out=x)  # the first red half-sweep, from x = 0
        self._smooth(level, b, x, [black] + [red, black] * (self.smoothing_steps - 1))
        residual = level.operator.residual(b, x, out=work.residual)
        coarse_rhs = mg_transfer.restrict(residual, coarse.shape, out=self.work[index + 1].rhs)
        correction = self._cycle(index + 1, coarse_rhs)
        if self.cycle == "W":  # the second visit reuses the coarse work arrays
            correction = correction.copy()
            correction += self._cycle(index + 1, coarse.operator.residual(coarse_rhs, correction))
        mg_transfer.prolong(correction, x)
        self._smooth(level, b, x, [black, red] * self.smoothing_steps)
        return x

    @staticmethod
    def _smooth(level: Level, b, x, weights) -> None:
        """Gauss–Seidel half-sweeps, one per colour weight, in the order given."""
        for weight in weights:
            mg_smooth.smooth(*level.operator.faces, level.operator.reaction, weight, b, x)


@dataclass(frozen=True)
class _Work:
    """Work arrays of one level: the cycle's iterate, its residual, its right-hand side."""

    x: object
    residual: object
    rhs: object


def cycle_name(cycle: str, smoothing_steps: int) -> str:
    """``V(2,2)``: the cycle and its pre- and post-smoothing sweeps."""
    return f"{cycle}({smoothing_steps},{smoothing_steps})"


def build_multigrid(stencil: Stencil, backend, *, cycle: str = "V",
                    smoothing_steps: int = 2) -> Multigrid:
    """The hierarchy of ``stencil`` and the cycle that preconditions it.

    Examples
    --------
    >>> import numpy as np
    >>> from perfusion.backend import make_backend
    >>> from perfusion.solvers.stencil import masked_stencil
    >>> A = masked_stencil(np.ones((16, 16, 16)), np.full((16, 16, 16), 0.1),
    ...                    np.ones((16, 16, 16), bool), (1.0,) * 3)
    >>> mg = build_multigrid(A, make_backend("numpy"))
    >>> [level.shape for level in mg.levels], mg.description
    ([(16, 16, 16), (8, 8, 8), (4, 4, 4)], 'V(2,2)')
    """
    if cycle not in CYCLES:
        raise ValueError(f"multigrid cycle {cycle!r} is unknown: use one of {CYCLES}")
    if smoothing_steps < 1:
        raise ValueError(f"smoothing_steps must be ≥ 1, got {smoothing_steps}")
    operators = [GridOperator.from_stencil(stencil, CYCLE_DTYPE)]
    while math.prod(operators[-1].shape) > COARSEST_CELLS:
        operators.append(coarse_operator(operators[-1], coarsened_axes(operators[-1])))
    levels = tuple(Level.build(operator) for operator in operators)
    return Multigrid(levels, _dense_inverse(operators[-1], backend), cycle, smoothing_steps)


def _dense_inverse(operator: GridOperator, backend):
    """``A⁻¹`` of a small level as a dense matrix (computed in float64 on the host)."""
    reaction = np.asarray(backend.to_host(operator.reaction), dtype=np.float64)
    number = np.arange(reaction.size).reshape(reaction.shape)
    matrix = np.diag(reaction.ravel())
    for axis, t in enumerate(operator.faces):
        lo = number[axis_slice(axis, None, -1)].ravel()
        hi = number[axis_slice(axis, 1, None)].ravel()
        t = np.asarray(backend.to_host(t), dtype=np.float64)[axis_slice(axis, None, -1)].ravel()
        matrix[lo, hi] -= t
        matrix[hi, lo] -= t
        matrix[lo, lo] += t
        matrix[hi, hi] += t
    inverse = np.linalg.inv(matrix)
    return backend.asarray(0.5 * (inverse + inverse.T), dtype=CYCLE_DTYPE)

