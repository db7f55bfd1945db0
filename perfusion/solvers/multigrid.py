"""Geometric multigrid preconditioner for the masked 7-point operators (docs/model.md §11.2).

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

Two layouts of a level, with the same methods: :class:`Level` keeps the grid layout and
runs ``perfusion.ops`` (the CUDA kernels on CuPy); on NumPy the levels above the coarsest
are :class:`~perfusion.solvers.redblack.RedBlackLevel` (each colour contiguous: a NumPy
half-sweep touches half the grid). Both give the same ``B`` up to rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from ..ops import array_module, axis_slice, mg_smooth, mg_transfer
from .coarsening import GridOperator, coarse_operator, coarsened_axes
from .redblack import RedBlackLevel
from .stencil import Stencil

#: Precision of the hierarchy and the cycle (see the module docstring).
CYCLE_DTYPE = np.float32
#: Coarsen until a level has at most this many cells; it is then solved by a dense inverse.
COARSEST_CELLS = 256
CYCLES = ("V", "W")


@dataclass(frozen=True)
class Level:
    """One grid of the hierarchy in the grid layout, smoothed by ``perfusion.ops`` (the CUDA
    kernels on CuPy): its operator and the Gauss–Seidel weights of each colour (``D⁻¹`` on
    the cells with ``(i + j + k) mod 2 = c``, 0 elsewhere). The NumPy cycle uses
    :class:`~perfusion.solvers.redblack.RedBlackLevel`, with the same methods."""

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

    def work(self, dtype) -> SimpleNamespace:
        """Work arrays: iterate, residual, and the right-hand side where it is copied (the
        restricted one; on the finest level the cast from the working precision)."""
        xp = array_module(self.operator.reaction)
        return SimpleNamespace(**{name: xp.empty(self.shape, dtype=dtype)
                                  for name in ("x", "residual", "grid")})

    def as_vector(self, grid, work):
        """A grid-layout right-hand side as this level's vector (cast into ``work.grid``)."""
        if grid.dtype == work.grid.dtype:
            return grid
        work.grid[...] = grid
        return work.grid

    @staticmethod
    def as_grid(vector, out, staging=None):
        """The vector in grid layout: itself."""
        return vector

    def presmooth(self, b, x, steps: int, work, out) -> None:
        """``steps`` red-black sweeps from ``x = 0`` (the first red half-sweep is ``D⁻¹ b``),
        then ``Pᵀ (b − A x)`` into ``out`` (the coarse grid)."""
        red, black = self.colour_weights
        array_module(b).multiply(red, b, out=x)
        self._smooth(b, x, [black] + [red, black] * (steps - 1))
        residual = self.operator.residual(b, x, out=work.residual)
        mg_transfer.restrict(residual, out.shape, out=out)

    def postsmooth(self, b, x, steps: int) -> None:
        """``steps`` sweeps in the adjoint order (black, red)."""
        red, black = self.colour_weights
        self._smooth(b, x, [black, red] * steps)

    @staticmethod
    def prolong(coarse, x) -> None:
        """``x ← x + P e``."""
        mg_transfer.prolong(coarse, x)

    def residual(self, b, x):
        """``b − A x`` (a new array)."""
        return self.operator.residual(b, x)

    def _smooth(self, b, x, weights) -> None:
        """Gauss–Seidel half-sweeps, one per colour weight, in the order given."""
        for weight in weights:
            mg_smooth.smooth(*self.operator.faces, self.operator.reaction, weight, b, x)


@dataclass(frozen=True)
class Multigrid:
    """A multigrid cycle on a fixed hierarchy; call :meth:`apply` to precondition.

    It holds its work arrays (per level the iterate, residual and right-hand side, in
    ``CYCLE_DTYPE``), so one object must not be applied by two threads at once.
    """

    levels: tuple
    coarsest_inverse: object
    cycle: str = "V"
    smoothing_steps: int = 2
    work: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        work = tuple(level.work(CYCLE_DTYPE) for level in self.levels)
        object.__setattr__(self, "work", work)

    @property
    def description(self) -> str:
        """Cycle name for reports, e.g. ``V(2,2)``."""
        return cycle_name(self.cycle, self.smoothing_steps)

    def apply(self, b, out=None):
        """``B b``: one cycle from a zero initial guess (in float32), as ``b.dtype`` in ``out``
        (a new array if not given)."""
        if out is None:
            out = array_module(b).empty_like(b)
        finest, work = self.levels[0], self.work[0]
        x = finest.as_grid(self._cycle(0, finest.as_vector(b, work)), out, work.grid)
        if x is not out:
            out[...] = x
        return out

    def _cycle(self, index: int, b):
        """``cycle_index(b)`` of the module docstring, in ``work[index].x`` (``b`` and the
        result in the level's layout)."""
        work = self.work[index]
        if index == len(self.levels) - 1:
            array_module(b).matmul(self.coarsest_inverse, b.reshape(-1), out=work.x.reshape(-1))
            return work.x
        level, coarse = self.levels[index], self.levels[index + 1]
        coarse_work = self.work[index + 1]
        level.presmooth(b, work.x, self.smoothing_steps, work, out=coarse_work.grid)
        coarse_rhs = coarse.as_vector(coarse_work.grid, coarse_work)
        correction = self._cycle(index + 1, coarse_rhs)
        if self.cycle == "W":  # the second visit reuses the coarse work arrays
            correction = correction.copy()
            correction += self._cycle(index + 1, coarse.residual(coarse_rhs, correction))
        level.prolong(coarse.as_grid(correction, coarse_work.grid), work.x)
        level.postsmooth(b, work.x, self.smoothing_steps)
        return work.x


def cycle_name(cycle: str, smoothing_steps: int) -> str:
    """``V(2,2)``: the cycle and its pre- and post-smoothing sweeps."""
    return f"{cycle}({smoothing_steps},{smoothing_steps})"


def build_multigrid(stencil: Stencil, backend, *, cycle: str = "V",
                    smoothing_steps: int = 2) -> Multigrid:
    """The hierarchy of ``stencil`` and the cycle that preconditions it.

    Examples
    --------
    >>> import numpy as np
    >>> from perfusion.compute.backend import make_backend
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
    operator = GridOperator.from_stencil(stencil, CYCLE_DTYPE)
    # the colour-by-colour layout where the ops run their NumPy references
    layout = Level if mg_smooth.on_gpu(operator.reaction) else RedBlackLevel
    levels = []
    while math.prod(operator.shape) > COARSEST_CELLS:
        coarse = coarse_operator(operator, coarsened_axes(operator))
        levels.append(layout.build(operator))  # the grid-layout operator can go now
        operator = coarse
    levels.append(Level.build(operator))  # the coarsest level: a dense inverse
    return Multigrid(tuple(levels), _dense_inverse(operator, backend), cycle, smoothing_steps)


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

