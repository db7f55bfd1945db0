"""Catheter territory: the share of each voxel's blood that entered through the catheter.

Steady first-order upwind transport of a tracer ``w`` carried by a supply's flow
(DESIGN §2.4). With face fluxes ``f_ij = T_ij (φ_i − φ_j)`` per unit cell volume (the
supply stencil's faces, so the discrete fluid balance ``q_i + Σ_in f = Σ_out f + F_i`` holds)
and inlet sources ``q_i`` of which ``q_i^cath`` come through catheterised inlets:

    (q_i + Σ_{j→i} f_ji) w_i − Σ_{j→i} f_ji w_j = q_i^cath

The matrix is an M-matrix with non-negative row sums ``q_i``, so ``0 ≤ w ≤ 1``; flow runs
from high to low ``φ``, so ordering voxels by decreasing ``φ`` makes it lower triangular
and one triangular solve is exact. Tracer conservation gives
``Σ F_i w_i / Σ F_i = Q_cath / Q_s`` (the flow-weighted mean).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .inlets import source_density


@dataclass(frozen=True)
class Territory:
    """The catheter's territory in its supply, and its checks."""

    supply: str
    fraction: object            # w (catheter share of this supply's blood)
    catheter_flow: float
    flow_weighted_mean: float
    expected_mean: float
    bounds: tuple[float, float]


def _triplets(supply, backend):
    """Host (rows, cols, values) of the inflow couplings and the diagonal."""
    stencil = supply.stencil
    shape = supply.source.shape
    phi = backend.to_host(supply.pressure).astype(np.float64)
    index = np.arange(int(np.prod(shape))).reshape(shape)
    diag = backend.to_host(supply.source).astype(np.float64).ravel().copy()
    rows, cols, vals = [], [], []
    for axis, t in enumerate(stencil.faces):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        flux = (backend.to_host(t).astype(np.float64) * (phi[lo] - phi[hi])).ravel()
        a, b = index[lo].ravel(), index[hi].ravel()
        forward, backward = flux > 0, flux < 0
        # forward: a → b, inflow into b; backward: b → a, inflow into a
        rows += [b[forward], a[backward]]
        cols += [a[forward], b[backward]]
        vals += [flux[forward], -flux[backward]]
        np.add.at(diag, b[forward], flux[forward])
        np.add.at(diag, a[backward], -flux[backward])
    return phi.ravel(), diag, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def solve_territory(supply, catheter_inlets: dict[str, float], backend,
                    voxel_volume: float) -> Territory:
    """The catheter's share ``w`` of the blood of ``supply`` (a ``SupplyField``);
    ``catheter_inlets`` maps each catheterised inlet to the weight ``a`` of its source
    (1 where the drug is mixed by flow; ``perfusion.vascular.catheter``)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve_triangular

    shape = supply.source.shape
    phi, diag, rows, cols, vals = _triplets(supply, backend)
    catheterised = [inlet for inlet in supply.inlets if inlet.name in catheter_inlets]
    weighted = [replace(inlet, flow=inlet.flow * catheter_inlets[inlet.name])
                for inlet in catheterised]
    catheter_source = source_density(weighted, shape, voxel_volume).ravel()
    catheter_flow = sum(inlet.flow for inlet in catheterised)
    active = diag > 0
    order = np.argsort(-phi, kind="stable")
    order = order[active[order]]
    rank = np.full(diag.shape, -1)
    rank[order] = np.arange(order.size)
    keep = active[rows] & active[cols]
    matrix = sparse.csr_matrix(
        (np.concatenate([diag[order], -vals[keep]]),
         (np.concatenate([np.arange(order.size), rank[rows[keep]]]),
          np.concatenate([np.arange(order.size), rank[cols[keep]]]))),
        shape=(order.size, order.size))
    w = np.zeros(diag.shape)
    w[order] = spsolve_triangular(matrix, catheter_source[order], lower=True)
    w = w.reshape(shape)
    perfusion = backend.to_host(supply.perfusion).astype(np.float64)
    mean = float((perfusion * w).sum() / perfusion.sum())
    inside = active.reshape(shape)
    return Territory(supply=supply.name, fraction=backend.asarray(w), catheter_flow=catheter_flow,
                     flow_weighted_mean=mean, expected_mean=catheter_flow / supply.inflow,
                     bounds=(float(w[inside].min()), float(w[inside].max())))
