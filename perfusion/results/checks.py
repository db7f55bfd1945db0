"""Physical invariants of a run, checked every time (docs/model.md §2–§7; ``checks`` of metrics).

Each check is recorded as ``{"description", "value", "tolerance", "passed"}`` (range checks
also carry ``bounds``); a violation beyond the tolerance raises :class:`InvariantError`
(or, with ``strict=False``, logs a warning and keeps ``passed: false``). The numbers are the
ones the steady and drug metrics already hold — nothing is recomputed another way.

Invariants (``s`` a supply, ``c`` a tissue class, ``V`` voxel volume):

- ``territory_range.<s>``: ``0 ≤ w ≤ max(1, a_max)`` for the catheter territory fraction
  ``w`` of the catheterised supply, over its perfused voxels (value ``[min w, max w]``;
  ``a_max`` the largest catheter source weight, above 1 only with streaming, σ > 1). The
  upwind matrix is an M-matrix with ``q^cath ≤ a_max q``, so the bound is exact up to
  round-off.
- ``territory_mean.<s>``: tracer conservation, ``Σ F_i w_i / Σ F_i = Q_cath / Q_s``
  (value: the difference, a fraction of the supply's inflow ``Q_s`` — the scale of the supply
  solve's residual — so a superselective catheter with a small share is held to the same
  absolute conservation as a lobar one).
- ``perfusion_conservation.<s>``: ``∫ F_s dV = Σ inlet flows of s`` (relative error).
- ``tree_conservation.<s>``: tree supplies, root inflow ``= Σ_t Q_t = ∫ F_s dV``
  (the larger relative difference, ``trees.<s>.conservation_relative_error``).
- ``interstitial_fluid_balance``: ``∫ J_v/V − lymph dV`` = surface outflow (relative to
  ``∫|J_v/V| dV``).
- ``ifp_range.<c>``: interstitial pressure inside the maximum-principle bounds. The discrete
  IFP equation in voxel ``i`` (``t_ij ≥ 0`` face transmissibilities per volume) is

      Σ_j t_ij (p_i − p_j) + (a_i + l_i + s_i) p_i = a_i e_i + l_i p_L,i + s_i · 0

  with ``a = L_pS/V``, ``e = p_c − σ_T(π_v − π_i)`` (effective pressure), ``l = L_pLS_L/V``
  and ``s ≥ 0`` the zero-pressure surface coefficient (0 with ``no-flux``). At the voxel of
  the largest ``p`` the diffusion sum is ≥ 0, so ``p_max`` is at most a weighted mean of
  ``e_i``, ``p_L,i`` and 0 — and where all three weights vanish the neighbours share the
  maximum, which moves it to a voxel with a weight (every piece of tissue has one, or the
  solve is refused). Hence, over the whole tissue,

      min(E ∪ P_L ∪ Z) ≤ p_i ≤ max(E ∪ P_L ∪ Z)

  with ``E`` the ``e_i`` where ``a_i > 0``, ``P_L`` the ``p_L,i`` where ``l_i > 0`` and
  ``Z = {0}`` for a zero-pressure surface (∅ for no-flux). The bound is global, not per
  class: a class without filtration (necrotic core) or with a lower ``e`` (normal tissue
  beside a tumour) takes its pressure from its neighbours. Each class's ``[min, max]`` is
  checked against it.
- ``territory_range_embolized.<s>``, ``territory_mean_embolized.<s>``,
  ``perfusion_conservation_embolized.<s>``: the same for the catheterised supply re-solved
  after embolisation (docs/model.md §8.3; ``embolization`` in the metrics).
- ``mass_balance`` / ``mass_balance_iv``: the drug budget
  ``|infused − tissue − body − eliminated| / infused`` of the IA run and the IV comparator.

Tolerances (``τ`` the elliptic solves' relative residual: ``solver.tolerance``, default
1e-10, raised to ``FLOAT32_TOLERANCE`` = 1e-6 in float32 as the solvers do):

- conservation, territory mean, fluid balance: ``100 τ`` — the sum of a residual of relative
  norm ``τ`` over many voxels (tests hold 1e-8 in float64, 1e-5 in float32);
- IFP range: ``1000 τ × max(|bounds|)`` [Pa] — the residual bounds the pressure error only
  through the condition number, and a necrotic core (no filtration) sits at the bound: the
  liver_hai demo's maximum is 2e-9 × the bound above it with ``τ`` = 1e-10;
- territory range: round-off, 1e-9 in float64 (the triangular solve is exact), 1e-6 in
  float32 (the supply's source density is held in float32);
- mass balance: round-off of the drug loop, 1e-9 in float64, 1e-4 in float32 (tests hold
  1e-10 and 1e-5).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import InvariantError
from ..solvers.cg import FLOAT32_TOLERANCE

log = logging.getLogger(__name__)

#: Likely cause and what to change, per invariant (the part of the name before the dot).
ADVICE = {
    "territory_range": (
        "the catheter territory's upwind matrix lost its M-matrix property (a catheter source "
        "larger than the supply's source in a voxel, or couplings that do not match the "
        "supply's fluxes)",
        "check the catheter's inlets and weights against the supply's inlets "
        "(perfusion.steady.territory); report the case if it persists"),
    "territory_mean": (
        "the tracer is not conserved: the supply's flow field does not balance its sources, "
        "or the catheter's flow differs from its inlets' sources",
        "tighten solver.tolerance or use --precision float64; check the catheter inlets"),
    "perfusion_conservation": (
        "the supply's pressure solve stopped short of balance, or an inlet lies partly "
        "outside the tissue",
        "tighten solver.tolerance or use --precision float64; check the inlets' positions "
        "and radii"),
    "tree_conservation": (
        "the coupled tree–tissue solve stopped short, or terminals lie outside the tissue",
        "tighten solver.tolerance or use --precision float64; check the tree's registration "
        "to the image"),
    "interstitial_fluid_balance": (
        "the IFP solve stopped short of balance",
        "tighten solver.tolerance or use --precision float64"),
    "ifp_range": (
        "the IFP solve stopped short, or the interstitial operator is not an M-matrix (a "
        "negative conductivity, filtration or lymphatic coefficient)",
        "tighten solver.tolerance; check interstitial_conductivity, vessel_wall_conductivity, "
        "vascular_surface_density and lymphatic_conductance are ≥ 0"),
    "mass_balance": (
        "the drug loop's budget misses a source or sink, or round-off grew (float32, very "
        "many steps)",
        "use --precision float64 or a larger simulation time step; if it persists in "
        "float64, report the case"),
}


def solve_tolerance(case, precision: str) -> float:
    """The elliptic solves' relative residual ``τ`` of this run."""
    tolerance = case.solver.tolerance
    return max(tolerance, FLOAT32_TOLERANCE) if precision == "float32" else tolerance


def _times(factor: float, tau: float) -> float:
    """``factor × τ`` without binary noise (1e-4, not 9.999999999999999e-05)."""
    return float(f"{factor * tau:.6g}")


def _check(description: str, value, tolerance: float, passed: bool, bounds=None) -> dict:
    record = {"description": description, "value": value, "tolerance": tolerance,
              "passed": bool(passed)}
    if bounds is not None:
        record["bounds"] = list(bounds)
    return record


def _range(description, low: float, high: float, bounds, tolerance: float) -> dict:
    passed = low >= bounds[0] - tolerance and high <= bounds[1] + tolerance
    return _check(description, [low, high], tolerance, passed, bounds)


def _error(description, value: float, tolerance: float) -> dict:
    return _check(description, value, tolerance, value <= tolerance)


def steady_checks(case, domain, steady, metrics: dict) -> dict:
    """The steady invariants, from the steady and tree ``metrics`` (and the IFP field)."""
    precision = domain.backend.precision
    tau = solve_tolerance(case, precision)
    checks = {}
    if metrics.get("territory") is not None:
        checks.update(_territory_checks(metrics["territory"], precision, tau))
    checks.update(_conservation_checks(metrics["conservation"]["perfusion_relative_error"], tau))
    for name, tree in metrics.get("trees", {}).items():
        checks[f"tree_conservation.{name}"] = _error(
            f"{name} tree: root inflow = Σ terminal flows = ∫F dV, relative error",
            tree["conservation_relative_error"], _times(100, tau))
    checks["interstitial_fluid_balance"] = _error(
        "∫(J_v/V − lymph) dV against the surface outflow, relative error",
        metrics["conservation"]["interstitial_fluid_relative_error"], _times(100, tau))
    checks.update(ifp_checks(case, domain, steady.interstitial.pressure, tau))
    return checks


def embolized_checks(case, precision: str, block: dict) -> dict:
    """``territory_range_embolized``, ``territory_mean_embolized`` and
    ``perfusion_conservation_embolized`` of the re-solved supply, from the ``embolization``
    block of the metrics (:mod:`perfusion.results.embolization`)."""
    tau = solve_tolerance(case, precision)
    supply = block["supply"]
    errors = {supply: block["conservation"]["perfusion_relative_error"][supply]}
    return {**_territory_checks(block["territory"], precision, tau, "_embolized"),
            **_conservation_checks(errors, tau, "_embolized")}


def _territory_checks(territory: dict, precision: str, tau: float, suffix: str = "") -> dict:
    name, state = territory["supply"], " after embolisation" if suffix else ""
    expected = territory["expected_flow_weighted_mean"]
    upper = territory.get("upper_bound", 1.0)
    return {
        f"territory_range{suffix}.{name}": _range(
            f"0 ≤ w ≤ {upper:.6g}: catheter share of the {name} blood over its perfused voxels"
            f"{state} (the bound is the largest catheter weight a_t where streaming makes it "
            "exceed 1)", territory["min"], territory["max"], (0.0, upper),
            1e-9 if precision == "float64" else 1e-6),
        f"territory_mean{suffix}.{name}": _error(
            f"flow-weighted mean of w ({territory['flow_weighted_mean']:.10g}) against the "
            f"catheter's inflow share ({expected:.10g}){state}, difference as a fraction of "
            "the supply's inflow",
            abs(territory["flow_weighted_mean"] - expected), _times(100, tau)),
    }


def _conservation_checks(errors: dict, tau: float, suffix: str = "") -> dict:
    state = " after embolisation" if suffix else ""
    return {f"perfusion_conservation{suffix}.{name}": _error(
        f"∫F dV against the sum of the {name} inlet flows{state}, relative error", error,
        _times(100, tau)) for name, error in errors.items()}


def ifp_bounds(case, domain) -> tuple[float, float]:
    """The maximum-principle bounds ``[min, max]`` of the IFP (module docstring) [Pa]."""
    xp, prop = domain.backend.xp, domain.property_field
    tissue = domain.mask
    filtration = tissue & (prop("vessel_wall_conductivity") * prop("vascular_surface_density") > 0)
    lymph = tissue & (prop("lymphatic_conductance") > 0)
    effective = prop("capillary_pressure") - prop("osmotic_reflection") * (
        prop("plasma_oncotic_pressure") - prop("interstitial_oncotic_pressure"))
    values = [0.0] if case.interstitial.boundary == "zero-pressure" else []
    for where, field in ((filtration, effective), (lymph, prop("lymphatic_pressure"))):
        if bool(xp.any(where)):
            values += [float(xp.min(field[where])), float(xp.max(field[where]))]
    return (min(values), max(values)) if values else (0.0, 0.0)


def ifp_checks(case, domain, pressure, tau: float) -> dict:
    """``ifp_range.<class>``: each class's IFP ``[min, max]`` inside the global bounds."""
    xp = domain.backend.xp
    bounds = ifp_bounds(case, domain)
    tolerance = _times(1000 * max(abs(bounds[0]), abs(bounds[1]), 1.0), tau)
    checks = {}
    for name in domain.present_classes:
        values = pressure[domain.class_mask(name)]
        checks[f"ifp_range.{name}"] = _range(
            f"IFP of {name} [Pa] within the maximum-principle bounds of the IFP equation "
            "(effective, lymphatic and surface pressures)",
            float(xp.min(values)), float(xp.max(values)), bounds, tolerance)
    return checks


def drug_checks(metrics: dict, precision: str) -> dict:
    """The drug budget of the IA run and, when present, of the IV comparator."""
    tolerance = 1e-9 if precision == "float64" else 1e-4
    checks = {"mass_balance": _error(
        "drug mass balance |infused − tissue − body − eliminated| / infused (IA run)",
        metrics["mass_balance_error"], tolerance)}
    if "iv" in metrics:
        checks["mass_balance_iv"] = _error(
            "drug mass balance of the intravenous comparator", metrics["iv"]["mass_balance_error"],
            tolerance)
    return checks


def failed(checks: dict) -> dict:
    """The checks that did not pass."""
    return {name: check for name, check in checks.items() if not check["passed"]}


def describe(name: str, check: dict) -> str:
    """One failed check: invariant, value, tolerance, likely cause and what to change."""
    cause, remedy = ADVICE[name.split(".")[0].removesuffix("_iv").removesuffix("_embolized")]
    bounds = f" outside [{check['bounds'][0]:.6g}, {check['bounds'][1]:.6g}]" \
        if "bounds" in check else ""
    value = check["value"]
    shown = f"[{value[0]:.10g}, {value[1]:.10g}]" if isinstance(value, list) else f"{value:.3e}"
    return (f"invariant {name} violated ({check['description']}): value {shown}{bounds}, "
            f"tolerance {check['tolerance']:.1e}. Likely cause: {cause}. To change: {remedy}.")


def enforce(checks: dict, strict: bool, metrics: dict | None = None,
            failed_file: Path | None = None) -> None:
    """Raise :class:`InvariantError` for failed checks (strict), or log each as a warning.

    A strict failure first writes ``metrics`` (with its ``checks``) to ``failed_file`` when
    given, so the numbers can be seen although no results directory is made.
    """
    bad = failed(checks)
    if not bad:
        return
    lines = [describe(name, check) for name, check in bad.items()]
    if not strict:
        for line in lines:
            log.warning("WARNING (--no-strict): %s", line)
        return
    where = ""
    if metrics is not None and failed_file is not None:
        try:
            failed_file.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
            where = f" The metrics with the failed checks are in {failed_file}."
        except OSError:
            pass
    raise InvariantError(
        f"{len(bad)} invariant check(s) failed, so no results directory was written. "
        + " ".join(lines) + where + " Run with --no-strict (run_case(..., strict=False)) to "
        "keep the results anyway, with passed: false in metrics.json.", checks=bad)


def failed_checks_file(directory: Path) -> Path:
    """``<DIR>.failed-checks.json``: the metrics of a run refused for its checks."""
    return directory.parent / f"{directory.name}.failed-checks.json"


def summary(checks: dict) -> str:
    """``checks: N passed`` or the failed ones (the CLI's run summary)."""
    bad = failed(checks)
    if not bad:
        return f"checks: {len(checks)} passed"
    return (f"checks: {len(bad)} of {len(checks)} FAILED: " + ", ".join(bad)
            + " (see checks in metrics.json)")
