"""The transport benchmark's problem and the two codes it times (imported by
``bench_transport.py``, whose docstring states every number): the Gaussian puff and its exact
solution, the checks that the box is large enough and the grid fine enough, and a setup and
a run per code (ours: exact decay then explicit transport; FiPy: backward Euler).
"""
from __future__ import annotations

import math

import numpy as np

from perfusion.transport.exchange import ExchangeCoefficients, pointwise_step
from perfusion.transport.operator import TransportOperator
from perfusion.transport.uptake import UptakeModel

N, SPACING = 64, 5e-4                       # cells per axis, m
VE, DIFFUSIVITY = 0.3, 1.6e-10              # -, m²/s
PORE_SPEED, DIRECTION = 2e-8, (1.0, 0.6, -0.8)  # m/s, direction of v (normalised)
DECAY = 1.0 / 7200.0                        # 1/s
SIGMA = 3e-3                                # m
DURATION, OUR_STEP = 3600.0, 60.0           # s
PECLET_LIMIT, WALL_SIGMAS = 2.0, 5.0


def build_problem() -> dict:
    """Velocity, cell centres, initial field and exact solution (see bench_transport.py)."""
    direction = np.array(DIRECTION) / np.linalg.norm(DIRECTION)
    velocity = PORE_SPEED * direction
    centres = (np.arange(N) + 0.5) * SPACING
    coordinates = np.meshgrid(centres, centres, centres, indexing="ij")
    origin = np.full(3, N * SPACING / 2)

    def exact(t: float) -> np.ndarray:
        variance = SIGMA**2 + 2 * DIFFUSIVITY * t
        r2 = sum((coordinates[a] - origin[a] - velocity[a] * t) ** 2 for a in range(3))
        return ((SIGMA**2 / variance) ** 1.5 * np.exp(-r2 / (2 * variance))
                * math.exp(-DECAY * t))

    return {"velocity": velocity, "origin": origin, "exact": exact, "initial": exact(0.0)}


def check_problem(problem) -> dict:
    """Péclet numbers, wall distance in standard deviations and mass outside the box."""
    peclet = np.abs(problem["velocity"]) * SPACING / DIFFUSIVITY
    length = N * SPACING
    checks = {"cell_peclet": peclet.tolist()}
    for label, t in (("start", 0.0), ("end", DURATION)):
        spread = math.sqrt(SIGMA**2 + 2 * DIFFUSIVITY * t)
        centroid = problem["origin"] + problem["velocity"] * t
        distance = np.minimum(centroid, length - centroid).min() / spread
        inside = np.prod([0.5 * (math.erf((length - c) / (math.sqrt(2) * spread))
                                 + math.erf(c / (math.sqrt(2) * spread))) for c in centroid])
        checks[f"wall_distance_sigmas_{label}"] = float(distance)
        checks[f"mass_outside_box_{label}"] = float(1.0 - inside)
    checks["ok"] = bool(peclet.max() <= PECLET_LIMIT
                        and checks["wall_distance_sigmas_end"] >= WALL_SIGMAS)
    return checks


def setup_ours(problem) -> dict:
    """Transport operator and decay coefficients (NumPy float64)."""
    xp, shape = np, (N, N, N)
    fraction = np.full(shape, VE)
    faces = tuple(np.full(tuple(N - 1 if a == b else N for b in range(3)),
                          VE * problem["velocity"][a]) for a in range(3))
    operator = TransportOperator.build(
        xp, effective_diffusivity=fraction * DIFFUSIVITY, mask=np.ones(shape, bool),
        spacing=(SPACING,) * 3, face_velocity=faces, surface_outflow=np.zeros(shape),
        extracellular_fraction=fraction)
    zero = np.zeros(shape)
    decay = ExchangeCoefficients.build(xp, zero, zero, zero, zero, 0.0, DECAY, 1.0 / fraction)
    return {"operator": operator, "decay": decay, "zero": zero,
            "no_uptake": UptakeModel(kind="none", active=None, cell_elimination=0.0),
            "stable": operator.stable_step(xp)}


def run_ours(problem, state, dt: float, steps: int) -> np.ndarray:
    """``steps`` macro steps: exact decay, then explicit transport; returns c."""
    m, bound = VE * problem["initial"], state["zero"]
    for _ in range(steps):
        m, bound, _ = pointwise_step(state["decay"], state["no_uptake"], m, bound,
                                     state["zero"], dt)
        m, _ = state["operator"].advance(m, dt, np, state["stable"])
    return m / VE


def setup_fipy(problem, solver_class, tolerance: float | None = None) -> dict:
    """Mesh, variable, face velocity (zero on the walls), equation and solver."""
    import fipy  # noqa: PLC0415

    mesh = fipy.Grid3D(nx=N, ny=N, nz=N, dx=SPACING, dy=SPACING, dz=SPACING)
    # FiPy numbers cells x-fastest: Fortran order of our (x, y, z) arrays.
    concentration = fipy.CellVariable(mesh=mesh, value=problem["initial"].ravel(order="F"))
    darcy = fipy.FaceVariable(mesh=mesh, rank=1,
                              value=np.outer(VE * problem["velocity"],
                                             np.ones(mesh.numberOfFaces)))
    darcy.setValue(0.0, where=mesh.exteriorFaces)
    equation = (fipy.TransientTerm(coeff=VE)
                == fipy.DiffusionTerm(coeff=VE * DIFFUSIVITY)
                - fipy.ExponentialConvectionTerm(coeff=darcy)
                - fipy.ImplicitSourceTerm(coeff=VE * DECAY))
    solver = solver_class() if tolerance is None else solver_class(tolerance=tolerance)
    return {"variable": concentration, "equation": equation, "solver": solver}


def run_fipy(problem, state, dt: float, steps: int) -> np.ndarray:
    """``steps`` backward-Euler solves from the initial field; returns c as (x, y, z)."""
    variable = state["variable"]
    variable.setValue(problem["initial"].ravel(order="F"))
    for _ in range(steps):
        state["equation"].solve(var=variable, dt=dt, solver=state["solver"])
    return np.asarray(variable.value).reshape((N, N, N), order="F")
