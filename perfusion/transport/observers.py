"""Observers of the drug loop: exposure maps, the time series, field snapshots.

Total tissue concentration ``C_t = v_p c_p + m + c`` (DESIGN §2.4). Within a step ``c_p``
is constant and ``m, c`` are taken as linear, so the AUC is accumulated by the trapezoid
rule from ``C_t(t₀⁺)`` and ``C_t(t₁⁻)`` (both with the step's infusion rate); ``Cmax`` is the
largest of those; the systemic AUC uses the exact ``∫c_sys dt`` of the body update.
"""
from __future__ import annotations

import numpy as np


class ClassMeans:
    """Volume means over each tissue class, with masks built once."""

    def __init__(self, domain):
        xp = domain.backend.xp
        self.backend = domain.backend
        self.names = domain.present_classes
        self.masks = {c: xp.asarray(domain.labels == domain.class_names.index(c)) for c in self.names}
        self.counts = {c: int((domain.labels == domain.class_names.index(c)).sum()) for c in self.names}

    def __call__(self, array) -> dict[str, float]:
        xp = self.backend.xp
        return {c: self.backend.sum(xp.where(m, array, 0)) / self.counts[c]
                for c, m in self.masks.items()}

    def amount(self, array, name: str, voxel_volume: float) -> float:
        """∫ array dV over one class [array units · m³]."""
        return self.backend.sum(self.backend.xp.where(self.masks[name], array, 0)) * voxel_volume


class Exposure:
    """AUC and Cmax maps, class curves, time above threshold, dose in the target."""

    def __init__(self, domain, target: str | None, threshold: float):
        xp = domain.backend.xp
        self.xp, self.domain = xp, domain
        self.means = ClassMeans(domain)
        self.target = target
        self.threshold = threshold
        self.auc = xp.zeros(domain.shape, dtype=np.float64)
        self.cmax = xp.zeros(domain.shape, dtype=np.float64)
        self.previous = xp.zeros(domain.shape, dtype=domain.backend.dtype)
        self.auc_systemic = 0.0
        self.cmax_class = {c: 0.0 for c in self.means.names}
        self.time_above = {c: 0.0 for c in self.means.names}
        self.target_amount_peak = 0.0
        self.target_amount_final = 0.0
        self.systemic_peak = 0.0

    def __call__(self, view) -> None:
        xp = self.xp
        dt = view.t1 - view.t0
        v_p = view.problem.plasma_fraction
        start = v_p * view.plasma_start + self.previous
        tissue = view.free + view.bound
        end = v_p * view.plasma_end + tissue
        self.auc += 0.5 * dt * (start + end)
        self.cmax = xp.maximum(self.cmax, xp.maximum(start, end))
        self.auc_systemic += view.systemic_integral
        self.systemic_peak = max(self.systemic_peak, view.systemic)
        first, last = self.means(start), self.means(end)
        for c in self.means.names:
            self.cmax_class[c] = max(self.cmax_class[c], first[c], last[c])
            self.time_above[c] += dt * _fraction_above(first[c], last[c], self.threshold)
        if self.target is not None:
            amount = self.means.amount(tissue, self.target, self.domain.voxel_volume)
            self.target_amount_peak = max(self.target_amount_peak, amount)
            self.target_amount_final = amount
        self.previous = tissue


def _fraction_above(a: float, b: float, threshold: float) -> float:
    """Share of a step spent above ``threshold`` by a quantity going linearly from a to b."""
    if a > threshold and b > threshold:
        return 1.0
    if a <= threshold and b <= threshold:
        return 0.0
    crossing = (threshold - a) / (b - a)
    return 1 - crossing if b > a else crossing


class TimeSeries:
    """One row per step: class means of C_t, body, and every budget term [SI]."""

    def __init__(self, domain, pk):
        self.means = ClassMeans(domain)
        self.pk = pk
        self.voxel_volume = domain.voxel_volume
        self.rows: list[dict] = []

    def __call__(self, view) -> None:
        body, budget = view.body, view.budget
        v_p = view.problem.plasma_fraction
        backend = self.means.backend
        row = {"time_s": view.t1, "c_sys": view.systemic,
               "c_peripheral": body.peripheral / self.pk.peripheral_volume}
        total = v_p * view.plasma_end + view.free + view.bound
        row.update({f"c_t_{c}": v for c, v in self.means(total).items()})
        row.update({
            "tissue_free_kg": backend.sum(view.free) * self.voxel_volume,
            "tissue_bound_kg": backend.sum(view.bound) * self.voxel_volume,
            "body_central_kg": body.central, "body_peripheral_kg": body.peripheral,
            "eliminated_tissue_kg": budget.tissue_eliminated, "eliminated_body_kg": body.eliminated,
            "infused_ia_kg": budget.infused_ia, "infused_iv_kg": budget.infused_iv,
            "plasma_to_tissue_kg": budget.from_plasma, "lymph_kg": budget.to_lymph,
            "surface_outflow_kg": budget.through_surface,
            "mass_balance_error": budget.error(view.tissue_amount, body),
        })
        self.rows.append(row)


class Snapshots:
    """Host copies (float32) of c_e, c_c and C_t at the output times."""

    def __init__(self, domain, times):
        self.domain = domain
        self.times = [float(t) for t in times]
        self.taken: list[tuple[float, dict]] = []

    def __call__(self, view) -> None:
        if not any(abs(view.t1 - t) <= 1e-9 * max(t, 1.0) for t in self.times):
            return
        host = self.domain.backend.to_host
        inverse_ve = view.problem.exchange.inverse_ve
        v_p = view.problem.plasma_fraction
        arrays = {"c_e": view.free * inverse_ve, "c_c": view.bound,
                  "c_t": v_p * view.plasma_end + view.free + view.bound}
        self.taken.append((view.t1, {k: host(v).astype(np.float32) for k, v in arrays.items()}))
