"""What a library drug holds and how its values are derived from published data, in SI.

``Drug`` holds one drug's parameters, each a ``Sourced`` value; the functions here turn the
quantities sources report (molecular weight, label PK, extraction) into those parameters.
The drugs themselves are in ``drugs``.

Symbols (docs/model.md §6, §7): ``D`` interstitial diffusivity, ``P`` vessel-wall permeability
(``PS/V = P·S/V``), ``σ_f`` solvent-drag reflection, ``k_e`` loss of free extracellular drug in
tissue, uptake ``U = k_in v_e c_e − k_out c_c`` (linear) or
``U = V_max [c_e/(c_e + v_e K_e) − c_c/(c_c + K_i)]`` (saturable, El-Kareh & Secomb 2000),
``k_c`` decay of cell-bound drug; body: ``CL``, ``V_1``, ``V_2``, ``k12``, ``k21``
(plasma concentrations, ``k12 V_1 = k21 V_2``).

``Sourced.confirmed`` is True where the number, or every input of its stated derivation, was
read in the cited source during this project; False where it is quoted second-hand (e.g. from
the project's parameter notes, docs/model.md §9), assumed, or rests on a modelling choice. Check unconfirmed values before relying
on them. Body: 70 kg, BSA 1.8 m² (assumed, to turn per-m²/per-kg values into totals).

Two-compartment reductions (stated per drug):

- ``biexponential``: a label gives CL, V_ss and distribution/terminal half-lives; V_1, V_2,
  k12, k21 follow exactly (``α+β = k10+k12+k21``, ``αβ = k10 k21``, ``V_ss = V_1(1 + k12/k21)``).
- ``fast_exchange``: the source describes a (near) one-compartment decay (CL, V); we set
  V_1 = plasma volume 3 L, V_2 = V − V_1, and an exchange ten times faster than elimination
  (``k21 = 10 CL/V``), which keeps the terminal half-life within ~10 % of ``ln2 V/CL``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .tissues import BLOOD_DEFAULTS, TISSUE_DEFAULTS

MINUTE, HOUR = 60.0, 3600.0
LITRE, ML = 1.0e-3, 1.0e-6                      # m³
UG, NG = 1.0e-9, 1.0e-12                        # kg
BODY_MASS, BODY_SURFACE = 70.0, 1.8             # kg, m² (assumed adult)
PLASMA_VOLUME = 3.0 * LITRE                     # ~43 mL/kg plasma of a 70 kg adult (assumed)
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Sourced:
    """A value in SI with its source (citation or derivation)."""

    value: float
    source: str
    confirmed: bool = True


@dataclass(frozen=True)
class Drug:
    """One library drug (docs/model.md §6, §7); every number in SI except the molecular weight."""

    name: str
    molecular_weight: float                 # g/mol
    diffusivity: Sourced                    # m²/s
    permeability: Sourced                   # m/s
    solvent_drag_reflection: Sourced        # -
    elimination_rate: Sourced               # 1/s
    uptake: str                             # "none" | "linear" | "saturable"
    uptake_rate: Sourced | None             # k_in, 1/s
    release_rate: Sourced | None            # k_out, 1/s
    max_uptake_rate: Sourced | None         # V_max, kg/(m³·s)
    extracellular_affinity: Sourced | None  # K_e, kg/m³
    intracellular_affinity: Sourced | None  # K_i, kg/m³ per tissue volume
    cell_elimination_rate: Sourced          # k_c, 1/s
    clearance: Sourced                      # m³/s
    central_volume: Sourced                 # m³
    peripheral_volume: Sourced              # m³
    k12: Sourced                            # 1/s
    k21: Sourced                            # 1/s
    notes: str = ""
    typical_dose: TypicalDose | None = None  # per infusion cycle (or a rate), for warnings
    # Whole-body/regional pharmacology (None: not given; ``notes`` says why). ``clearance``
    # above is the published total-body clearance CL_TB.
    blood_to_plasma: Sourced | None = None              # R_b = C_blood/C_plasma; None: 1 − Hct
    unbound_fraction: Sourced | None = None             # f_u in plasma, reported
    hepatic_extraction: Sourced | None = None           # E, at the perfusion below
    hepatic_extraction_perfusion: Sourced | None = None  # F (blood) at which E holds, 1/s
    metabolism_max_rate: Sourced | None = None          # hepatic V_max, kg/(m³·s)
    metabolism_affinity: Sourced | None = None          # hepatic K_m, kg/m³


@dataclass(frozen=True)
class TypicalDose:
    """The usual clinical dose of a drug, in ``unit``: per cycle (``"mg/m^2"``, ``"mg/kg"``,
    ``"mg"``) or, with a time in the unit, a rate (``"mg/kg/day"``)."""

    low: float
    high: float
    unit: str
    source: str


SWABB_COEFFICIENT = 1.778e-8  # m²/s at MW = 1 g/mol, exponent −0.75 (Swabb et al. 1974)


def swabb_diffusivity(molecular_weight: float) -> float:
    """Tissue diffusivity from Swabb, Wei & Gullino 1974: ``D = 1.778e-8 MW^-0.75`` m²/s.

    Examples
    --------
    >>> f"{swabb_diffusivity(543.5):.3g}"
    '1.58e-10'
    """
    return SWABB_COEFFICIENT * molecular_weight ** -0.75


def swabb(mw: float) -> Sourced:
    """``swabb_diffusivity`` of molecular weight ``mw`` with its source."""
    return Sourced(swabb_diffusivity(mw), f"derived: Swabb et al. 1974 Cancer Res 34:2814, "
                   f"D = 1.778e-8·MW^-0.75 m²/s at MW {mw:g} (coefficient as compiled in the "
                   "project's design notes; original not re-checked)", confirmed=False)


#: Doxorubicin vessel-wall permeability (docs/model.md §9.3, after El-Kareh & Secomb 2000).
P_DOXORUBICIN = 2.7e-6


def scaled_permeability(mw: float) -> Sourced:
    """P of a small hydrophilic solute scaled from doxorubicin by its diffusivity (P ∝ D)."""
    ratio = swabb_diffusivity(mw) / swabb_diffusivity(543.52)
    return Sourced(P_DOXORUBICIN * ratio, f"derived: doxorubicin P 2.7e-6 m/s × D/D_dox = "
                   f"{ratio:.2f} (free diffusion through large pores, P ∝ D); no direct "
                   "measurement found", confirmed=False)


def _pk(cl, v1, v2, k12, k21, source, split, confirmed=True, split_confirmed=True):
    """The five systemic fields as ``Sourced``; ``split`` says how V_1, V_2, k12, k21 were got."""
    parts = dict(central_volume=v1, peripheral_volume=v2, k12=k12, k21=k21)
    return dict(clearance=Sourced(cl, source, confirmed),
                **{k: Sourced(v, split, split_confirmed and confirmed) for k, v in parts.items()})


def biexponential(cl, vss, t_alpha, t_beta, source, confirmed=True):
    """Exact two-compartment PK from CL, V_ss and the two half-lives (module docstring)."""
    alpha, beta = LN2 / t_alpha, LN2 / t_beta
    excess = cl * (1.0 / alpha + 1.0 / beta) - vss
    v1 = cl * cl / (alpha * beta * excess) if excess > 0 else math.inf
    if not 0.0 < v1 < vss:
        raise ValueError(f"no two-compartment model has CL={cl}, Vss={vss}, t½ {t_alpha}/{t_beta}")
    k21 = alpha * beta * v1 / cl
    k12 = k21 * (vss - v1) / v1
    derivation = (f"{source}; two compartments matching CL, V_ss, t½α {t_alpha / MINUTE:.3g} min "
                  f"and t½β {t_beta / HOUR:.3g} h exactly")
    return _pk(cl, v1, vss - v1, k12, k21, source, derivation, confirmed, confirmed)


def fast_exchange(cl, volume, source, confirmed=True, factor=10.0):
    """Two-compartment PK from one-compartment data: V_1 = plasma, fast exchange."""
    k21 = factor * cl / volume
    v2 = volume - PLASMA_VOLUME
    k12 = k21 * v2 / PLASMA_VOLUME
    split = (f"derived from V = {volume / LITRE:.3g} L: V_1 = plasma volume 3 L (assumed), "
             f"V_2 = V − V_1, exchange k21 = {factor:g}·CL/V (assumed; source reports a "
             "one-compartment decay)")
    return _pk(cl, PLASMA_VOLUME, v2, k12, k21, source, split, confirmed, False)


@dataclass(frozen=True)
class WellMixedLiver:
    """Steady exchange coefficients of one well-mixed voxel of library liver parenchyma,
    and the loss rate of free drug ``k`` that gives a measured organ extraction.

    ``plasma_flow`` ``F_p = (1 − Hct) F`` [1/s]; ``renkin_crone`` ``E_RC = 1 − exp(−PS/F_p)``;
    ``drag_in``/``drag_out`` ``(1 − σ_f) J_v^±``, ``lymph`` ``ℓ`` [1/s]; ``v_e`` [-].

    The model's own exchange (``transport.exchange``, docs/model.md §6.2) at steady state in one
    well-mixed voxel (no gradients, so no diffusion or interstitial advection), no uptake:

        0 = (F_p E_RC + d⁺) c_p − (F_p E_RC + d⁻ + ℓ) c_e − v_e k_e c_e
        E_RC = 1 − exp(−PS/F_p),  PS = P·S/V,  F_p = (1 − Hct) F,
        d^± = (1 − σ_f) max(±J_v, 0),  ℓ = max(L_pLS_L/V (p_i − p_L), 0),

    with the voxel's interstitial fluid balanced locally (``J_v = ℓ``):
    ``J_v = L_pS/V (p_c − p_i − σ_T(π_v − π_i))``, so
    ``p_i = (L_pS/V (p_c − σ_TΔπ) + L_pLS_L/V p_L) / (L_pS/V + L_pLS_L/V)``.
    The drug that enters is ``F_p c_p`` (arterial plasma; ``F_p`` is the R_b-weighted blood
    flow for a drug with a blood-to-plasma ratio, docs/model.md §6.2); what leaves to the body is the venous plasma and the
    lymph; the rest, ``v_e k_e c_e``, is eliminated. The organ extraction is therefore

        E = v_e k_e c_e / (F_p c_p) = A k_e / (B + k_e),
        A = E_RC + d⁺/F_p,  B = (F_p E_RC + d⁻ + ℓ)/v_e,

    linear in ``c_p``, and inverts in closed form to ``k_e = E B / (A − E)``. No ``k_e``
    reaches ``E ≥ A`` (exchange-limited): that raises ``ValueError`` naming the drug and the
    PS it would need, ``PS > −F_p ln(1 − (E − d⁺/F_p))``. Flow-limited exchange (E_RC = 1,
    no drag/lymph) recovers the old ``k_e = F_p E/(v_e (1 − E))``, which underestimates
    ``k_e`` whenever PS/F_p is finite.

    The extraction is taken at the library's normal-tissue liver perfusion F = 100 mL/min/100
    mL (``TISSUE_DEFAULTS``; liver 100–130 mL/min/100 g, docs/model.md §9), v_e, S/V, L_p, lymph
    and Hct. The sources of E (e.g. Ensminger et al. 1978 for FUDR) measured it in patients during
    hepatic arterial infusion at their own (unreported here) hepatic flow; a region perfused
    differently extracts differently (E rises as F falls).

    Examples
    --------
    >>> liver = WellMixedLiver.of(4.89e-6)
    >>> round(liver.extraction(liver.elimination_for(0.95, "x")), 12)
    0.95
    """

    plasma_flow: float
    permeability_surface: float
    renkin_crone: float
    drag_in: float
    drag_out: float
    lymph: float
    v_e: float

    @classmethod
    def of(cls, permeability: float, solvent_drag_reflection: float = 0.0,
           tissue: str = "normal") -> "WellMixedLiver":
        """The voxel of ``tissue`` (library defaults) for a drug of wall permeability P."""
        t = {k: d.value for k, d in TISSUE_DEFAULTS[tissue].items()}
        return cls.from_tissue(t, permeability, solvent_drag_reflection,
                               BLOOD_DEFAULTS["hematocrit"].value)

    @classmethod
    def from_tissue(cls, t: dict, permeability: float, solvent_drag_reflection: float,
                    hematocrit: float, perfusion: float | None = None) -> "WellMixedLiver":
        """The voxel of a resolved tissue property set ``t`` (SI), at ``perfusion`` [1/s]
        (default ``t["perfusion"]``)."""
        perfusion = t["perfusion"] if perfusion is None else perfusion
        plasma_flow = (1.0 - hematocrit) * perfusion
        ps = permeability * t["vascular_surface_density"]
        filtration_coefficient = t["vessel_wall_conductivity"] * t["vascular_surface_density"]
        lymph_conductance = t["lymphatic_conductance"]
        effective = t["capillary_pressure"] - t["osmotic_reflection"] * (
            t["plasma_oncotic_pressure"] - t["interstitial_oncotic_pressure"])
        # no interstitial flow divergence in a well-mixed voxel: filtration J_v = lymph ℓ
        conductance = filtration_coefficient + lymph_conductance
        ifp = ((filtration_coefficient * effective + lymph_conductance * t["lymphatic_pressure"])
               / conductance if conductance > 0 else t["lymphatic_pressure"])
        filtration = filtration_coefficient * (effective - ifp)
        transmission = 1.0 - solvent_drag_reflection
        return cls(plasma_flow=plasma_flow, permeability_surface=ps,
                   renkin_crone=-math.expm1(-ps / plasma_flow),
                   drag_in=transmission * max(filtration, 0.0),
                   drag_out=transmission * max(-filtration, 0.0),
                   lymph=max(lymph_conductance * (ifp - t["lymphatic_pressure"]), 0.0),
                   v_e=t["extracellular_fraction"])

    @property
    def _inflow(self) -> float:          # A = (F_p E_RC + d⁺)/F_p
        return (self.plasma_flow * self.renkin_crone + self.drag_in) / self.plasma_flow

    @property
    def _return_rate(self) -> float:     # B = (F_p E_RC + d⁻ + ℓ)/v_e
        return (self.plasma_flow * self.renkin_crone + self.drag_out + self.lymph) / self.v_e

    def extraction(self, elimination_rate: float) -> float:
        """Overall extraction ``E(k_e) = A k_e / (B + k_e)``."""
        return self._inflow * elimination_rate / (self._return_rate + elimination_rate)

    def elimination_for(self, extraction: float, drug: str) -> float:
        """``k_e = E B / (A − E)``; ``ValueError`` naming the drug and the PS it needs when
        ``E ≥ A`` (no k_e reaches it)."""
        reachable = self._inflow
        if not 0.0 <= extraction < reachable:
            needed = extraction - self.drag_in / self.plasma_flow
            needed_ps = (math.inf if needed >= 1.0
                         else -self.plasma_flow * math.log1p(-needed))
            raise ValueError(
                f"{drug}: extraction {extraction:g} is unreachable with Renkin–Crone exchange "
                f"PS = {self.permeability_surface:.3g} 1/s at F_p = {self.plasma_flow:.3g} 1/s "
                f"(E_RC = {self.renkin_crone:.4f}; the most any k_e gives is {reachable:.4f}); "
                f"it needs PS > {needed_ps:.3g} 1/s (P·S/V)")
        return extraction * self._return_rate / (reachable - extraction)
