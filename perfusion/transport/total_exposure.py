"""Total exposure: the AUC over all time of the linear drug model, by one steady solve
(docs/model.md §13.1).

For linear kinetics (linear or no uptake, first-order elimination and metabolism, the
two-compartment body; docs/model.md §6–§7) every state decays to zero, so integrating the
tissue and body equations over ``t ∈ [0, ∞)`` turns them into a steady problem for the time
integrals ``M = ∫m dt``, ``C = ∫c dt``, ``S = ∫c_sys dt`` (per tissue voxel; ``m₀, c₀`` the
state at ``t = 0``, ``D_cath``, ``D_iv`` the doses through the catheter and intravenously,
``A₀`` the drug in the body at ``t = 0``):

    (b + λ) M − T(M) = s (S + D_cath g) + m₀ + k_out c₀/q ,
    C = (k_in M + c₀)/q ,                    q = k_out + k_c ,
    CL S + Σ V [λ M + k_c c₀/q] = D_cath + D_iv + A₀ + Σ V (m₀ + c₀)

with ``s = F_p E + (1 − σ_f) J_v⁺`` the plasma intake, ``b = (F_p E + (1 − σ_f) J_v⁻ + ℓ)/v_e``
the back-exchange, ``λ`` every first-order loss of free drug including uptake followed by bound
decay ``k_in k_c/q`` (``metabolism.first_order_rates``), ``T`` the interstitial transport
(diffusion, convection and the surface outflow of ``operator``), ``g = θ/Q_cath,eff`` the
catheter's plasma concentration per unit rate (``problem``), ``CL`` the body's clearance
outside the tissue (``CL_rest``) and ``V`` the voxel volume. The last line is the mass
balance over all time: everything given is eliminated in the body or in the tissue. With
``M = S M₁ + M_r`` (``M₁`` the response to a unit ``S``) it gives ``S`` in closed form, and

    AUC(C_t) = v_b R_b (S + D_cath g) + M + C .

The matrix ``K = (b + λ) − T`` is an M-matrix (hybrid differencing) whose diagonal dominates
wherever blood exchanges drug (``b ≫ D/h²``), so BiCGStab with a Jacobi preconditioner
converges in tens of iterations; the tolerance is ``‖K M − rhs‖ ≤ 1e-12 ‖rhs‖``, checked, and
non-convergence is an error. Where no blood exchanges drug (a necrotic core) the diagonal is
small (condition number ~1e4–1e5), so the AUCs are accurate to ~1e-9 relative, not 1e-12. The result is exact for the
linear model, independent of the time step and of ``V_1, k12, k21``; for saturable uptake or
metabolism it is the low-concentration (linearised) model, flagged ``linear = False``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError
from .metabolism import first_order_rates

TOLERANCE = 1e-12
MAX_ITERATIONS = 5000


@dataclass(frozen=True)
class Totals:
    """Time integrals over ``[0, ∞)`` on the tissue voxels (``index``) [kg·s/m³]."""

    tissue: np.ndarray     # ∫C_t dt
    free: np.ndarray       # ∫m dt
    bound: np.ndarray      # ∫c dt
    systemic: float        # ∫c_sys dt


class TotalExposure:
    """The steady problem of one tissue problem and body clearance."""

    def __init__(self, problem, clearance: float, voxel_volume: float, backend, rates=None):
        """``rates``: ``metabolism.first_order_rates`` of the problem (the default) or a
        replacement for them (e.g. the secant rates of a saturable drug, ``perfusion.plan``)."""
        from scipy import sparse

        host = lambda a: np.asarray(backend.to_host(a), dtype=np.float64)  # noqa: E731
        rates = first_order_rates(problem, backend.xp) if rates is None else rates
        inverse_ve = host(problem.exchange.inverse_ve)
        shape = inverse_ve.shape
        full = lambda a: np.broadcast_to(host(a), shape).ravel()  # noqa: E731
        self.index = np.flatnonzero(inverse_ve.ravel() > 0)
        self.shape, self.voxel_volume, self.clearance = shape, voxel_volume, clearance
        self.linear = bool(rates["linear"])
        pick = lambda a: full(a)[self.index]  # noqa: E731
        self.intake, self.loss = pick(rates["inflow"]), pick(rates["loss"])
        k_in, k_out = pick(rates["uptake"]), pick(rates["release"])
        q = k_out + rates["bound_decay"]
        if np.any((k_in > 0) & (q <= 0)):
            raise ConvergenceError(
                "total exposure: drug bound in cells is neither released nor eliminated "
                "(k_out = k_c = 0), so its AUC over all time is infinite")
        safe = np.where(q > 0, q, 1.0)
        self.bound_per_free = np.where(k_in > 0, k_in / safe, 0.0)
        self.release_share = np.where(k_in > 0, k_out / safe, 0.0)
        self.inverse_q = np.where(k_in > 0, 1 / safe, 0.0)
        self.decay_share = np.where(k_in > 0, rates["bound_decay"] / safe, 0.0)
        self.vascular = pick(problem.vascular_drug_fraction)
        inv = inverse_ve.ravel()
        number = np.full(inv.size, -1)
        number[self.index] = np.arange(self.index.size)
        operator = problem.operator
        diagonal = pick(rates["back"]) + self.loss + (full(operator.surface_outflow) * inv)[self.index]
        rows, cols, values = [], [], []
        grid = np.arange(inv.size).reshape(shape)
        for axis, (a, b) in enumerate(zip(operator.lower, operator.upper)):
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(None, -1), slice(1, None)
            low, high = grid[tuple(lo)].ravel(), grid[tuple(hi)].ravel()
            a, b = host(a).ravel(), host(b).ravel()
            live = ((a != 0) | (b != 0)) & (number[low] >= 0) & (number[high] >= 0)
            low, high, a, b = low[live], high[live], a[live] * inv[low[live]], b[live] * inv[high[live]]
            i, j = number[low], number[high]
            # flux low → high = a c_low − b c_high: row low gains +a M_low − b M_high, row high the negative
            np.add.at(diagonal, i, a)
            np.add.at(diagonal, j, b)
            rows += [i, j]
            cols += [j, i]
            values += [-b, -a]
        n = self.index.size
        matrix = sparse.csr_matrix(
            (np.concatenate([diagonal, *values]),
             (np.concatenate([np.arange(n), *rows]), np.concatenate([np.arange(n), *cols]))),
            shape=(n, n))
        self.matrix = matrix
        self._inverse_diagonal = 1.0 / diagonal
        self.systemic_response = self.solve(self.intake)        # M₁

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``M`` with ``K M = rhs`` on the tissue voxels (BiCGStab, Jacobi-preconditioned)."""
        from scipy.sparse.linalg import LinearOperator, bicgstab

        rhs = np.asarray(rhs, dtype=np.float64)
        norm = float(np.linalg.norm(rhs))
        if norm == 0:
            return np.zeros_like(rhs)
        jacobi = LinearOperator(self.matrix.shape, matvec=lambda v: v * self._inverse_diagonal)
        result, info = bicgstab(self.matrix, rhs, x0=rhs * self._inverse_diagonal,
                                rtol=TOLERANCE, atol=0.0, M=jacobi, maxiter=MAX_ITERATIONS)
        residual = float(np.linalg.norm(self.matrix @ result - rhs))
        if info != 0 or not np.isfinite(result).all() or residual > 10 * TOLERANCE * norm:
            raise ConvergenceError(f"total exposure: BiCGStab stopped at relative residual "
                                   f"{residual / norm:.3g} (tolerance {TOLERANCE:g}, "
                                   f"{MAX_ITERATIONS} iterations at most)")
        return result

    def tissue_vector(self, field) -> np.ndarray:
        """A full-grid field (host or backend array) on the tissue voxels."""
        return np.asarray(field, dtype=np.float64).ravel()[self.index]

    def catheter_response(self, plasma_per_rate: np.ndarray) -> np.ndarray:
        """``M_g``: free-drug AUC per unit catheter dose for ``g`` on the tissue voxels."""
        return self.solve(self.intake * plasma_per_rate)

    def totals(self, catheter_dose: float = 0.0, iv_dose: float = 0.0, plasma_per_rate=None,
               catheter_free=None, free0=None, bound0=None, body0: float = 0.0) -> Totals:
        """The time integrals for the doses [kg] and an initial state (tissue vectors);
        ``catheter_free`` (``catheter_response(g)``) may be given to skip its solve."""
        n = self.index.size
        g = np.zeros(n) if plasma_per_rate is None else plasma_per_rate
        free0 = np.zeros(n) if free0 is None else free0
        bound0 = np.zeros(n) if bound0 is None else bound0
        rhs = free0 + self.release_share * bound0
        response = self.solve(rhs) if rhs.any() else np.zeros(n)
        if catheter_dose:
            response = response + catheter_dose * (
                self.catheter_response(g) if catheter_free is None else catheter_free)
        volume = self.voxel_volume
        given = (catheter_dose + iv_dose + body0 + volume * (free0.sum() + bound0.sum())
                 - volume * (self.decay_share @ bound0) - volume * (self.loss @ response))
        removal = self.clearance + volume * (self.loss @ self.systemic_response)
        if removal <= 0:
            raise ConvergenceError("total exposure: nothing eliminates the drug (CL = 0 and no "
                                   "tissue losses), so its AUC over all time is infinite")
        systemic = given / removal
        free = systemic * self.systemic_response + response
        bound = self.bound_per_free * free + self.inverse_q * bound0
        plasma = systemic + catheter_dose * g
        return Totals(tissue=self.vascular * plasma + free + bound, free=free, bound=bound,
                      systemic=float(systemic))


@dataclass(frozen=True)
class RunTotals:
    """A run's exposure over all time: from the doses (the linear model), the IV comparator's,
    and the run's own window continued by the linear tail from its final state."""

    system: TotalExposure
    arterial: Totals
    intravenous: Totals | None
    window_and_tail: Totals | None    # None when an infusion outlasts the run
    blood: np.ndarray                 # F θ on the tissue voxels: the catheter's blood [1/s]


def catheter_plasma(system: TotalExposure, problem, backend) -> np.ndarray:
    """``g = θ/Q_cath,eff`` on the tissue voxels [s/m³] (zero without a catheter)."""
    if problem.catheter_effective_flow <= 0:
        return np.zeros(system.index.size)
    territory = system.tissue_vector(backend.to_host(problem.territory))
    return territory / problem.catheter_effective_flow


def run_totals(domain, steady, problem, pk, schedule, arterial, intravenous,
               duration: float) -> RunTotals:
    """The totals of a run's routes (``run.RouteResult``) on one tissue problem."""
    from .body.schedule import IV

    backend = domain.backend
    system = TotalExposure(problem, pk.clearance, domain.voxel_volume, backend)
    g = catheter_plasma(system, problem, backend)
    catheter_dose = schedule.dose() - schedule.dose(IV)
    ia = system.totals(catheter_dose, schedule.dose(IV), g)
    iv = system.totals(iv_dose=schedule.dose()) if intravenous is not None else None
    tail = None
    if max(w.end for w in schedule.windows) <= duration * (1 + 1e-12):
        end = system.totals(free0=system.tissue_vector(backend.to_host(arterial.final_free)),
                            bound0=system.tissue_vector(backend.to_host(arterial.final_bound)),
                            body0=arterial.body.total)
        window = system.tissue_vector(backend.to_host(arterial.exposure.auc))
        tail = Totals(tissue=window + end.tissue, free=end.free, bound=end.bound,
                      systemic=arterial.exposure.auc_systemic + end.systemic)
    blood = system.tissue_vector(backend.to_host(steady.perfusion)) * system.tissue_vector(
        backend.to_host(problem.territory))
    return RunTotals(system, ia, iv, tail, blood)
