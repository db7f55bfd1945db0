"""The 1D–3D coupling: an arterial tree feeding a supply compartment (issue 6, docs/model.md §3.3).

Unknowns: the compartment pressure ``φ = p_s − p_ven`` on the grid and the tree's node
pressures ``p`` (relative to ``p_ven``). The roots share one node ``R`` (one inflow
reservoir). A terminal ``t`` with terminal segment conductance ``G_t`` hangs from node
``P(t)`` and delivers

    Q_t = G_t (p_P(t) − Σ_v w_tv φ_v)          (its pressure is the kernel mean of φ)

into the kernel voxels (``perfusion.vascular.flow.terminals``). In flow units (the 3D rows
multiplied by the voxel volume ``V``) the equations are, with ``W`` the kernel matrix,
``E`` the terminal-to-parent incidence and ``L`` the Poiseuille Laplacian of the inner
segments:

    V A φ + Wᵀ G (W φ − E p) = 0                          (3D: −∇·K∇φ + βφ = q)
    L p   + Eᵀ G (E p − W φ) = Q_in e_R                   (Kirchhoff at every inner node)

— a symmetric positive definite system (its energy is ``φᵀVAφ + Σ g Δp² + Σ_t G_t
(p_P − w_t·φ)²``). With a root *pressure* instead of a flow, ``p_R`` is fixed and moves to
the right-hand side. It is solved by conjugate gradients with a balancing preconditioner:
one multigrid cycle on ``V A`` and an exact tree solve, balanced by an exact solve on the
coarse space of the kernels and the tree nodes (``perfusion.vascular.flow.coarse``).
Conservation holds to the solver tolerance: the root inflow is ``Σ_t Q_t`` (Kirchhoff) and
``∫ β φ dV = Σ_t Q_t`` (the 3D rows).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ...errors import ConvergenceError
from ...solvers.cg import FLOAT32_TOLERANCE, SolveReport
from ...solvers.multigrid import build_multigrid, cycle_name
from ...solvers.stencil import Stencil
from .coarse import coarse_factor
from .network import tree_laplacian
from .terminals import TerminalKernels
from ..tree import VascularTree


@dataclass(frozen=True)
class CoupledFlow:
    """The coupled solution: grid ``phi`` [Pa] (backend), tree pressures [Pa] (relative to
    ``p_ven``) per node, flows [m³/s] per segment (positive downstream)."""

    phi: object
    node_pressure: np.ndarray
    segment_flow: np.ndarray
    terminal_flow: np.ndarray
    inflow: float
    report: SolveReport
    unknowns: np.ndarray   # the free tree unknowns (to restart from)


class CoupledSystem:
    """The operator, right-hand side and preconditioner of one tree + supply solve."""

    def __init__(self, stencil: Stencil, tree: VascularTree, conductance, kernels: TerminalKernels,
                 backend, voxel_volume: float, *, root_flow=None, root_pressure=None):
        if (root_flow is None) == (root_pressure is None):
            raise ValueError("give exactly one of root_flow and root_pressure")
        xp = backend.xp
        self.backend, self.tree, self.volume = backend, tree, voxel_volume
        self.shape = stencil.reaction.shape
        self.box = _kernel_box(stencil, kernels, self.shape)
        self.inner = stencil.crop(self.box)
        start = np.array([s.start for s in self.box])
        cells = np.stack(np.unravel_index(kernels.index, self.shape), axis=1) - start
        box_shape = self.inner.reaction.shape
        box_index = np.ravel_multi_index(tuple(cells.T), box_shape)
        self.host_kernels = TerminalKernels(kernels.terminal, box_index, kernels.weight,
                                            kernels.count)
        self.k_terminal = xp.asarray(kernels.terminal)
        self.k_index = xp.asarray(box_index)
        self.k_weight = backend.asarray(kernels.weight)
        self.count = kernels.count
        g = self.conductance = np.asarray(conductance, dtype=np.float64)
        super_node = self.super_node = np.arange(len(tree.points))
        super_node[tree.roots] = tree.roots[0]
        terminal_segments = tree.terminal_segments
        self.root = tree.roots[0]
        self.parent = super_node[tree.segments[terminal_segments, 0]]   # E
        self.g_terminal = g[terminal_segments]                          # G
        inner = np.setdiff1d(np.arange(len(tree.segments)), terminal_segments)
        self.laplacian = tree_laplacian(super_node[tree.segments[inner]], g[inner],
                                        len(tree.points))
        nodes = np.zeros(len(tree.points), dtype=bool)
        nodes[super_node[tree.segments[inner].ravel()]] = True
        nodes[self.parent] = True
        if root_pressure is not None:
            nodes[self.root] = False
        self.free = np.flatnonzero(nodes)
        self.fixed = np.zeros(len(tree.points))
        if root_pressure is not None:
            self.fixed[self.root] = root_pressure
        rhs3, rhst = self._apply_full(xp.zeros(box_shape, dtype=backend.dtype), self.fixed)
        rhst = -rhst
        if root_flow is not None:
            rhst[self.root] += root_flow
        self.rhs = (-rhs3, rhst[self.free])
        self.root_flow = root_flow

    def inflow(self, x) -> float:
        """``Σ_t Q_t`` of the iterate ``x``: the flow scale residuals are measured against."""
        pressure = self.full_pressure(x[1])
        return float((self.g_terminal * (pressure[self.parent] - self.kernel_mean(x[0]))).sum())

    def kernel_mean(self, x3) -> np.ndarray:
        """``W φ``: each terminal's kernel mean of ``x3`` (host)."""
        xp = self.backend.xp
        values = xp.bincount(self.k_terminal, weights=x3.ravel()[self.k_index] * self.k_weight,
                             minlength=self.count)
        return self.backend.to_host(values).astype(np.float64)

    def spread(self, values, like):
        """``Wᵀ y``: per-terminal ``values`` (host) spread over their kernels, shaped ``like``."""
        xp = self.backend.xp
        spread = xp.bincount(self.k_index, minlength=like.size,
                             weights=self.k_weight * xp.asarray(values)[self.k_terminal])
        return spread.reshape(like.shape).astype(like.dtype)

    def _apply_full(self, x3, pressure):
        y = self.g_terminal * (self.kernel_mean(x3) - pressure[self.parent])    # −Q_t
        out3 = self.volume * self.inner.apply(x3) + self.spread(y, x3)
        outt = self.laplacian @ pressure - np.bincount(self.parent, weights=y,
                                                      minlength=len(pressure))
        return out3, outt

    def apply(self, x):
        """``K x`` on the unknowns (grid box, free tree nodes)."""
        pressure = np.zeros(len(self.fixed))
        pressure[self.free] = x[1]
        out3, outt = self._apply_full(x[0], pressure)
        return out3, outt[self.free]

    def full_pressure(self, free_values) -> np.ndarray:
        pressure = self.fixed.copy()
        pressure[self.free] = free_values
        return pressure

    def tree_matrix(self):
        """``L + EᵀGE`` on the free tree nodes (CSC): the tree block of the operator."""
        from scipy.sparse import diags

        diagonal = np.bincount(self.parent, weights=self.g_terminal, minlength=len(self.fixed))
        return (self.laplacian + diags(diagonal)).tocsc()[self.free][:, self.free].tocsc()

    def kernel_matrix(self):
        """``W`` as a host sparse matrix (terminals × box voxels)."""
        from scipy import sparse

        return sparse.csr_matrix((self.host_kernels.weight,
                                  (self.host_kernels.terminal, self.host_kernels.index)),
                                 shape=(self.count, self.inner.reaction.size))

    def preconditioner(self, cycle: str, smoothing_steps: int):
        """The balancing preconditioner ``B = P M Pᵀ + C`` with the coarse solve
        ``C = Z K_c⁻¹ Zᵀ``, ``P = I − C K`` and ``M`` one multigrid cycle on ``V A`` for the
        grid and ``(L + EᵀGE)⁻¹`` for the tree (``perfusion.vascular.flow.coarse``)."""
        from scipy.sparse.linalg import splu

        grid = build_multigrid(self.inner, self.backend, cycle=cycle,
                               smoothing_steps=smoothing_steps)
        tree_block = self.tree_matrix()
        coarse = coarse_factor(self, tree_block)
        tree = splu(tree_block)

        def correction(r):
            y = coarse.solve(np.concatenate([self.kernel_mean(r[0]), r[1]]))
            return self.spread(y[:self.count], r[0]), y[self.count:]

        def apply(r):
            y = correction(r)
            ky = self.apply(y)
            z = (grid.apply(r[0] - ky[0]) / self.volume, tree.solve(r[1] - ky[1]))
            kz = self.apply(z)
            c = correction(kz)
            return z[0] - c[0] + y[0], z[1] - c[1] + y[1]

        return apply


def _kernel_box(stencil, kernels, shape):
    """The stencil's coupled box, grown to hold every kernel voxel."""
    box = stencil.coupled_box()
    cells = np.stack(np.unravel_index(kernels.index, shape), axis=1)
    low, high = cells.min(axis=0), cells.max(axis=0) + 1
    if box is not None:
        low = np.minimum(low, [s.start for s in box])
        high = np.maximum(high, [s.stop for s in box])
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high))


def solve_coupled(system: CoupledSystem, *, name: str, tolerance: float, max_iterations: int,
                  x0=None, cycle: str = "V", smoothing_steps: int = 2) -> CoupledFlow:
    """Conjugate gradients on ``system`` to ``‖b − Kx‖ ≤ tolerance Q_in`` (every entry of the
    residual is a flow; ``Q_in`` the inflow); ``x0`` an earlier :class:`CoupledFlow`."""
    be, xp = system.backend, system.backend.xp
    if np.dtype(be.dtype) == np.float32 and tolerance < FLOAT32_TOLERANCE:
        tolerance = FLOAT32_TOLERANCE      # as conjugate_gradient: float32 cannot reach less
    started = time.perf_counter()
    precondition = system.preconditioner(cycle, smoothing_steps)
    method = f"mg-cg {cycle_name(cycle, smoothing_steps)} + kernel/tree coarse LU"

    def dot(a, b):
        return be.dot(a[0], b[0]) + float(a[1] @ b[1])

    b = system.rhs
    if x0 is None:
        x = (xp.zeros_like(b[0]), np.zeros_like(b[1]))
        r = (b[0].copy(), b[1].copy())
    else:
        x = (xp.ascontiguousarray(x0.phi[system.box]).astype(b[0].dtype),
             x0.unknowns.copy())
        kx = system.apply(x)
        r = (b[0] - kx[0], b[1] - kx[1])

    def scale():  # every residual entry is a flow [m³/s]: measure it against the inflow
        return system.root_flow if system.root_flow is not None else abs(system.inflow(x)) or 1.0

    z = precondition(r)
    p = (z[0].copy(), z[1].copy())
    rz = dot(r, z)
    history = [math.sqrt(dot(r, r)) / (math.sqrt(dot(b, b)) if x0 is None else scale())]
    while history[-1] > tolerance:
        if len(history) > max_iterations or not math.isfinite(history[-1]):
            raise ConvergenceError(
                f"{name}: the tree–tissue coupled solve ({method}) reached a relative residual "
                f"of {history[-1]:.2e} after {len(history) - 1} iterations, not {tolerance:.0e}; "
                "raise solver.max_iterations or loosen solver.tolerance, or check the tree for "
                "segments many orders of magnitude narrower than the others")
        kp = system.apply(p)
        alpha = rz / dot(p, kp)
        x = (x[0] + alpha * p[0], x[1] + alpha * p[1])
        r = (r[0] - alpha * kp[0], r[1] - alpha * kp[1])
        z = precondition(r)
        rz_next = dot(r, z)
        p = (z[0] + (rz_next / rz) * p[0], z[1] + (rz_next / rz) * p[1])
        rz = rz_next
        history.append(math.sqrt(dot(r, r)) / scale())
    report = SolveReport(name, method, tolerance, len(history) - 1, history[-1],
                         time.perf_counter() - started, history)
    return _solution(system, x, report)


def _solution(system: CoupledSystem, x, report) -> CoupledFlow:
    xp, tree = system.backend.xp, system.tree
    phi = xp.zeros(system.shape, dtype=x[0].dtype)
    phi[system.box] = x[0]
    pressure = system.full_pressure(x[1])
    mean = system.kernel_mean(x[0])
    terminal_flow = system.g_terminal * (pressure[system.parent] - mean)
    node_pressure = pressure[system.super_node]
    node_pressure[tree.terminals] = mean
    flow = system.conductance * (node_pressure[tree.segments[:, 0]]
                                 - node_pressure[tree.segments[:, 1]])
    inflow = float(flow[tree.root_segments].sum())
    return CoupledFlow(phi=phi, node_pressure=node_pressure, segment_flow=flow,
                       terminal_flow=terminal_flow, inflow=inflow, report=report,
                       unknowns=np.asarray(x[1]).copy())
