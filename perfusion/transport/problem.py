"""Everything the drug time loop needs that stays fixed while the perfusion does.

Plasma concentration per voxel (docs/model.md §6.1, quasi-steady blood):

    c_p = c_sys + (I_cath / Q_cath,eff) · θ,    θ = (F_cath-supply / F) · w

``θ`` is the steady catheter territory (share of the voxel's blood that came through the
catheter), ``I_cath`` the intra-arterial or portal-venous rate and ``Q_cath,eff = R_b ∫
F_cath-supply w dV`` the drug-carrying flow through the catheterised inlets, taken from the
same discrete fields so that ``∫F_eff c_p dV = Q_eff c_sys + I_cath`` holds exactly. Blood
carries drug at ``C_b = R_b c_p`` (``R_b`` blood-to-plasma ratio, fast red-cell equilibrium),
so every flow that carries drug is ``F_eff = R_b F``; plasma-only drugs (``R_b`` not given)
use ``F_eff = F_p = (1 − Hct) F``, computed exactly as such. ``PS = f_P · P · S/V`` (``f_P``
the class's permeability factor: 1 unless a preset or the case sets it, e.g. a BBB); total tissue
concentration ``C_t = v_b R_b c_p + m + c`` with ``v_b = v_p/(1 − Hct)`` the blood volume
fraction (``v_p c_p`` for plasma-only drugs).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import pointwise, transport_rate
from .exchange import ExchangeCoefficients, TissuePointwise
from .metabolism import metabolism_fields
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
    catheter_plasma_flow: float   # Q_cath,p = (1 − Hct) ∫F_cath w dV [m³/s] (0 without catheter)
    plasma_flow: float            # Q_p [m³/s]
    plasma_fraction: object       # v_p
    catheter_effective_flow: float   # Q_cath,eff = R_b ∫F_cath w dV [m³/s] (Q_cath,p by default)
    effective_flow: float            # Q_eff = ∫F_eff dV [m³/s] (Q_p by default)
    vascular_drug_fraction: object   # v_b R_b: vascular drug per c_p (v_p by default)
    blood_to_plasma: float           # R_b [-] (1 − Hct by default)
    #: NumPy fast paths of the pointwise step and the transport (None on the GPU)
    fast_pointwise: TissuePointwise | None = field(default=None, repr=False, compare=False)
    fast_transport: BoxTransport | None = field(default=None, repr=False, compare=False)

    def plasma_concentration(self, xp, systemic: float, arterial_rate: float):
        """c_p for a systemic concentration and a catheter (IA or PV) rate [kg/s]."""
        if arterial_rate == 0.0:
            return xp.full(self.territory.shape, systemic, dtype=self.territory.dtype)
        # Python floats, so that c_p has the working dtype of θ (a NumPy float64 scalar would
        # promote a float32 state to float64 through the pointwise step)
        scale = float(arterial_rate / self.catheter_effective_flow)
        return float(systemic) + scale * self.territory


def build_problem(domain, steady, drug, hematocrit: float, metabolism=None) -> TissueProblem:
    """Assemble the tissue problem of ``drug`` on a steady state; ``metabolism``: {class:
    ``metabolism.ClassMetabolism``} (docs/model.md §6.5), none by default."""
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
    plasma_only = drug.blood_to_plasma is None    # then F_eff is F_p, the same array
    blood_to_plasma = 1 - hematocrit if plasma_only else drug.blood_to_plasma
    effective_perfusion = plasma_perfusion if plasma_only else blood_to_plasma * steady.perfusion
    lymph_flow = prop("lymphatic_conductance") * (interstitial.pressure - prop("lymphatic_pressure"))
    exchange = ExchangeCoefficients.build(
        xp, effective_perfusion,
        drug.permeability * prop("permeability_factor") * prop("vascular_surface_density"),
        interstitial.filtration, lymph_flow, drug.solvent_drag_reflection,
        drug.elimination_rate, inverse_ve,
        *metabolism_fields(domain, metabolism or {}, v_e)).astype(be.dtype)
    vascular = prop("vascular_surface_density") > 0
    uptake = UptakeModel(
        kind=drug.uptake, active=mask & vascular, cell_elimination=drug.cell_elimination_rate,
        uptake_rate=drug.uptake_rate, release_rate=drug.release_rate,
        max_rate=drug.max_uptake_rate, extracellular_affinity=drug.extracellular_affinity or 1.0,
        intracellular_affinity=drug.intracellular_affinity or 1.0, extracellular_fraction=v_e)
    if steady.territory is not None:
        territory = steady.territory
        catheter_blood = be.sum(steady.perfusion * territory)
        catheter_flow = (1 - hematocrit) * catheter_blood * domain.voxel_volume
        catheter_effective = (catheter_flow if plasma_only
                              else blood_to_plasma * catheter_blood * domain.voxel_volume)
    else:
        territory, catheter_flow = xp.zeros_like(steady.perfusion), 0.0
        catheter_effective = 0.0
    plasma_fraction = prop("plasma_fraction")
    # v_b R_b = v_p R_b / (1 − Hct): plasma and red cells in the vascular space
    vascular_drug = (plasma_fraction if plasma_only
                     else plasma_fraction * (blood_to_plasma / (1 - hematocrit)))
    # the NumPy fast paths stand in for the references wherever the ops would run those; the
    # compiled pointwise kernel (ops.cpu_kernels) is faster than TissuePointwise, the compiled
    # transport rate on the whole grid slower than BoxTransport (benchmarks/RESULTS.md, issue 17)
    fast = {"fast_pointwise": None if pointwise.on_gpu(exchange.inverse_ve)
            or exchange.saturable is not None or pointwise.cpu_kernels()
            else TissuePointwise(exchange, uptake),
            "fast_transport": None if transport_rate.on_gpu(operator.inverse_ve)
            else BoxTransport(operator)}
    return TissueProblem(
        operator=operator, stable_step=operator.stable_step(xp), exchange=exchange, uptake=uptake,
        territory=territory, catheter_plasma_flow=catheter_flow,
        plasma_flow=be.sum(plasma_perfusion) * domain.voxel_volume,
        plasma_fraction=plasma_fraction, catheter_effective_flow=catheter_effective,
        effective_flow=be.sum(effective_perfusion) * domain.voxel_volume,
        vascular_drug_fraction=vascular_drug, blood_to_plasma=blood_to_plasma, **fast)
