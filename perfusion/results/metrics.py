"""Steady metrics (docs/model.md §10): class means, extremes, conservation, solver statistics.

Units: perfusion in mL/min/100 mL (``F × 6000``), pressures in Pa, flows in mL/min,
volumes in mL. Every number a user might quote carries its unit in its key or in the
``units`` table of ``metrics.json``. ``tissue_sources.<class>.<property>``: where each
resolved tissue property came from (case file, preset or library default with its reference).
``extremes``: supply pressure and perfusion extremes against physiological bounds (:mod:`perfusion.results.extremes`). ``territory``: the catheter
territory ``w`` of its supply (:mod:`perfusion.steady.territory`, ``F`` perfusion, ``r``
sink density of tree terminals draining into the tree) — ``flow_weighted_mean`` is the
outflow-weighted ``Σ (F + r) w / Σ (F + r)`` that equals ``expected_flow_weighted_mean`` =
``Q_cath / Q_in``; ``perfusion_weighted_mean`` is ``Σ F w / Σ F`` (the two agree without
sinks); ``sink_flow_ml_min`` is ``Σ |Q_k|`` over the sinks.
"""
from __future__ import annotations

from ..domain import Domain
from ..library.units import M3_S_TO_ML_MIN, PER_S_TO_ML_MIN_100ML
from .extremes import steady_extremes
from ..steady.solve import SteadyState

UNITS = {
    "perfusion_mean": "mL/min/100 mL", "perfusion_mean_by_supply": "mL/min/100 mL",
    "ifp_mean": "Pa", "ifp_max": "Pa", "class_volume_ml": "mL", "inflow_ml_min": "mL/min",
    "territory_mean": "-", "surface_outflow_ml_min": "mL/min", "timings": "s",
    "territory.flow_weighted_mean": "- (outflow-weighted: perfusion + sinks)",
    "territory.perfusion_weighted_mean": "- (perfusion-weighted)",
    "extremes.supplies": "mmHg", "extremes.classes": "mL/min/100 mL",
}


def steady_metrics(case, domain: Domain, steady: SteadyState) -> dict:
    """The steady part of ``metrics.json``."""
    volumes = {c: int((domain.labels == domain.class_names.index(c)).sum()) * domain.voxel_volume
               for c in domain.present_classes}
    metrics = {
        "case": case.case.name,
        "grid": {"shape": list(domain.shape), "spacing_m": list(domain.spacing),
                 "voxel_volume_ml": domain.voxel_volume * 1e6},
        "class_volume_ml": {c: v * 1e6 for c, v in volumes.items()},
        "tissue_presets": {c: spec.preset for c, spec in case.tissue.items()
                           if spec.preset is not None and c in domain.present_classes},
        "tissue_sources": {c: dict(domain.tissue_sources[c]) for c in domain.present_classes},
        "perfusion_mean": _scaled(domain.class_means(steady.perfusion), PER_S_TO_ML_MIN_100ML),
        "perfusion_mean_by_supply": {
            name: _scaled(domain.class_means(s.perfusion), PER_S_TO_ML_MIN_100ML)
            for name, s in steady.supplies.items()},
        "ifp_mean": domain.class_means(steady.interstitial.pressure),
        "ifp_max": float(domain.backend.xp.max(steady.interstitial.pressure)),
        "conservation": {
            "perfusion_relative_error": {n: s.conservation_error for n, s in steady.supplies.items()},
            "interstitial_fluid_relative_error": steady.interstitial.balance_error,
        },
        "inflow_ml_min": {n: s.inflow * M3_S_TO_ML_MIN for n, s in steady.supplies.items()},
        "surface_outflow_ml_min": steady.interstitial.surface_outflow * M3_S_TO_ML_MIN,
        "calibration": {n: {**s.calibration, "beta_per_pa_s": s.beta,
                            "conductivity_m2_per_pa_s": s.conductivity}
                        for n, s in steady.supplies.items()},
        "solver": _solver_statistics(steady),
        "extremes": steady_extremes(case, domain, steady),
    }
    if steady.catheter_territory is not None:
        t = steady.catheter_territory
        metrics["territory"] = {
            "supply": t.supply, "catheter_flow_ml_min": t.catheter_flow * M3_S_TO_ML_MIN,
            "expected_flow_weighted_mean": t.expected_mean,
            "flow_weighted_mean": t.flow_weighted_mean,
            "perfusion_weighted_mean": t.perfusion_weighted_mean,
            "sink_flow_ml_min": t.sink_flow * M3_S_TO_ML_MIN,
            "min": t.bounds[0], "max": t.bounds[1],
            # the bound of w: 1, or the largest catheter weight a_t with streaming (σ > 1)
            "upper_bound": max([1.0, *steady.catheter.inlet_weights.values()]),
        }
        metrics["territory_mean"] = domain.class_means(steady.territory)
    return metrics


def _scaled(values: dict, factor: float) -> dict:
    return {k: v * factor for k, v in values.items()}


def _solver_statistics(steady: SteadyState) -> dict:
    solves = [r for s in steady.supplies.values() for r in s.reports]
    solves.append(steady.interstitial.report)
    return {
        "solves": [{"name": r.name, **r.summary()} for r in solves],
        "total_iterations": sum(r.iterations for r in solves),
    }


def residual_histories(steady: SteadyState) -> list[dict]:
    """Every solve's residual history (for ``solver_history.json``)."""
    solves = [r for s in steady.supplies.values() for r in s.reports]
    solves.append(steady.interstitial.report)
    return [{"name": r.name, "history": r.history} for r in solves]
