"""The embolised steady state in ``metrics.json`` (docs/model.md §8.3): ``embolization``.

At ``time_s`` the catheterised supply ``s`` has ``K_s``, ``β_s`` (and the catheterised
fixed-flow inlets' flows ``Q_i``) multiplied by ``factor`` where the catheter share
``w > territory_threshold``, and is re-solved. The block holds the steady metrics of the
re-solved state that change (``perfusion_mean``, ``perfusion_mean_by_supply`` [mL/min/100 mL],
``inflow_ml_min``, ``conservation``, ``territory``, ``territory_mean`` and the ``solver``
report of every solve of that state), and the flow through the catheterised inlets before and
after, ``catheter_flow_ml_min`` = ``Q_cath = Σ_cath Q_i`` [mL/min] (with fixed-flow inlets
``after = factor × before``), with ``catheter_flow_ratio = after / before``.
"""
from __future__ import annotations

from ..library.units import M3_S_TO_ML_MIN
from .metrics import steady_metrics

#: The steady metrics that embolisation changes (the interstitial fields are not re-solved).
CHANGED = ("perfusion_mean", "perfusion_mean_by_supply", "inflow_ml_min", "conservation",
           "territory", "territory_mean", "solver")


def embolization_metrics(case, domain, steady, embolized) -> dict:
    """The ``embolization`` block: the re-solved state's metrics and the catheter flow drop."""
    spec = case.embolization
    after = steady_metrics(case, domain, embolized)
    before_flow = steady.catheter_territory.catheter_flow * M3_S_TO_ML_MIN
    after_flow = embolized.catheter_territory.catheter_flow * M3_S_TO_ML_MIN
    return {
        "time_s": spec.time, "factor": spec.factor,
        "territory_threshold": spec.territory_threshold,
        "supply": embolized.catheter_territory.supply,
        "catheter_flow_ml_min": {"before": before_flow, "after": after_flow},
        "catheter_flow_ratio": after_flow / before_flow,
        **{key: after[key] for key in CHANGED if key in after},
    }
