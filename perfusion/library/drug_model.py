"""What a library drug holds and how its values are derived from published data, in SI.

``Drug`` holds one drug's parameters, each a ``Sourced`` value; the functions here turn the
quantities sources report (molecular weight, label PK, extraction) into those parameters.
The drugs themselves are in ``drugs``.

Symbols (DESIGN §2.4–2.5): ``D`` interstitial diffusivity, ``P`` vessel-wall permeability
(``PS/V = P·S/V``), ``σ_f`` solvent-drag reflection, ``k_e`` loss of free extracellular drug in
tissue, uptake ``U = k_in v_e c_e − k_out c_c`` (linear) or
``U = V_max [c_e/(c_e + v_e K_e) − c_c/(c_c + K_i)]`` (saturable, El-Kareh & Secomb 2000),
``k_c`` decay of cell-bound drug; body: ``CL``, ``V_1``, ``V_2``, ``k12``, ``k21``
(plasma concentrations, ``k12 V_1 = k21 V_2``).

``Sourced.confirmed`` is True where the number, or every input of its stated derivation, was
read in the cited source during this project; False where it is quoted second-hand (e.g. from
DESIGN §2.7), assumed, or rests on a modelling choice. Check unconfirmed values before relying
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
    """One library drug (DESIGN §2.4, §2.5); every number in SI except the molecular weight."""

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
                   f"D = 1.778e-8·MW^-0.75 m²/s at MW {mw:g} (coefficient as quoted in DESIGN "
                   "§2.7, original not re-checked)", confirmed=False)


#: Doxorubicin vessel-wall permeability (DESIGN §2.7, after El-Kareh & Secomb 2000).
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


def hepatic_elimination(extraction: float) -> float:
    """k_e giving first-pass ``extraction`` in flow-limited, well-mixed liver parenchyma.

    Steady state per tissue volume: ``F_p (c_p − c_e) = v_e k_e c_e`` and ``E = 1 − c_e/c_p``
    give ``k_e = F_p E / (v_e (1 − E))`` with the library's normal-tissue F, v_e and Hct.
    """
    normal = TISSUE_DEFAULTS["normal"]
    plasma_flow = (1.0 - BLOOD_DEFAULTS["hematocrit"].value) * normal["perfusion"].value
    return plasma_flow * extraction / (normal["extracellular_fraction"].value * (1.0 - extraction))
