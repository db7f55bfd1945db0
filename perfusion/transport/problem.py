"""Everything the drug time loop needs that stays fixed while the perfusion does.

Plasma concentration per voxel (docs/model.md §6.1, quasi-steady blood):

    c_p = c_sys + (I_ia / Q_cath) · θ,    θ = (F_cath-supply / F) · w

``θ`` is the steady catheter territory (share of the voxel's plasma that came through the
catheter) and ``Q_cath = (1 − Hct) ∫ F_cath-supply w dV`` the plasma flow through the
catheterised inlets, taken from the same discrete fields so that ``∫F_p c_p dV = Q_p c_sys
+ I_ia`` holds exactly. ``PS = P · S/V``; total tissue concentration
``C_t = v_p c_p + m + c``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import pointwise, transport_rate
from .exchange import ExchangeCoefficients, TissuePointwise
from .operator import BoxTransport, TransportOperator
from .uptake import UptakeModel


@dataclass(frozen=True)
class TissueProblem:
    """Operators and coefficients of one perfusion state."""

    operator: TransportOperator
    stable_step: float
    exchange: ExchangeCoefficients
    uptake: UptakeModel
    territory: object             # θ [-]
    catheter_plasma_flow: float   # Q_cath [m³/s] (0 without catheter)
    plasma_flow: float            # Q_p [m³/s]
    plasma_fraction: object       # v_p
    #: NumPy fast paths of the pointwise step and the transport (None on the GPU)
    fast_pointwise: TissuePointwise | None = field(default=None, repr=False, compare=False)
    fast_transport: BoxTransport | None = field(default=None, repr=False, compare=False)

    def plasma_concentration(self, xp, systemic: float, arterial_rate: float):
        """c_p for a systemic concentration and an intra-arterial rate [kg/s]."""
        if arterial_rate == 0.0:
            return xp.full(self.territory.shape, systemic, dtype=self.territory.dtype)
        # Python floats, so that c_p has the working dtype of θ (a NumPy float64 scalar would
        # promote a float32 state to float64 through the pointwise step)
        return float(systemic) + float(arterial_rate / self.catheter_plasma_flow) * self.territory


def build_problem(domain, steady, drug, hematocrit: float) -> TissueProblem:
    """Assemble the tissue problem of ``drug`` on a steady state."""
    be, xp = domain.backend, domain.backend.xp
    prop = domain.property_field
    mask = domain.mask
    v_e = xp.where(mask, prop("extracellular_fraction"), 1)
    inverse_ve = xp.where(mask, 1 / v_e, 0)
    interstitial = steady.interstitial
    operator = TransportOperator.build(
        xp, prop("extracellular_fraction") * drug.diffusivity, mask, domain.spacing,
        interstitial.face_velocity, interstitial.surface_outflow_rate, v_e)
    plasma_perfusion = (1 - hematocrit) * steady.perfusion
    lymph_flow = prop("lymphatic_conductance") * (interstitial.pressure - prop("lymphatic_pressure"))
    exchange = ExchangeCoefficients.build(
        xp, plasma_perfusion, drug.permeability * prop("vascular_surface_density"),
        interstitial.filtration, lymph_flow, drug.solvent_drag_reflection,
        drug.elimination_rate, inverse_ve).astype(be.dtype)
    vascular = prop("vascular_surface_density") > 0
    uptake = UptakeModel(
        kind=drug.uptake, active=mask & vascular, cell_elimination=drug.cell_elimination_rate,
        uptake_rate=drug.uptake_rate, release_rate=drug.release_rate,
        max_rate=drug.max_uptake_rate, extracellular_affinity=drug.extracellular_affinity or 1.0,
        intracellular_affinity=drug.intracellular_affinity or 1.0, extracellular_fraction=v_e)
    if steady.territory is not None:
        territory = steady.territory
        catheter_flow = (1 - hematocrit) * be.sum(steady.perfusion * territory) * domain.voxel_volume
    else:
        territory, catheter_flow = xp.zeros_like(steady.perfusion), 0.0
    # the NumPy fast paths stand in for the references wherever the ops would run those
    fast = {"fast_pointwise": None if pointwise.on_gpu(exchange.inverse_ve)
            else TissuePointwise(exchange, uptake),
            "fast_transport": None if transport_rate.on_gpu(operator.inverse_ve)
            else BoxTransport(operator)}
    return TissueProblem(
        operator=operator, stable_step=operator.stable_step(xp), exchange=exchange, uptake=uptake,
        territory=territory, catheter_plasma_flow=catheter_flow,
        plasma_flow=be.sum(plasma_perfusion) * domain.voxel_volume,
        plasma_fraction=prop("plasma_fraction"), **fast)
