"""Catheter territory: the share of each voxel's blood that entered through the catheter.

Steady first-order upwind transport of a tracer ``w`` carried by a supply's flow
(docs/model.md §4). Face fluxes are ``f_ij = T_ij (φ_i − φ_j)`` per unit cell volume (the supply
stencil's faces). Each inlet ``k`` (a point inlet, or a tree terminal) with flow ``Q_k``
spreads over its voxels with weights ``ω_kv``. An inlet with ``Q_k > 0`` is a *source*; one
with ``Q_k < 0`` is a *sink*: a tree terminal whose kernel mean of ``φ`` is above its parent
node's pressure drains blood back into the tree (this happens in the coupled 1D–3D solve,
e.g. near where trees with several roots meet). Per voxel

    s_i = Σ_{Q_k > 0} Q_k ω_ki / V        (inflow density),
    r_i = Σ_{Q_k < 0} |Q_k| ω_ki / V      (sink density),      q_i = s_i − r_i,

split per inlet, not per voxel net, so a sink's kernel overlapping a source's does not cancel
it. Fluid balance: ``s_i + Σ_{j→i} f_ji = Σ_{i→j} f_ij + F_i + r_i``. A sink removes blood at
the voxel's own concentration ``w_i`` (it enters the diagonal, like the capillary outflow
``F_i``); a source brings blood of concentration ``a_k`` (``a_k`` the catheter weight of a
catheterised inlet, 0 for the others):

    (s_i + Σ_{j→i} f_ji) w_i − Σ_{j→i} f_ji w_j = c_i,      c_i = Σ_{Q_k > 0} a_k Q_k ω_ki / V

Flow runs from high to low ``φ``, so ordering voxels by decreasing ``φ`` makes the matrix
lower triangular and one triangular solve is exact. Voxels without inflow (``s_i +
Σ_{j→i} f_ji = 0``) carry no blood of this supply and get ``w = 0``.

Bounds. The matrix is an M-matrix with row sums ``s_i ≥ 0`` and ``0 ≤ c_i ≤ a_max s_i``, so
``0 ≤ w ≤ max(1, a_max)`` exactly (to round-off), ``a_max`` the largest catheter weight. For
point inlets ``a = 1``; on a tree with well-mixed drug (σ = 1, ``perfusion.vascular.catheter``)
``a_t ≤ 1`` up to the coupled solve's Kirchhoff residual (``a_t − 1`` ~ 1e-11), and ``a_t < 1``
below a node where a sink's blood re-enters the tree (that blood counts as non-catheter
blood). With streaming (σ > 1) some ``a_t`` exceed 1 and ``w`` is the drug concentration
relative to the well-mixed one, which may exceed 1 there.

Conservation. Summing the rows, the inner fluxes cancel: every bit of tracer that enters
through a catheterised source leaves through the capillaries or a sink,

    Σ_i (F_i + r_i) w_i V = Q_cath = Σ_{cath, Q_k > 0} a_k Q_k,      Σ_i (F_i + r_i) V = Q_in = Σ_{Q_k > 0} Q_k,

to the supply solve's tolerance (the diagonal uses the inflow side of the fluid balance).
So the *outflow-weighted* mean ``Σ (F + r) w / Σ (F + r)`` equals the catheter's share of
the inflow ``Q_cath / Q_in`` (``flow_weighted_mean`` vs ``expected_mean``). Without sinks
(point inlets, and trees whose terminal flows are all positive) ``r = 0``: it is the
perfusion-weighted mean ``Σ F w / Σ F``, ``Q_in`` is the supply's inflow and ``Q_cath`` the
catheterised inlets' flow. With sinks the perfusion-weighted mean (``perfusion_weighted_mean``)
differs from ``Q_cath / Q_in`` by the tracer that drains back into the tree.
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
    catheter_flow: float        # Q_cath: weighted inflow through catheterised sources [m³/s]
    flow_weighted_mean: float   # Σ (F + r) w / Σ (F + r): outflow-weighted (module docstring)
    expected_mean: float        # Q_cath / Q_in
    bounds: tuple[float, float]
    perfusion_weighted_mean: float = float("nan")   # Σ F w / Σ F
    sink_flow: float = 0.0      # Σ |Q_k| over sinks (terminals draining into the tree) [m³/s]


def _triplets(supply, inflow_source, backend):
    """Host (φ, diagonal, rows, cols, values) of the inflow couplings; the diagonal is the
    inflow of each voxel: its source density ``inflow_source`` plus the face inflows."""
    stencil = supply.stencil
    shape = supply.source.shape
    phi = backend.to_host(supply.pressure).astype(np.float64)
    index = np.arange(int(np.prod(shape))).reshape(shape)
    diag = np.asarray(inflow_source, dtype=np.float64).ravel().copy()
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


class TerritorySolver:
    """The territory system of one solved supply, ordered and assembled once, for any set of
    catheterised inlets (``solve``): ``perfusion plan`` solves it for many candidates."""

    def __init__(self, supply, backend, voxel_volume: float):
        from scipy import sparse

        shape = supply.source.shape
        self.supply, self.backend, self.voxel_volume = supply, backend, voxel_volume
        self.sources = [inlet for inlet in supply.inlets if inlet.flow > 0]
        sinks = [replace(inlet, flow=-inlet.flow) for inlet in supply.inlets if inlet.flow < 0]
        if sinks:
            inflow_source = source_density(self.sources, shape, voxel_volume)
        else:   # q itself (as the supply was solved with it)
            inflow_source = backend.to_host(supply.source).astype(np.float64)
        sink = source_density(sinks, shape, voxel_volume).ravel()
        phi, diag, rows, cols, vals = _triplets(supply, inflow_source, backend)
        self.inflow = sum(inlet.flow for inlet in self.sources)
        self.sink_flow = -sum(inlet.flow for inlet in supply.inlets if inlet.flow < 0)
        self.active = diag > 0
        order = np.argsort(-phi, kind="stable")
        self.order = order[self.active[order]]
        rank = np.full(diag.shape, -1)
        rank[self.order] = np.arange(self.order.size)
        keep = self.active[rows] & self.active[cols]
        size = self.order.size
        self.matrix = sparse.csr_matrix(
            (np.concatenate([diag[self.order], -vals[keep]]),
             (np.concatenate([np.arange(size), rank[rows[keep]]]),
              np.concatenate([np.arange(size), rank[cols[keep]]]))),
            shape=(size, size))
        self.perfusion = backend.to_host(supply.perfusion).astype(np.float64)
        self.outflow = self.perfusion + sink.reshape(shape) if sinks else None

    def fraction(self, catheter_inlets: dict[str, float]) -> tuple[np.ndarray, float]:
        """(host ``w``, ``Q_cath``) for the catheterised inlets and their weights ``a``."""
        from scipy.sparse.linalg import spsolve_triangular

        shape = self.supply.source.shape
        weighted = [replace(inlet, flow=inlet.flow * catheter_inlets[inlet.name])
                    for inlet in self.sources if inlet.name in catheter_inlets]
        catheter_source = source_density(weighted, shape, self.voxel_volume).ravel()
        w = np.zeros(catheter_source.shape)
        w[self.order] = spsolve_triangular(self.matrix, catheter_source[self.order], lower=True)
        return w.reshape(shape), sum(inlet.flow for inlet in weighted)

    def solve(self, catheter_inlets: dict[str, float]) -> Territory:
        """The :class:`Territory` of the catheterised inlets, with its checks."""
        w, catheter_flow = self.fraction(catheter_inlets)
        perfusion = self.perfusion
        perfusion_mean = float((perfusion * w).sum() / perfusion.sum())
        if self.outflow is not None:
            mean = float((self.outflow * w).sum() / self.outflow.sum())
        else:
            mean = perfusion_mean
        inside = self.active.reshape(w.shape)
        return Territory(supply=self.supply.name, fraction=self.backend.asarray(w),
                         catheter_flow=catheter_flow, flow_weighted_mean=mean,
                         expected_mean=catheter_flow / self.inflow,
                         bounds=(float(w[inside].min()), float(w[inside].max())),
                         perfusion_weighted_mean=perfusion_mean, sink_flow=self.sink_flow)


def solve_territory(supply, catheter_inlets: dict[str, float], backend,
                    voxel_volume: float) -> Territory:
    """The catheter's share ``w`` of the blood of ``supply`` (a ``SupplyField``);
    ``catheter_inlets`` maps each catheterised inlet to the weight ``a`` of its source
    (1 where the drug is mixed by flow; ``perfusion.vascular.catheter``)."""
    return TerritorySolver(supply, backend, voxel_volume).solve(catheter_inlets)
