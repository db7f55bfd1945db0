"""Drug library: transport, cellular uptake and systemic PK of a 70 kg adult, in SI, sourced.

One ``Drug`` per drug, its published values with their sources, and ``get_drug`` to look one
up by name or alias. What the fields mean (symbols ``D``, ``P``, ``σ_f``, ``k_e``, ``U``,
``k_c``, ``CL``, ``V_1``, ``V_2``, ``k12``, ``k21``), what ``confirmed`` says, and how the
derived values are got (Swabb diffusivity, permeability scaling, the two-compartment
reductions ``biexponential`` / ``fast_exchange``) is in ``drug_model``.
"""
from __future__ import annotations

import difflib
import math

from .drug_regional import with_regional
from .drug_model import (BODY_MASS, BODY_SURFACE, HOUR, LITRE, LN2, MINUTE, ML, NG,
                         P_DOXORUBICIN, UG, Drug, Sourced, TypicalDose, WellMixedLiver,
                         biexponential, fast_exchange, scaled_permeability, swabb,
                         swabb_diffusivity)

# The public face of the library: callers import the types and the Swabb law from here too.
__all__ = ["ALIASES", "DRUGS", "Drug", "Sourced", "drugs_closest_first", "get_drug",
           "swabb_diffusivity"]

NO_SOLVENT_DRAG = Sourced(0.0, "assumed: solutes < 1 kDa are not sieved by vessel-wall pores "
                          "(σ_f ≈ 0)", confirmed=False)
NONE = Sourced(0.0, "assumed: none (no source for a local rate)", confirmed=False)
NO_UPTAKE = dict(uptake="none", uptake_rate=None, release_rate=None, max_uptake_rate=None,
                 extracellular_affinity=None, intracellular_affinity=None)

EL_KAREH = "El-Kareh & Secomb 2000 Neoplasia 2:325 (as compiled in the project's design notes; not re-checked)"
TUMOUR_CELL_DENSITY = 6.0e14  # cells/m³ = 6e8 cells/mL
_CELL_DENSITY_NOTE = ("converted with 6e8 cells/mL: cells fill 1 − v_e = 0.6 of tumour at "
                      "~1000 µm³ per cell (assumed; El-Kareh & Secomb's own value not re-checked)")
_PER_1E5_CELLS = TUMOUR_CELL_DENSITY / 1.0e5  # (1e5-cell units)/m³
DOX_LABEL = ("doxorubicin HCl US prescribing information §12.3 (Pfizer): CL 324–809 "
             "mL/min/m², V_ss 809–1214 L/m², distribution t½ ≈ 5 min, terminal t½ 20–48 h; "
             "geometric means × 1.8 m²")

doxorubicin = Drug(
    name="doxorubicin", molecular_weight=543.52,
    typical_dose=TypicalDose(60, 75, "mg/m^2", "doxorubicin HCl US prescribing information "
                             "§2: 60–75 mg/m² i.v. every 21 days as a single agent"),
    diffusivity=swabb(543.52),
    permeability=Sourced(P_DOXORUBICIN, EL_KAREH + "; secondary sources quote 1e-6–3e-6 m/s",
                         confirmed=False),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "assumed: no extracellular loss in tissue (metabolism is "
                             "hepatic, in CL)", confirmed=False),
    uptake="saturable", uptake_rate=None, release_rate=None,
    max_uptake_rate=Sourced(0.28 * NG / MINUTE * _PER_1E5_CELLS,
                            f"V_max 0.28 ng/(1e5 cells·min), {EL_KAREH}; {_CELL_DENSITY_NOTE}",
                            confirmed=False),
    extracellular_affinity=Sourced(0.219 * UG / ML, f"K_e 0.219 µg/mL, {EL_KAREH}",
                                   confirmed=False),
    intracellular_affinity=Sourced(1.37 * NG * _PER_1E5_CELLS,
                                   f"K_i 1.37 ng/1e5 cells, {EL_KAREH}; {_CELL_DENSITY_NOTE}",
                                   confirmed=False),
    cell_elimination_rate=Sourced(0.0, "assumed: cell-bound drug retained over the run",
                                  confirmed=False),
    **biexponential(math.sqrt(324 * 809) * ML / MINUTE * BODY_SURFACE,
                     math.sqrt(809 * 1214) * LITRE * BODY_SURFACE,
                     5 * MINUTE, math.sqrt(20 * 48) * HOUR, DOX_LABEL),
    notes="Disposition is tri-exponential; reduced to two compartments that keep CL, V_ss, the "
          "~5 min distribution and a 31 h terminal half-life, so the intermediate phase is "
          "lumped. V_2 (~1760 L) reflects tissue binding. 75 % plasma-protein bound (label); "
          "c_p here is total plasma drug.")

DDP_MODEL = ("'Physiological pharmacokinetic modeling of cis-dichlorodiammineplatinum(II) (DDP) "
             "in several species', J Pharmacokinet Biopharm, doi 10.1007/BF01065258")
cisplatin = Drug(
    name="cisplatin", molecular_weight=300.05,
    typical_dose=TypicalDose(50, 100, "mg/m^2", "cisplatin US prescribing information §2: "
                             "50–70 mg/m² per cycle (bladder), 75–100 mg/m² (ovarian)"),
    diffusivity=swabb(300.05), permeability=scaled_permeability(300.05),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "assumed: local loss is covalent binding (uptake below)",
                             confirmed=False),
    uptake="linear",
    uptake_rate=Sourced(0.006 / MINUTE, f"{DDP_MODEL}: fixed-metabolite formation 0.004–0.008 "
                        "/min measured in plasma; applied to tissue (rates are tissue-specific)",
                        confirmed=False),
    release_rate=Sourced(0.0, f"binding is irreversible ({DDP_MODEL}); label: Pt retained in "
                         "tissues up to 180 days"),
    max_uptake_rate=None, extracellular_affinity=None, intracellular_affinity=None,
    cell_elimination_rate=Sourced(0.0, "bound Pt retained (label: up to 180 days)"),
    **fast_exchange(15.5 * LITRE / HOUR * BODY_SURFACE, 11.5 * LITRE * BODY_SURFACE,
                     "cisplatin US label (rxlist clinical pharmacology): total-body CL 15–16 "
                     "L/h/m², V_ss 11–12 L/m², monoexponential t½ 20–30 min; × 1.8 m²"),
    notes="Intact (ultrafilterable) cisplatin. Protein-bound platinum (≈90 % of plasma Pt at "
          "3 h, t½ ≥ 5 days) is inactive and not modelled. c_c is covalently bound drug.")

fluorouracil = Drug(
    name="5-fluorouracil", molecular_weight=130.08,
    diffusivity=swabb(130.08), permeability=scaled_permeability(130.08),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "assumed: DPD catabolism (mainly hepatic) is inside CL",
                             confirmed=False),
    **NO_UPTAKE,
    cell_elimination_rate=NONE,
    **fast_exchange(48.0 * LITRE / HOUR * BODY_SURFACE, 17.3 * LITRE * BODY_SURFACE,
                     "Clin Cancer Res, Table 3 'Pharmacokinetic parameters of 5-FU in 115 "
                     "colorectal cancer patients after the first dose' (no-recurrence group, "
                     "mean CL 48.0 L/h/m², Vd 17.3 L/m², t½ 0.25 h); × 1.8 m² → 1.44 L/min"),
    notes="Elimination is saturable (label: t½ 8–22 min, dose dependent); modelled linear with "
          "CL 1.44 L/min (bolus 370–600 mg/m² range). Hepatic extraction acts through the "
          "liver's metabolism (hepatic_extraction, drug_regional). Tumour trapping not "
          "modelled: a release half-life is published (Wolf, Presant et al. 1990 PNAS 87:492, "
          "abstract read: 19F-MRS, free 5-FU trapped in the tumours of 4 of 6 patients with "
          "t½ 0.4–2.1 h vs 5–15 min in blood; VX2 rabbit tumours 1.05–1.22 h; normal tissue "
          "catabolises instead), but no uptake rate or retained fraction of the delivered "
          "drug, so k_in cannot be set; Peters et al. (abstract read: tumour 5-FU 0.17–21.6 "
          "µmol/kg from 1 to 48 h, tissue/plasma ≥ 10 at 4–48 h) shows a second, days-long "
          "pool that one linear pool with the MRS half-life would not hold.")

FUDR_CLEARANCE = 25.0 * LITRE / MINUTE
BADING_1994 = ("Bading JR, Sigurdson ER, Finn RD, Yeh SD, Ginos J, Kemeny NE, Larson SM 1994, "
               "'Transport limits cellular entry of hepatic arterially injected "
               "5-[18F]fluoro-2'-deoxyuridine in human intrahepatic tumors' (abstract read; "
               "journal not shown on the page read): 5 patients, HA bolus of [18F]FdUrd vs "
               "99mTc-DTPA; single-pass blood-into-cell extraction 0.56–0.96 (mean 0.78 ± 0.08) "
               "in tumours, 0.75–0.91 (0.87 ± 0.03) in liver; 18F lost from tumours and liver "
               "at similar rates, < 10 % left by 3.5 h")
#: Bading et al. 1994: mean single-pass blood-into-cell extraction of FdUrd in tumours.
FUDR_TUMOUR_CELL_EXTRACTION = 0.78
#: k_in [1/s]: the linear uptake that extracts that fraction in the library tumour's voxel
#: (uptake U = k_in v_e c_e has the form of the voxel's loss k v_e c_e; k_out = 0 on one pass).
FUDR_TUMOUR_UPTAKE = WellMixedLiver.of(scaled_permeability(246.19).value, 0.0,
                                       "tumor").elimination_for(FUDR_TUMOUR_CELL_EXTRACTION,
                                                                "floxuridine")
#: k_c [1/s]: < 10 % of the label left at 3.5 h (Bading et al. 1994), k_c = ln 10 / 3.5 h.
FUDR_POOL_LOSS = math.log(10.0) / (3.5 * HOUR)
floxuridine = Drug(
    name="floxuridine", molecular_weight=246.19,
    typical_dose=TypicalDose(0.1, 0.6, "mg/kg/day", "FUDR US prescribing information: 0.1–0.6 "
                             "mg/kg/day by continuous arterial infusion"),
    diffusivity=swabb(246.19), permeability=scaled_permeability(246.19),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "no loss outside metabolism: the hepatic extraction "
                             "(hepatic_extraction, drug_regional) acts through the "
                             "liver's metabolism of class normal (transport.metabolism)"),
    uptake="linear",
    uptake_rate=Sourced(FUDR_TUMOUR_UPTAKE, f"derived: k_in = E B/(A − E) of the library "
                        f"tumour's well-mixed voxel (drug_model.WellMixedLiver, tissue "
                        f"'tumor', F 20 mL/min/100 mL assumed: the patients' tumour "
                        f"perfusion is not in the abstract; exchange-limited here, "
                        f"E_RC = 1, so k_in ∝ F) with E = {FUDR_TUMOUR_CELL_EXTRACTION} = "
                        f"mean tumour blood-into-cell extraction; {BADING_1994}",
                        confirmed=False),
    release_rate=Sourced(0.0, "assumed: FdUrd is not released as FdUrd; the label leaves "
                         "cells as metabolites, set by k_c below (Bading et al. 1994 did "
                         "not identify the species lost)", confirmed=False),
    max_uptake_rate=None, extracellular_affinity=None, intracellular_affinity=None,
    cell_elimination_rate=Sourced(FUDR_POOL_LOSS, "derived: k_c = ln(1/0.10)/3.5 h (t½ = "
                                  "63 min), the slowest loss that leaves < 10 % of the "
                                  f"extracted label in tumour or liver by 3.5 h; {BADING_1994}",
                                  confirmed=False),
    **fast_exchange(FUDR_CLEARANCE, FUDR_CLEARANCE * 10.0 * MINUTE / LN2,
                     "total-body CL 25 L/min (Ensminger et al. 1978 Cancer Res 38:3784 as "
                     "tabulated by Ensminger & Gyves 1983 Pharmac Ther 21:277 and Collins 1984 J "
                     "Clin Oncol 2:498; widely quoted, tables not read here; plasma CL above "
                     "cardiac output: extrahepatic elimination); V = CL·t½/ln2 = 361 L with t½ ≈ "
                     "10 min (Intera Oncology HAI principles page); 'The physiologic disposition "
                     "of 5-FU and FUdR in man': FUdR clearance > 5-FU's", confirmed=False),
    notes="Hepatic extraction E = 0.95 acts on normal liver through the metabolism of "
          "free drug (CL_int from E with the model's own Renkin–Crone exchange, "
          "transport.metabolism); tumours metabolise nothing unless the case says so. "
          "Trapping: c_c is FdUrd taken into cells and anabolised (Bading et al. 1994: "
          "tumour blood-into-cell extraction 0.78); it applies in every perfused class, so "
          "in normal liver it adds ~1 % to the metabolism's k (≈ +0.0003 to E) and takes "
          "~1.3 % of what the liver extracts into the pool instead of the metabolism.")

MELPHALAN_LABEL = ("ALKERAN i.v. product monograph (CPS, rxmed): biexponential t½ ≈ 10 and 70 "
                   "min, total-body CL 7–9 mL/min/kg, V_ss 0.5 L/kg; mid CL 8 mL/min/kg × 70 kg")
melphalan = Drug(
    name="melphalan", molecular_weight=305.20,
    typical_dose=TypicalDose(16, 16, "mg/m^2", "ALKERAN i.v. label: 16 mg/m² per dose "
                             "(myeloma); intra-arterial chemosurgery of retinoblastoma uses "
                             "3–7.5 mg in total"),
    diffusivity=swabb(305.20), permeability=scaled_permeability(305.20),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(LN2 / (70 * MINUTE), "derived: ln2/70 min; label: eliminated from "
                             "plasma primarily by chemical hydrolysis; 'Kinetics of intravenous "
                             "melphalan': spontaneous degradation sets t½β; tissue rate assumed "
                             "equal", confirmed=False),
    **NO_UPTAKE,
    cell_elimination_rate=NONE,
    **biexponential(8.0 * ML / MINUTE * BODY_MASS, 0.5 * LITRE * BODY_MASS,
                     10 * MINUTE, 70 * MINUTE, MELPHALAN_LABEL),
    notes="Cellular uptake (amino-acid transporters) not modelled: no linear rate found. "
          "Oral t½ 1.5 h (US label); i.v. t½β 108 ± 21 min in 'Kinetics of intravenous "
          "melphalan'. Hydrolysis in tissue double-counts a little of CL inside the region.")

carboplatin = Drug(
    name="carboplatin", molecular_weight=371.25,
    diffusivity=swabb(371.25), permeability=scaled_permeability(371.25),
    solvent_drag_reflection=NO_SOLVENT_DRAG, elimination_rate=NONE,
    **NO_UPTAKE,
    cell_elimination_rate=NONE,
    **fast_exchange((100.0 + 25.0) * ML / MINUTE, 16.0 * LITRE,
                     "Calvert et al. 1989 J Clin Oncol 7:1748: CL = GFR + 25 mL/min, GFR 100 "
                     "mL/min assumed; V 16 L (label; Gaver et al., 'The disposition of "
                     "carboplatin in ovarian cancer patients')"),
    notes="Label (CrCl ≥ 60 mL/min): CL 4.4 L/h, t½α 1.1–2 h, t½β 2.6–5.9 h; those patients "
          "had lower GFR than assumed here, so the terminal t½ (~1.6 h) is shorter. Binding "
          "to tissue (slower aquation than cisplatin) not modelled: no rate found.")

tracer = Drug(
    name="tracer", molecular_weight=547.57,
    diffusivity=swabb(547.57), permeability=scaled_permeability(547.57),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "inert extracellular tracer (Gd-DTPA label: no "
                             "biotransformation)"),
    **NO_UPTAKE,
    cell_elimination_rate=Sourced(0.0, "no uptake"),
    **fast_exchange(120.0 * ML / MINUTE, 0.266 * LITRE * BODY_MASS,
                     "Magnevist (gadopentetate) US label: renal CL 1.76 mL/min/kg (≈ GFR), Vd "
                     "266 mL/kg = extracellular water, t½ 0.2 h / 1.6 h; CL = GFR 120 mL/min"),
    notes="Generic small hydrophilic extracellular tracer modelled on Gd-DTPA (MW of "
          "gadopentetic acid; the dimeglumine salt is 938 g/mol). Terminal t½ here 1.95 h vs "
          "1.6 ± 0.13 h in the label (label plasma CL 1.94 mL/min/kg ≈ 136 mL/min).")

EHRSSON_2002 = ("Ehrsson, Wallin & Yachnin 2002 Med Oncol 19:261: intact (free) oxaliplatin in "
                "blood ultrafiltrate, 10 patients, 85 mg/m² over 2 h: CL 32.1 ± 4.2 L/h/m², V_ss "
                "0.26 ± 0.06 L/kg, t½ 14.1 min (10.2–24.5); × 1.8 m², × 70 kg")
oxaliplatin = Drug(
    name="oxaliplatin", molecular_weight=397.29,
    typical_dose=TypicalDose(85, 130, "mg/m^2", "oxaliplatin US prescribing information §2: "
                             "85 mg/m² every 2 weeks (FOLFOX); 130 mg/m² every 3 weeks is also "
                             "used"),
    diffusivity=swabb(397.29), permeability=scaled_permeability(397.29),
    solvent_drag_reflection=NO_SOLVENT_DRAG,
    elimination_rate=Sourced(0.0, "assumed: no local rate found (degradation in whole blood "
                             "sets CL, Ehrsson et al. 2002)", confirmed=False),
    **NO_UPTAKE,
    cell_elimination_rate=NONE,
    **fast_exchange(32.1 * LITRE / HOUR * BODY_SURFACE, 0.26 * LITRE * BODY_MASS, EHRSSON_2002),
    notes="Intact oxaliplatin (the reactive species that bind DNA form from it). The label's "
          "ultrafilterable-platinum PK (V 440 L, t½ 0.43/16.8/391 h) describes platinum "
          "species, not the drug. Covalent tissue binding not modelled: no rate found.")

# Irinotecan is not in the library: it is a prodrug whose activity is SN-38, formed by
# carboxylesterases (mainly hepatic) and glucuronidated by UGT1A1 with enterohepatic
# recycling; the model has no parent→metabolite conversion to carry SN-38.

DRUGS: dict[str, Drug] = {d.name: with_regional(d) for d in (
    doxorubicin, cisplatin, fluorouracil, floxuridine, melphalan, carboplatin, tracer,
    oxaliplatin)}

ALIASES: dict[str, str] = {
    "5-fu": "5-fluorouracil", "5fu": "5-fluorouracil", "fluorouracil": "5-fluorouracil",
    "fudr": "floxuridine", "fdurd": "floxuridine", "5-fudr": "floxuridine",
    "fluorodeoxyuridine": "floxuridine", "adriamycin": "doxorubicin", "dox": "doxorubicin",
    "cddp": "cisplatin", "paraplatin": "carboplatin", "l-pam": "melphalan",
    "alkeran": "melphalan", "gd-dtpa": "tracer", "gadopentetate": "tracer",
    "eloxatin": "oxaliplatin", "l-ohp": "oxaliplatin",
}


def get_drug(name: str) -> Drug:
    """The library drug called ``name`` (case-insensitive; aliases such as ``"5-FU"``).

    Raises ``KeyError`` naming the available drugs when there is none.

    Examples
    --------
    >>> get_drug("5-FU").name
    '5-fluorouracil'
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in DRUGS:
        ranked, close = drugs_closest_first(name), _close(name)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise KeyError(f"no drug {name!r} in the library; {hint}library drugs, closest first: "
                       f"{', '.join(ranked)} (aliases: {', '.join(ALIASES)})")
    return DRUGS[key]


def drugs_closest_first(name: str) -> list[str]:
    """The library's drug names, those closest to ``name`` (or to one of their aliases) first.

    Examples
    --------
    >>> drugs_closest_first("doxorubicine")[0]
    'doxorubicin'
    """
    close = _close(name)
    return close + [drug for drug in DRUGS if drug not in close]


def _close(name: str) -> list[str]:
    """Library drugs whose name or alias is close to ``name`` (difflib), closest first."""
    matches = difflib.get_close_matches(name.strip().lower(), [*DRUGS, *ALIASES], n=5, cutoff=0.6)
    return list(dict.fromkeys(ALIASES.get(match, match) for match in matches))
