"""Observers of the drug loop: exposure maps, the time series, field snapshots.

Total tissue concentration ``C_t = v_p c_p + m + c`` (docs/model.md §6.3; ``v_p`` stands for
the vascular drug per unit ``c_p``, ``problem.vascular_drug_fraction = v_b R_b``, which is
``v_p`` for plasma-only drugs). Within a step ``c_p``
is constant and ``m, c`` are taken as linear, so the AUC is accumulated by the trapezoid
rule from ``C_t(t₀⁺)`` and ``C_t(t₁⁻)`` (both with the step's infusion rate); ``Cmax`` is the
largest of those; the systemic AUC uses the exact ``∫c_sys dt`` of the body update.
"""
from __future__ import annotations

import numpy as np


class ClassMeans:
    """Volume means over each tissue class.

    The tissue voxels are listed once, class by class (``tissue``, flat indices), so a class
    sum is one gather and a slice instead of a masked pass over the whole grid.
    """

    def __init__(self, domain):
        xp = domain.backend.xp
        self.backend = domain.backend
        self.names = domain.present_classes
        self.shape = domain.shape
        ids = {c: domain.class_names.index(c) for c in self.names}
        self.masks = {c: xp.asarray(domain.labels == ids[c]) for c in self.names}
        labels = domain.labels.ravel()
        cells = [np.flatnonzero(labels == ids[c]) for c in self.names]
        self.counts = {c: int(i.size) for c, i in zip(self.names, cells)}
        ends = np.cumsum([i.size for i in cells], dtype=int)
        self.slices = {c: slice(int(end) - i.size, int(end))
                       for c, i, end in zip(self.names, cells, ends)}
        self.tissue = xp.asarray(np.concatenate(cells) if cells else np.zeros(0, dtype=np.intp))
        self._fixed = (None, None)   # (array, its gathered values)

    def gather(self, array):
        """The tissue voxels of a full array, class by class (1-D)."""
        return self.backend.xp.take(array, self.tissue)

    def gather_into(self, array, out):
        """:meth:`gather` into ``out`` (NumPy: ``mode="clip"``, which it does not buffer)."""
        if self.backend.xp is np:
            return np.take(array, self.tissue, out=out, mode="clip")
        return self.backend.xp.take(array, self.tissue, out=out)

    def gather_fixed(self, array):
        """:meth:`gather` of an array that stays the same between calls (computed once)."""
        if self._fixed[0] is not array:
            self._fixed = (array, self.gather(array))
        return self._fixed[1]

    def scatter(self, values, dtype):
        """A full array (zero outside the tissue) from gathered values."""
        full = self.backend.xp.zeros(self.shape, dtype=dtype)
        full.reshape(-1)[self.tissue] = values
        return full

    def __call__(self, array) -> dict[str, float]:
        return self.of_gathered(self.gather(array))

    def of_gathered(self, values) -> dict[str, float]:
        """Class means from gathered values."""
        return {c: self.backend.sum(values[s]) / self.counts[c] for c, s in self.slices.items()}

    def amount(self, array, name: str, voxel_volume: float) -> float:
        """∫ array dV over one class [array units · m³]."""
        cells = self.tissue[self.slices[name]]
        return self.backend.sum(self.backend.xp.take(array, cells)) * voxel_volume


class Exposure:
    """AUC and Cmax maps, class curves, time above threshold, dose in the target, and the
    AUC of the class means of the bound/intracellular pool ``c_c`` (``auc_bound_class``).

    Outside the tissue ``C_t`` is zero (no plasma, no drug), so the maps are kept on the
    tissue voxels (``means.gather``) and given out as full arrays (``auc``, ``cmax``).
    """

    def __init__(self, domain, target: str | None, threshold: float):
        xp = domain.backend.xp
        self.xp, self.domain = xp, domain
        self.means = ClassMeans(domain)
        self.target = target
        self.threshold = threshold
        cells = self.means.tissue.size
        self._auc = xp.zeros(cells, dtype=np.float64)
        self._cmax = xp.zeros(cells, dtype=np.float64)
        self._previous = xp.zeros(cells, dtype=domain.backend.dtype)
        self._spare: list = []   # buffers of __call__ (the tissue one swaps with _previous)
        self.auc_systemic = 0.0
        self.cmax_class = {c: 0.0 for c in self.means.names}
        self.time_above = {c: 0.0 for c in self.means.names}
        self.target_amount_peak = 0.0
        self.target_amount_final = 0.0
        self.systemic_peak = 0.0
        self.auc_bound_class = {c: 0.0 for c in self.means.names}     # ∫ class mean of c_c dt
        self.bound_previous_class = {c: 0.0 for c in self.means.names}

    @property
    def auc(self):
        """∫C_t dt per voxel [kg·s/m³] (a full array)."""
        return self.means.scatter(self._auc, np.float64)

    @auc.setter
    def auc(self, full):
        self._auc = self.means.gather(self.xp.asarray(full)).astype(np.float64, copy=False)

    @property
    def cmax(self):
        """Largest C_t per voxel [kg/m³] (a full array)."""
        return self.means.scatter(self._cmax, np.float64)

    @cmax.setter
    def cmax(self, full):
        self._cmax = self.means.gather(self.xp.asarray(full)).astype(np.float64, copy=False)

    @property
    def previous(self):
        """m + c at the end of the last step (a full array)."""
        return self.means.scatter(self._previous, self._previous.dtype)

    @previous.setter
    def previous(self, full):
        dtype = self._previous.dtype
        self._previous = self.means.gather(self.xp.asarray(full)).astype(dtype, copy=False)

    def __call__(self, view) -> None:
        xp = self.xp
        dt = view.t1 - view.t0
        v_p = self.means.gather_fixed(view.problem.vascular_drug_fraction)
        start, tissue, end, work = self._buffers(view, v_p)
        self.means.gather_into(view.plasma_start, start)
        start *= v_p
        start += self._previous                        # C_t(t₀⁺)
        self.means.gather_into(view.free, tissue)
        self.means.gather_into(view.bound, work)
        bound = self.means.of_gathered(work)           # c_c, linear over the step
        for c in self.means.names:
            self.auc_bound_class[c] += 0.5 * dt * (self.bound_previous_class[c] + bound[c])
        self.bound_previous_class = bound
        tissue += work                                 # m + c
        self.means.gather_into(view.plasma_end, end)
        end *= v_p
        end += tissue                                  # C_t(t₁⁻)
        xp.add(start, end, out=work)
        work *= 0.5 * dt
        self._auc += work
        xp.maximum(start, end, out=work)
        xp.maximum(self._cmax, work, out=self._cmax)
        self.auc_systemic += view.systemic_integral
        self.systemic_peak = max(self.systemic_peak, view.systemic)
        first, last = self.means.of_gathered(start), self.means.of_gathered(end)
        for c in self.means.names:
            self.cmax_class[c] = max(self.cmax_class[c], first[c], last[c])
            self.time_above[c] += dt * _fraction_above(first[c], last[c], self.threshold)
        if self.target is not None:
            amount = self.domain.backend.sum(tissue[self.means.slices[self.target]])
            amount *= self.domain.voxel_volume
            self.target_amount_peak = max(self.target_amount_peak, amount)
            self.target_amount_final = amount
        self._previous, self._spare[1] = tissue, self._previous

    def _buffers(self, view, v_p) -> list:
        """(start, tissue, end, scratch) on the tissue voxels, allocated once, in the dtype the
        arithmetic on the step's arrays gives."""
        dtype = self.xp.result_type(v_p, view.plasma_start, view.plasma_end, view.free,
                                    view.bound, self._previous)
        if not self._spare or self._spare[0].dtype != dtype:
            self._spare = [self.xp.empty(self._previous.shape, dtype) for _ in range(4)]
            self._previous = self._previous.astype(dtype)
        return self._spare


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
        self._buffers = None

    def __call__(self, view) -> None:
        body, budget = view.body, view.budget
        v_p = view.problem.vascular_drug_fraction
        backend = self.means.backend
        row = {"time_s": view.t1, "c_sys": view.systemic,
               "c_peripheral": body.peripheral / self.pk.peripheral_volume}
        xp, cells = backend.xp, self.means.tissue
        v_p = self.means.gather_fixed(v_p)
        dtype = xp.result_type(v_p, view.plasma_end, view.free, view.bound)
        if self._buffers is None or self._buffers[0].dtype != dtype:
            self._buffers = [xp.empty(cells.shape, dtype) for _ in range(3)]
        free, bound, total = self._buffers
        self.means.gather_into(view.free, free)
        self.means.gather_into(view.bound, bound)
        self.means.gather_into(view.plasma_end, total)
        total *= v_p
        total += free
        total += bound                                 # C_t = v_p c_p + m + c
        row.update({f"c_t_{c}": v for c, v in self.means.of_gathered(total).items()})
        row.update({
            "tissue_free_kg": backend.sum(free) * self.voxel_volume,
            "tissue_bound_kg": backend.sum(bound) * self.voxel_volume,
            "body_central_kg": body.central, "body_peripheral_kg": body.peripheral,
            "eliminated_tissue_kg": budget.tissue_eliminated, "eliminated_body_kg": body.eliminated,
            "infused_ia_kg": budget.infused_ia, "infused_iv_kg": budget.infused_iv,
            "plasma_to_tissue_kg": budget.from_plasma, "lymph_kg": budget.to_lymph,
            "surface_outflow_kg": budget.through_surface,
            "mass_balance_error": budget.error(view.tissue_amount, body),
            "metabolised_kg": budget.metabolised,
        })
        row.update(self._outflow(view, budget))
        self.rows.append(row)

    def _outflow(self, view, budget) -> dict:
        """The organ's venous outflow over the step (docs/model.md §6.6, §10).

        Drug enters with the blood at ``M_in = Q_eff c_sys(t₀) + I_cath`` (exactly the
        ``∫F_eff c_p dV`` of the pointwise step) and leaves by the veins at ``M_ven = M_in −
        Δ(plasma_to_tissue)/Δt``; ``c_inflow = M_in/Q_eff`` and ``c_venous_outflow = M_ven/Q_eff``
        (flow-weighted plasma concentrations), ``extraction = 1 − M_ven/M_in`` (NaN while
        nothing flows in); lymph and surface outflow count as extracted here.
        ``c_sys(t₀)`` and the cumulative terms at ``t₀`` are the previous row's (zero at t = 0).
        """
        last = self.rows[-1] if self.rows else {}
        dt = view.t1 - view.t0
        flow = getattr(view.problem, "effective_flow", view.problem.plasma_flow)
        inflow = (flow * last.get("c_sys", 0.0)
                  + (budget.infused_ia - last.get("infused_ia_kg", 0.0)) / dt)
        venous = inflow - (budget.from_plasma - last.get("plasma_to_tissue_kg", 0.0)) / dt
        return {"c_inflow": inflow / flow if flow > 0 else float("nan"),
                "c_venous_outflow": venous / flow if flow > 0 else float("nan"),
                "extraction": 1 - venous / inflow if inflow > 0 else float("nan")}


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
        v_p = view.problem.vascular_drug_fraction
        arrays = {"c_e": view.free * inverse_ve, "c_c": view.bound,
                  "c_t": v_p * view.plasma_end + view.free + view.bound}
        self.taken.append((view.t1, {k: host(v).astype(np.float32) for k, v in arrays.items()}))
