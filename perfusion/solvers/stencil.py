"""Masked, variable-coefficient 7-point finite-volume operators (docs/model.md §11.1).

For a cell-centred unknown ``x`` on a regular grid with spacing ``h_a`` (a = 0, 1, 2)
the operator, per unit cell volume, is

    (A x)_i = Σ_a Σ_{j = i ± e_a} T_a,ij (x_i − x_j) + d_i x_i

with face coefficients ``T_a = K_f / h_a²`` and ``K_f`` the harmonic mean of the two cells'
conductivities (zero when either cell is outside the mask: no flux to outside voxels).
``d`` holds the reaction term (``β``, ``L_pS/V + L_pLS_L/V`` …) plus, for a Dirichlet
value ``g`` on the tissue surface, ``2 K_i / h_a²`` per face shared with an outside voxel
(the surface lies half a cell away), whose ``2 K_i/h_a² · g`` goes to the right-hand side.
Outside the mask the operator is the identity (``d = 1``, no faces), so outside values
equal the right-hand side there (zero). The faces of the grid box are no-flux (symmetry
planes). ``A`` is symmetric, and positive definite when every connected component of
the mask has some ``d > 0``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ops import array_module, axis_slice, stencil7


@dataclass(frozen=True)
class Stencil:
    """Face coefficients ``T_a`` (shape reduced by one along axis a) and the diagonal term ``d``."""

    faces: tuple
    reaction: object

    def apply(self, x, out=None):
        """``A x`` (``perfusion.ops.stencil7``: kernel on CuPy, reference on NumPy), into
        ``out`` (C-contiguous) if given."""
        return stencil7.apply(*self.faces, self.reaction, x, out)

    def diagonal(self):
        """Diagonal of ``A`` (for Jacobi preconditioning)."""
        return stencil7.diagonal(*self.faces, self.reaction)

    def coupled_box(self) -> tuple[slice, slice, slice] | None:
        """Bounding box of the cells with a face ``T > 0`` (``None`` if there is none).

        Every cell outside it is a decoupled 1×1 block, ``d_i x_i = b_i``.
        """
        xp = array_module(self.reaction)
        coupled = xp.zeros(self.reaction.shape, dtype=bool)
        for axis, t in enumerate(self.faces):
            coupled[axis_slice(axis, None, -1)] |= t > 0
            coupled[axis_slice(axis, 1, None)] |= t > 0
        box = []
        for axis in range(3):
            others = tuple(a for a in range(3) if a != axis)
            found = xp.flatnonzero(coupled.any(axis=others))
            if found.size == 0:
                return None
            box.append(slice(int(found[0]), int(found[-1]) + 1))
        return tuple(box)

    def crop(self, box) -> "Stencil":
        """The operator on the cells of ``box`` (C-contiguous copies, as the kernels need)."""
        xp = array_module(self.reaction)
        faces = []
        for axis, t in enumerate(self.faces):
            index = list(box)
            index[axis] = slice(box[axis].start, box[axis].stop - 1)
            faces.append(xp.ascontiguousarray(t[tuple(index)]))
        return Stencil(tuple(faces), xp.ascontiguousarray(self.reaction[box]))

    def face_flux(self, x):
        """Flux per unit cell volume across each interior face, from cell i to i + e_a [1/s·x]."""
        return tuple(t * (x[axis_slice(axis, None, -1)] - x[axis_slice(axis, 1, None)])
                     for axis, t in enumerate(self.faces))


def harmonic_faces(conductivity, mask, spacing):
    """Face coefficients ``K_f/h_a²`` with ``K_f`` the harmonic mean (0 across the mask edge
    and where a conductivity is 0; conductivities must not be negative)."""
    xp = array_module(conductivity)
    k = xp.where(mask, conductivity, 0)
    faces = []
    for axis, h in enumerate(spacing):
        a, b = k[axis_slice(axis, None, -1)], k[axis_slice(axis, 1, None)]
        face = 2 * a  # 2ab / (a + b) in place (the same bits as the plain expression)
        face *= b
        total = a + b  # K ≥ 0: a + b = 0 only where 2ab = 0; the floor makes that 0/tiny
        xp.maximum(total, xp.finfo(total.dtype).tiny, out=total)
        face /= total
        face /= h**2
        faces.append(face)
    return tuple(faces)


def surface_faces(conductivity, mask, spacing):
    """Per-voxel sum of ``2 K/h_a²`` over faces shared with outside voxels (Dirichlet surface)."""
    xp = array_module(conductivity)
    outside = ~mask
    total = xp.zeros_like(conductivity)
    for axis, h in enumerate(spacing):
        lo, hi = axis_slice(axis, None, -1), axis_slice(axis, 1, None)
        total[lo] += xp.where(outside[hi], 2.0 / h**2, 0)
        total[hi] += xp.where(outside[lo], 2.0 / h**2, 0)
    return xp.where(mask, total * conductivity, 0)


def masked_stencil(conductivity, reaction, mask, spacing) -> Stencil:
    """The operator of the module docstring on ``mask`` (identity outside)."""
    xp = array_module(conductivity)
    return Stencil(harmonic_faces(conductivity, mask, spacing),
                   xp.where(mask, reaction, 1).astype(conductivity.dtype))
