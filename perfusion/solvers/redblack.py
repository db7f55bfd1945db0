"""Multigrid levels stored colour by colour, for the NumPy cycle (``perfusion.solvers.multigrid``).

A red-black Gauss–Seidel half-sweep changes the cells of one colour, ``(i + j + k) mod 2 =
c``, from their face neighbours, which all have the other colour. In the grid's C order the
colours alternate along every axis, so the NumPy reference of the CUDA kernel
(``perfusion.ops.mg_smooth``) computes ``b − A x`` on every cell and keeps half of it. A
:class:`RedBlackLevel` stores each colour contiguously instead (the kernel path keeps the
grid layout):

- the grid is padded to odd ``n_y``, ``n_z`` with decoupled identity cells (``D = 1``, no
  faces, ``b = x = 0``), so that the colour of cell ``v = (i n_y + j) n_z + k`` of the flat
  grid is ``v mod 2``: red cell ``v = 2m`` is entry ``m`` of the red part, black ``2m + 1``
  entry ``m`` of the black part;
- the face neighbours ``v ± s`` (``s = 1, n_z, n_y n_z``, all odd) then have fixed offsets in
  the other part: red ``m`` has black ``m + u`` (faces ``T[v]`` of the red part) and
  ``m − u − 1`` (faces of the black part there), ``u = 0, h_z, h_x`` along z, y, x with
  ``h_z = (n_z − 1)/2``, ``h_x = (n_y n_z − 1)/2``; black ``m`` has red ``m + u + 1`` and
  ``m − u``;
- a vector is one array ``[halo | red | halo | black | halo]`` with zero halos of
  ``h_x + 1`` entries, so every shifted slice is in bounds (a missing neighbour has T = 0).

A half-sweep is ``x_c ← D_c⁻¹ (b_c + Σ T x_other)``: the update ``x + D⁻¹(b − A x)`` of the
kernel in exact arithmetic, in 13 contiguous passes over half the grid instead of 16 over
all of it. The half-sweeps of a smoothing run as a wavefront: chunk by chunk (``CHUNK``
entries), each half-sweep one chunk behind the one before, so that a chunk's operands are
still in cache for the next half-sweep (same bits as one half-sweep after the other).
After the pre-smoothing, whose last half-sweep is black, ``b − A x`` vanishes on the black
cells (up to rounding): only the red residual is computed and restricted; the
prolongation only adds to the red cells, since the black half-sweep that follows sets the
black ones without reading them. The transfers and the conversions from and to the grid
layout work on the 8 sublattices ``(i, j, k) mod 2``: on each, ``(i//2, j//2, k//2)`` is a
strided view of one colour with contiguous rows.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..ops import mg_transfer

#: Entries per chunk of the half-sweeps' wavefront (at least the halo, one x-plane's half).
CHUNK = 2**16


@dataclass(frozen=True)
class RedBlackLevel:
    """One grid of the hierarchy in the colour-by-colour layout of the module docstring."""

    shape: tuple            # the level's grid, (n_x, n_y, n_z)
    padded: tuple           # (n_x, odd n_y, odd n_z)
    halo: int               # h_x + 1
    faces: tuple            # T_x, T_y, T_z as vectors
    diagonal: np.ndarray    # D as a vector (1 on padded cells, 0 on halos)
    inverse: np.ndarray     # D⁻¹ as a vector (0 on halos)

    @classmethod
    def build(cls, operator) -> "RedBlackLevel":
        """The level of a ``coarsening.GridOperator`` (its dtype)."""
        nx, ny, nz = operator.shape
        padded = (nx, ny | 1, nz | 1)
        halo = (padded[1] * padded[2] - 1) // 2 + 1
        level = cls(operator.shape, padded, halo, (), None, None)
        faces = tuple(level.from_grid(t, level.vector(t.dtype)) for t in operator.faces)
        diagonal = level.vector(operator.reaction.dtype)
        for part in level.parts(diagonal):
            part[...] = 1  # the padded cells: identity rows
        level.from_grid(operator.diagonal(), diagonal)
        inverse = level.vector(diagonal.dtype)
        for part, d in zip(level.parts(inverse), level.parts(diagonal)):
            np.divide(1, d, out=part)
        return cls(operator.shape, padded, halo, faces, diagonal, inverse)

    @functools.cached_property
    def sizes(self) -> tuple[int, int]:
        """Entries of the red and the black part."""
        cells = self.padded[0] * self.padded[1] * self.padded[2]
        return (cells + 1) // 2, cells // 2

    @functools.cached_property
    def offsets(self) -> tuple[int, int]:
        """Where the red and the black part start in a vector."""
        return self.halo, 2 * self.halo + self.sizes[0]

    def vector(self, dtype) -> np.ndarray:
        """A zero vector (halos and padded cells stay zero)."""
        return np.zeros(3 * self.halo + sum(self.sizes), dtype=dtype)

    def parts(self, vector) -> tuple:
        """The red and the black part of ``vector`` (views)."""
        return tuple(vector[start:start + size] for start, size in zip(self.offsets, self.sizes))

    def work(self, dtype) -> SimpleNamespace:
        """Work arrays: iterate, right-hand side, residual, and a grid-layout buffer (the
        restricted right-hand side and the correction; on the finest level the staging of
        the casts from and to the working precision)."""
        return SimpleNamespace(x=self.vector(dtype), rhs=self.vector(dtype),
                               residual=self.vector(dtype), grid=np.empty(self.shape, dtype))

    # Layout conversions and transfers, on the sublattices -------------------------------

    def _sublattices(self, vector, colours=(0, 1)):
        """(parity p, the sublattice of cells ``2 I + p`` as a view of ``vector``)."""
        plane, row = self.padded[1] * self.padded[2], self.padded[2]
        item = vector.itemsize
        for p, counts, first in self.lattice:
            if sum(p) % 2 in colours:
                yield p, np.ndarray(counts, vector.dtype, vector, first * item,
                                    (plane * item, row * item, item))

    @functools.cached_property
    def lattice(self) -> list:
        """(parity p, its cell counts, its first entry in a vector) of each non-empty
        sublattice."""
        plane, row = self.padded[1] * self.padded[2], self.padded[2]
        lattice = []
        for p in itertools.product((0, 1), repeat=3):
            counts = tuple(-(-(n - q) // 2) for n, q in zip(self.shape, p))
            colour = sum(p) % 2
            first = self.offsets[colour] + (p[0] * plane + p[1] * row + p[2] - colour) // 2
            if min(counts) > 0:
                lattice.append((p, counts, first))
        return lattice

    def from_grid(self, grid, out, staging=None):
        """``out`` (a vector) holding the values of a grid-layout array, cast to its dtype
        (first into ``staging``, a grid-layout array of that dtype, if given: a cast is
        fastest contiguous)."""
        if staging is not None and grid.dtype != out.dtype:
            staging[...] = grid
            grid = staging
        for p, cells in self._sublattices(out):
            cells[...] = grid[p[0]::2, p[1]::2, p[2]::2]
        return out

    def as_vector(self, grid, work):
        """A grid-layout right-hand side in this layout (in ``work.rhs``)."""
        return self.from_grid(grid, work.rhs, work.grid)

    def as_grid(self, vector, out, staging=None):
        """The values of ``vector`` written into ``out`` (grid layout, any dtype; through
        ``staging`` in the vector's dtype, if given, where that differs)."""
        target = staging if staging is not None and out.dtype != vector.dtype else out
        for p, cells in self._sublattices(vector):
            target[p[0]::2, p[1]::2, p[2]::2] = cells
        if target is not out:
            out[...] = target
        return out

    def _parents(self, p, coarse_shape):
        """The coarse cells of sublattice ``p``: ``I`` where the axis is coarsened, else
        ``2 I + p``."""
        steps = mg_transfer.factors(self.shape, coarse_shape)
        return tuple(slice(None, -(-(n - q) // 2)) if f == 2 else slice(q, None, 2)
                     for n, q, f in zip(self.shape, p, steps))

    def prolong(self, coarse, x) -> None:
        """``x ← x + P e`` for a coarse correction ``e`` in grid layout, on the red cells: the
        post-smoothing starts with a black half-sweep, which sets the black cells from
        their red neighbours without reading them (the same result as adding there too)."""
        for p, cells in self._sublattices(x, colours=(0,)):
            cells += coarse[self._parents(p, coarse.shape)]

    # Smoothing and residuals --------------------------------------------------------------

    def presmooth(self, b, x, steps: int, work, out) -> None:
        """``steps`` red-black sweeps from ``x = 0`` (the first red half-sweep is ``D⁻¹ b``),
        then ``Pᵀ (b − A x)`` into ``out`` (coarse grid layout): the last half-sweep is
        black, so the black residual is zero and only the red one is computed."""
        self._wavefront([("zero", 0)] + [("sweep", 1), ("sweep", 0)] * (steps - 1)
                        + [("sweep", 1), ("residual", 0)], b, x, work.residual)
        out[...] = 0
        for p, cells in self._sublattices(work.residual, colours=(0,)):
            out[self._parents(p, out.shape)] += cells

    def postsmooth(self, b, x, steps: int) -> None:
        """``steps`` sweeps in the adjoint order (black, red)."""
        self._wavefront([("sweep", 1), ("sweep", 0)] * steps, b, x, None)

    def residual(self, b, x):
        """``b − A x`` on both colours (a new vector)."""
        r = self.vector(x.dtype)
        self._wavefront([("residual", 0), ("residual", 1)], b, x, r)
        return r

    def _wavefront(self, stages, b, x, residual) -> None:
        """Run ``stages`` (``zero``: red ``x = D⁻¹ b``; ``sweep``: a half-sweep; ``residual``:
        ``b − A x`` into ``residual``; each with its colour) chunk by chunk, each stage one
        chunk behind the one before: the same result as one stage after the other, since a
        stage reads the other colour at most ``halo`` ≤ one chunk away from its own chunk
        (updated by the stage before, not yet by the one after), and the chunks are still in
        cache when the next stage comes by."""
        chunk = max(CHUNK, self.halo)
        count = -(-max(self.sizes) // chunk)
        plans = [(kind, colour, self._terms(colour)) for kind, colour in stages]
        scratch = np.empty(min(chunk, max(self.sizes)), dtype=x.dtype)
        for step in range(count + len(plans) - 1):
            for index, (kind, colour, terms) in enumerate(plans):
                first = (step - index) * chunk
                stop = min(self.sizes[colour], first + chunk)
                if 0 <= first < stop:
                    self._chunk(kind, colour, terms, b, x, residual, first, stop, scratch)

    def _terms(self, colour: int):
        """(face vector, its offset, offset in the other part) of each neighbour of ``colour``
        entry ``m``: ``T[face + m] · x[other + m]``."""
        own, other = self.offsets[colour], self.offsets[1 - colour]
        plane, row = self.padded[1] * self.padded[2], self.padded[2]
        terms = []
        for t, stride, n in zip(self.faces, (plane, row, 1), self.padded):
            if n == 1:
                continue  # no faces along this axis
            up = (stride - 1) // 2 + colour  # the neighbour v + s
            down = -(stride - 1) // 2 - 1 + colour  # v − s, whose face is stored there
            terms += [(t, own, other + up), (t, other + down, other + down)]
        return terms

    def _chunk(self, kind: str, colour: int, terms, b, x, residual, m0: int, m1: int,
               scratch) -> None:
        """One stage of ``_wavefront`` on entries ``m0 … m1 − 1`` of ``colour``: ``b + Σ T
        x_other``, then ``D⁻¹ ·`` that into ``x`` (a half-sweep) or ``− D x`` into
        ``residual``."""
        start = self.offsets[colour]
        own, tmp = slice(start + m0, start + m1), scratch[:m1 - m0]
        if kind == "zero":
            np.multiply(self.inverse[own], b[own], out=x[own])
            return
        if kind == "residual":
            target = residual[own]
            np.multiply(self.diagonal[own], x[own], out=tmp)
            np.subtract(b[own], tmp, out=target)
        else:
            target = x[own]
            target[...] = b[own]
        for t, face, other in terms:
            np.multiply(t[face + m0:face + m1], x[other + m0:other + m1], out=tmp)
            target += tmp
        if kind == "sweep":
            target *= self.inverse[own]
