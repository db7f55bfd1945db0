"""The steady stage: every supply's pressure and perfusion, the catheter territory, IFP.

``solve_steady(case, domain)`` returns a :class:`SteadyState`. Total perfusion
``F = Σ_s F_s``; the combined territory is the catheter's share of each voxel's plasma,
``(F_cath_supply / F) · w`` (docs/model.md §4), defined where ``F > 0``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from ..domain import Domain
from .interstitial import InterstitialField, solve_interstitial
from ..library.tissues import BLOOD_DEFAULTS
from .supply import SupplyField, solve_supply
from .territory import Territory, solve_territory
from ..vascular.catheter import place_catheter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SteadyState:
    """Perfusion, territory and interstitial fluid of a case."""

    supplies: dict[str, SupplyField]
    perfusion: object                   # F = Σ F_s [1/s]
    territory: object | None            # catheter share of the plasma [-]
    catheter_territory: Territory | None
    catheter: object | None             # CatheterPlacement (which inlets, which vessel)
    interstitial: InterstitialField
    venous_pressure: float
    hematocrit: float


def solve_steady(case, domain: Domain) -> SteadyState:
    """Solve the steady fields of ``case`` on ``domain``."""
    xp = domain.backend.xp
    venous = case.blood.venous_pressure
    venous = BLOOD_DEFAULTS["venous_pressure"].value if venous is None else venous
    hematocrit = case.blood.hematocrit
    hematocrit = BLOOD_DEFAULTS["hematocrit"].value if hematocrit is None else hematocrit
    supplies = {}
    for index, spec in enumerate(case.supplies):
        log.info("solving supply %s", spec.name)
        supplies[spec.name] = solve_supply(case, domain, index, venous)
    total = sum(s.perfusion for s in supplies.values())
    territory, catheter = None, None
    placement = place_catheter(case, domain, supplies)
    if placement is not None:
        supply = supplies[placement.supply]
        catheter = solve_territory(supply, placement.inlet_weights, domain.backend,
                                   domain.voxel_volume)
        share = xp.where(total > 0, supply.perfusion / xp.where(total > 0, total, 1), 0)
        territory = share * catheter.fraction
    log.info("solving interstitial fluid pressure")
    interstitial = solve_interstitial(case, domain)
    return SteadyState(supplies=supplies, perfusion=total, territory=territory,
                       catheter_territory=catheter, catheter=placement, interstitial=interstitial,
                       venous_pressure=venous, hematocrit=hematocrit)
