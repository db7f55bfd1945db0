"""1D Poiseuille flow in a vascular tree (issue 6).

Each segment ``s`` of radius ``r_s`` and length ``L_s`` carries the flow
``Q_s = g_s (p_u − p_d)`` with the Poiseuille conductance

    g_s = π r_s⁴ / (8 μ_s L_s)          [m³/(Pa·s)],   R_s = 1/g_s

and viscosity ``μ_s`` either constant or the in-vivo law of Pries et al. (1994, Circ. Res.
75:904), with ``D = 2 r_s`` in µm and discharge haematocrit ``H``:

    μ*₀.₄₅ = 6 e^(−0.085 D) + 3.2 − 2.44 e^(−0.06 D^0.645)
    C      = (0.8 + e^(−0.075 D)) (−1 + 1/(1 + 10⁻¹¹ D¹²)) + 1/(1 + 10⁻¹¹ D¹²)
    μ_rel  = [1 + (μ*₀.₄₅ − 1) ((1 − H)^C − 1)/((1 − 0.45)^C − 1) (D/(D − 1.1))²] (D/(D − 1.1))²
    μ_s    = μ_plasma μ_rel,           μ_plasma = 1.2 mPa·s

Kirchhoff's law at every inner node, ``Σ_in Q = Σ_out Q``, with the roots at a given
pressure (or sharing one pressure and a given total flow) and the terminals at given
pressures, is a symmetric positive definite system in the node pressures (solved directly:
trees have at most some 10⁴ nodes). :func:`solve_tree_flow` is this stand-alone network;
the coupling to the 3D supply compartment is ``perfusion.vascular.flow.coupling``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tree import VascularTree

#: Plasma viscosity [Pa·s] (Pries et al. 1994 use μ_rel relative to plasma, ~1.2 mPa·s at 37 °C).
PLASMA_VISCOSITY = 1.2e-3
#: Whole-blood viscosity of large vessels [Pa·s] (Pries' law tends to 3.2 μ_plasma at H = 0.45).
BLOOD_VISCOSITY = 3.5e-3


def pries_viscosity(radius, hematocrit: float) -> np.ndarray:
    """In-vivo apparent viscosity [Pa·s] of blood in vessels of ``radius`` [m] (Pries 1994)."""
    d = 2e6 * np.asarray(radius, dtype=np.float64)          # diameter in µm
    if np.any(d <= 1.1):
        raise ValueError("the Pries law needs diameters above 1.1 µm")
    mu45 = 6 * np.exp(-0.085 * d) + 3.2 - 2.44 * np.exp(-0.06 * d ** 0.645)
    sigmoid = 1 / (1 + 1e-11 * d ** 12)
    c = (0.8 + np.exp(-0.075 * d)) * (-1 + sigmoid) + sigmoid
    wall = (d / (d - 1.1)) ** 2
    relative = (1 + (mu45 - 1) * ((1 - hematocrit) ** c - 1) / ((1 - 0.45) ** c - 1) * wall) * wall
    return PLASMA_VISCOSITY * relative


def segment_viscosity(tree: VascularTree, viscosity, hematocrit: float) -> np.ndarray:
    """Per-segment viscosity: ``viscosity`` [Pa·s] or ``"pries"``."""
    if isinstance(viscosity, str):
        if viscosity != "pries":
            raise ValueError(f"viscosity {viscosity!r}: give a value in Pa·s or 'pries'")
        return pries_viscosity(tree.radii, hematocrit)
    return np.full(len(tree.segments), float(viscosity))


def conductances(tree: VascularTree, viscosity=BLOOD_VISCOSITY, hematocrit: float = 0.45):
    """Poiseuille conductances ``g_s = π r⁴ / (8 μ L)`` [m³/(Pa·s)] of every segment."""
    mu = segment_viscosity(tree, viscosity, hematocrit)
    return np.pi * tree.radii ** 4 / (8 * mu * tree.lengths)


@dataclass(frozen=True)
class TreeFlow:
    """Node pressures [Pa] and segment flows [m³/s] (positive downstream)."""

    pressure: np.ndarray
    flow: np.ndarray

    def inflow(self, tree: VascularTree) -> float:
        """Total flow entering at the roots."""
        return float(self.flow[tree.root_segments].sum())


def tree_laplacian(edges, conductance, n: int):
    """The weighted graph Laplacian (CSR, ``n`` × ``n``) of ``edges`` (m, 2) with
    conductances ``g``: row ``i`` gives ``Σ_j g_ij (p_i − p_j)``, the flow out of node ``i``."""
    from scipy import sparse

    u, d = edges[:, 0], edges[:, 1]
    g = np.asarray(conductance, dtype=np.float64)
    return sparse.coo_matrix((np.concatenate([g, g, -g, -g]),
                              (np.concatenate([u, d, u, d]), np.concatenate([u, d, d, u]))),
                             shape=(n, n)).tocsr()


def solve_tree_flow(tree: VascularTree, conductance, terminal_pressure, *,
                    root_pressure: float | None = None, root_flow: float | None = None) -> TreeFlow:
    """Kirchhoff flow with the terminals at ``terminal_pressure`` (scalar or per terminal)
    and either every root at ``root_pressure`` or the roots at one common pressure with
    total inflow ``root_flow``."""
    from scipy.sparse.linalg import spsolve

    if (root_pressure is None) == (root_flow is None):
        raise ValueError("give exactly one of root_pressure and root_flow")
    n = len(tree.points)
    fixed = np.zeros(n, dtype=bool)
    value = np.zeros(n)
    fixed[tree.terminals] = True
    value[tree.terminals] = terminal_pressure
    roots = tree.roots
    node = np.arange(n)
    if root_pressure is not None:
        fixed[roots] = True
        value[roots] = root_pressure
    else:
        node[roots] = roots[0]                     # one shared pressure for all roots
    edges = node[tree.segments]
    g = np.asarray(conductance, dtype=np.float64)
    laplacian = tree_laplacian(edges, g, n)
    rhs = np.zeros(n)
    if root_flow is not None:
        rhs[roots[0]] = root_flow
    free = np.flatnonzero(~fixed & (np.bincount(edges.ravel(), minlength=n) > 0))
    rhs -= laplacian @ value
    pressure = value.copy()
    if free.size:
        pressure[free] = np.atleast_1d(spsolve(laplacian[free][:, free].tocsc(), rhs[free]))
    pressure[roots] = pressure[node[roots]]
    flow = g * (pressure[tree.segments[:, 0]] - pressure[tree.segments[:, 1]])
    return TreeFlow(pressure=pressure, flow=flow)
