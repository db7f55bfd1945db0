"""Per-piece responses, and any candidate (or pair of candidates) as their weighted sum.

For a piece ``P`` (``candidates``) with its own territory source weights ``a^p``:

    θ_P = (F_cath-supply / F) w(a^p),     Q_P = R_b V Σ F θ_P,     Z_P = K⁻¹ (s θ_P)

``w`` the territory (``perfusion.steady.territory``), ``R_b`` the blood-to-plasma ratio
(``1 − Hct`` for a plasma-only drug), ``K`` the factorised total-exposure operator and ``s``
the plasma intake (``perfusion.transport.total_exposure``). A candidate ``s`` with weights
``c_P`` has the territory ``θ_s = Σ c_P θ_P``, the drug-carrying flow ``Q_s = Σ c_P Q_P``, the
catheter plasma per unit rate ``g_s = θ_s / Q_s`` and the free-drug AUC per unit catheter
dose ``M_s = Σ c_P Z_P / Q_s`` — exactly what ``perfusion run`` with ``catheter.vessel = s``
builds, because every step is linear in the territory's sources. A split dose, fraction
``f`` through ``s₁`` and ``1 − f`` through ``s₂``, has ``g = f g₁ + (1 − f) g₂`` and
``M = f M₁ + (1 − f) M₂``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Delivery:
    """What a catheter position delivers, on the tissue voxels."""

    territory: np.ndarray      # θ: catheter share of each voxel's blood [-]
    blood: np.ndarray          # F θ: the catheter's blood [1/s]
    plasma_per_rate: np.ndarray   # g [s/m³]
    free_per_dose: np.ndarray     # M [s/m³]: ∫m dt per kg through the catheter

    def mixed(self, other: "Delivery", fraction: float) -> "Delivery":
        """``fraction`` of the dose through this position, the rest through ``other``."""
        rest = 1.0 - fraction
        return Delivery(territory=self.territory + other.territory,
                        blood=self.blood + other.blood,
                        plasma_per_rate=fraction * self.plasma_per_rate
                        + rest * other.plasma_per_rate,
                        free_per_dose=fraction * self.free_per_dose + rest * other.free_per_dose)


class PieceResponses:
    """θ_P, Q_P and Z_P of every piece, solved once."""

    def __init__(self, system, territory_solver, supply_share: np.ndarray,
                 perfusion: np.ndarray, blood_to_plasma: float, piece_inlets: list):
        size = len(piece_inlets)
        cells = system.index.size
        self.perfusion = system.tissue_vector(perfusion)
        self.territory = np.empty((size, cells))
        self.response = np.empty((size, cells))
        self.flow = np.empty(size)
        volume = system.voxel_volume
        for i, inlets in enumerate(piece_inlets):
            w, _ = territory_solver.fraction(inlets)
            theta = supply_share * w
            self.flow[i] = blood_to_plasma * float((perfusion * theta).sum()) * volume
            self.territory[i] = system.tissue_vector(theta)
            self.response[i] = system.solve(system.intake * self.territory[i])

    def delivery(self, weights: np.ndarray) -> Delivery:
        """The delivery of a candidate with piece weights ``c_P`` (one row of
        ``Candidates.weights``)."""
        used = np.flatnonzero(weights)
        c = weights[used]
        theta = c @ self.territory[used]
        flow = float(c @ self.flow[used])
        return Delivery(territory=theta, blood=self.perfusion * theta,
                        plasma_per_rate=theta / flow,
                        free_per_dose=(c @ self.response[used]) / flow)
