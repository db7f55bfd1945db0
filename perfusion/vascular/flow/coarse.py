"""The coarse space of the tree–tissue preconditioner (``perfusion.vascular.flow.coupling``).

Strong coupling (a wide terminal segment into a small kernel) ties each kernel's mean
``w_t·φ`` to the tree, and the tree ties all kernels together: modes that a local smoother
cannot see. The preconditioner therefore adds to one multigrid cycle on ``V A`` an exact
solve on the coarse space ``Z`` spanned by the kernel vectors ``w_t`` (one per terminal)
and the free tree nodes (two-level additive Schwarz):

    B r = [MG(r₃)/V, 0] + Z K_c⁻¹ Zᵀ r,        K_c = Zᵀ K Z,

    K_c = | V W A Wᵀ + M G M      −M G E |      M = W Wᵀ (kernel overlaps),
          | −Eᵀ G M               L + EᵀGE |     G, E, L as in the coupling.

``W A Wᵀ`` needs ``A`` only between kernel voxels; it is assembled from the stencil's
faces there. ``K_c`` has (terminals + tree nodes) rows and is factorised once (sparse LU).
"""
from __future__ import annotations

import numpy as np


def coarse_factor(system, tree_block):
    """Sparse LU of ``K_c`` (free tree nodes only) for ``system`` (a ``CoupledSystem``) with
    its tree block ``L + EᵀGE`` (``system.tree_matrix()``)."""
    from scipy import sparse
    from scipy.sparse.linalg import splu

    w = system.kernel_matrix()
    g = sparse.diags(system.g_terminal)
    incidence = sparse.csr_matrix((np.ones(system.count), (np.arange(system.count), system.parent)),
                                  shape=(system.count, len(system.fixed)))[:, system.free]
    overlap = (w @ w.T).tocsr()
    kernel_block = system.volume * _kernel_operator(system, w) + overlap @ g @ overlap
    cross = -(overlap @ g @ incidence)
    matrix = sparse.bmat([[kernel_block, cross], [cross.T, tree_block]], format="csc")
    return splu(matrix)


def _kernel_operator(system, w):
    """``W A Wᵀ`` with ``A`` (per unit volume) restricted to the kernel voxels."""
    from scipy import sparse

    stencil, backend = system.inner, system.backend
    shape = stencil.reaction.shape
    voxels = np.unique(w.indices)
    local = sparse.csr_matrix(w)[:, voxels]
    cells = np.stack(np.unravel_index(voxels, shape), axis=1)
    rows = [np.arange(voxels.size)]
    cols = [np.arange(voxels.size)]
    values = [backend.to_host(stencil.diagonal()).ravel()[voxels].astype(np.float64)]
    strides = np.array([shape[1] * shape[2], shape[2], 1])
    for axis, faces in enumerate(stencil.faces):
        faces = backend.to_host(faces)
        low = cells[:, axis] < shape[axis] - 1
        neighbour = voxels[low] + strides[axis]
        at = np.searchsorted(voxels, neighbour)
        found = at < voxels.size
        found[found] = voxels[at[found]] == neighbour[found]
        t = faces[tuple(cells[low][found].T)].astype(np.float64)
        a, b = np.flatnonzero(low)[found], at[found]
        rows += [a, b]
        cols += [b, a]
        values += [-t, -t]
    operator = sparse.csr_matrix((np.concatenate(values), (np.concatenate(rows),
                                                           np.concatenate(cols))),
                                 shape=(voxels.size, voxels.size))
    return (local @ operator @ local.T).tocsr()
