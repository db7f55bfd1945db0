"""The rest of the body: two-compartment linear pharmacokinetics (docs/model.md §7).

Amounts ``A_1 = V_1 c_sys`` (central: plasma, including the plasma in transit through the
modelled tissue) and ``A_2 = V_2 c_2`` (peripheral):

    dA_1/dt = S(t) − (CL/V_1) A_1 − k12 A_1 + k21 A_2
    dA_2/dt = k12 A_1 − k21 A_2

``S`` is the net input over a step: intravenous infusion plus the tissue's net return
(``M_ven − Q_p c_sys`` of docs/model.md §7, i.e. the intra-arterial dose not extracted, minus
drug extracted from systemic plasma, plus lymph and surface outflow). With ``S`` constant over
a step the system is integrated exactly (matrix exponential of the augmented system, Van
Loan 1978), together with ``∫A_1 dt``, so the eliminated amount ``(CL/V_1)∫A_1 dt`` is exact
and the mass budget closes to round-off.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import expm


@dataclass(frozen=True)
class SystemicPK:
    """Two-compartment parameters of the body (SI)."""

    central_volume: float
    peripheral_volume: float
    clearance: float
    k12: float
    k21: float

    def matrix(self) -> np.ndarray:
        v1 = self.central_volume
        return np.array([[-(self.clearance / v1) - self.k12, self.k21],
                         [self.k12, -self.k21]])


@dataclass(frozen=True)
class BodyState:
    """Drug amounts in the body [kg]."""

    central: float = 0.0
    peripheral: float = 0.0
    eliminated: float = 0.0

    def concentration(self, pk: SystemicPK) -> float:
        """Systemic plasma concentration c_sys [kg/m³]."""
        return self.central / pk.central_volume

    @property
    def total(self) -> float:
        return self.central + self.peripheral


def advance_body(pk: SystemicPK, state: BodyState, dt: float,
                 source: float) -> tuple[BodyState, float]:
    """Advance the body by ``dt`` with a constant net input ``source`` [kg/s] (exact).

    Returns the new state and ``∫c_sys dt`` over the step [kg·s/m³] (exact as well).
    """
    homogeneous, forcing = _propagators(tuple(pk.matrix().ravel()), dt)
    start = np.array([0.0, 0.0, state.central, state.peripheral, 1.0])
    integral_central, _, central, peripheral, _ = homogeneous @ start + source * forcing
    eliminated = pk.clearance / pk.central_volume * integral_central
    return (BodyState(central=central, peripheral=peripheral,
                      eliminated=state.eliminated + eliminated),
            integral_central / pk.central_volume)


@lru_cache(maxsize=64)
def _propagators(matrix: tuple, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``exp(M dt)`` of the augmented system without input, and the change of its last column
    per unit input (the input enters linearly there), so a step costs one product."""
    augmented = np.zeros((5, 5))
    augmented[0:2, 2:4] = np.eye(2)       # d/dt ∫A = A
    augmented[2:4, 2:4] = np.reshape(matrix, (2, 2))     # dA/dt = B A + b
    homogeneous = expm(augmented * dt)
    augmented[2, 4] = 1.0
    return homogeneous, expm(augmented * dt)[:, 4] - homogeneous[:, 4]


def bolus_concentration(pk: SystemicPK, dose: float, t) -> np.ndarray:
    """Closed-form c_sys(t) after an IV bolus (bi-exponential), for verification."""
    b = pk.matrix()
    eigenvalues, vectors = np.linalg.eig(b)
    weights = np.linalg.solve(vectors, [dose, 0.0])
    t = np.asarray(t, dtype=float)
    amounts = vectors[0, 0] * weights[0] * np.exp(eigenvalues[0] * t) + \
        vectors[0, 1] * weights[1] * np.exp(eigenvalues[1] * t)
    return amounts / pk.central_volume
