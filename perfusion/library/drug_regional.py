"""Whole-body and regional pharmacology of the library drugs, sourced: R_b, f_u, E, V_max, K_m.

What the fields mean (``drug_model.Drug``, docs/model.md §6, §7):

- ``blood_to_plasma`` ``R_b = C_blood/C_plasma`` at equilibrium; ``None`` means plasma-only
  (the drug stays out of red cells, ``R_b = 1 − Hct``);
- ``unbound_fraction`` ``f_u`` of the plasma concentration (reported; c_p is total plasma drug);
- ``hepatic_extraction`` ``E = 1 − C_out/C_in`` of the liver at the (blood) perfusion
  ``hepatic_extraction_perfusion`` ``F`` [1/s] it was measured at, or that is assumed for it;
- ``metabolism_max_rate`` ``V_max`` [kg/(m³·s)] and ``metabolism_affinity`` ``K_m`` [kg/m³] of
  saturable hepatic metabolism ``R = V_max c/(K_m + c)`` per tissue volume.

A field a source does not give stays ``None`` and ``NOT_GIVEN`` says why; ``with_regional``
adds both to a drug (values to its fields, reasons to its ``notes``). Sources quoted from
memory of review tables or abstracts rather than read in the original carry
``confirmed=False``.

Saturable 5-FU metabolism (Robinson et al. 1988): the abstract reports ``V_max/Q`` (maximum
splanchnic elimination rate over hepatic blood flow, a concentration) and ``K_m`` (venous
equilibration model). Per tissue volume, ``V_max = (V_max/Q) · MW · F`` with ``F`` the
library's liver perfusion (an assumption: the patients' flow per liver volume is not in the
abstract).
"""
from __future__ import annotations

import dataclasses

from .drug_model import Drug, Sourced
from .tissues import TISSUE_DEFAULTS

#: Liver (blood) perfusion the library assumes for an extraction measured in patients whose
#: hepatic flow per liver volume was not reported: the normal-tissue default, 100 mL/min/100 mL.
LIBRARY_LIVER_PERFUSION = TISSUE_DEFAULTS["normal"]["perfusion"].value

REVIEW_TABLES = ("Ensminger & Gyves 1983 Pharmac Ther 21:277 and Collins 1984 J Clin Oncol "
                 "2:498 (tables of total-body clearance and hepatic extraction during hepatic "
                 "arterial infusion; values as widely quoted from those tables, the tables "
                 "themselves not read here)")
ROBINSON_1988 = ("Robinson et al. 1988 J Pharmacokinet Biopharm 16:229 (abstract, five patients: "
                 "V_max/Q = 41.0 ± 5.1 µM, K_m = 8.4 ± 1.3 µM, venous equilibration model; "
                 "splanchnic = liver + gut)")
NATH_2010 = ("Nath et al. 2010 Br J Clin Pharmacol (PMC2856049), population PK of 100 patients: "
             "total CL 27.8 L/h, unbound CL 128 L/h")


def _at_library_liver_perfusion(what: str) -> Sourced:
    return Sourced(LIBRARY_LIVER_PERFUSION, f"assumed: {what} was measured in patients whose "
                   "hepatic flow per liver volume is not reported; taken at the library liver "
                   "perfusion 100 mL/min/100 mL (liver 100–130 mL/min/100 g)", confirmed=False)


_FU_MW = 130.08e-3  # kg/mol

REGIONAL: dict[str, dict[str, Sourced]] = {
    "doxorubicin": dict(
        unbound_fraction=Sourced(0.25, "doxorubicin HCl US prescribing information §12.3: "
                                 "~75 % bound to plasma proteins", confirmed=False),
        hepatic_extraction=Sourced(0.475, f"mid of 0.45–0.50, {REVIEW_TABLES}",
                                   confirmed=False),
        hepatic_extraction_perfusion=_at_library_liver_perfusion("E")),
    "5-fluorouracil": dict(
        unbound_fraction=Sourced(0.9, "assumed from the commonly quoted 8–12 % plasma protein "
                                 "binding of 5-FU (original not read)", confirmed=False),
        hepatic_extraction=Sourced(0.5, "≈ 0.5 during hepatic arterial infusion (upper part of "
                                   "the 0.2–0.5 range quoted from Ensminger et al. 1978 Cancer "
                                   f"Res 38:3784; {REVIEW_TABLES})", confirmed=False),
        hepatic_extraction_perfusion=_at_library_liver_perfusion("E"),
        metabolism_max_rate=Sourced(41.0e-3 * _FU_MW * LIBRARY_LIVER_PERFUSION,
                                    f"derived: V_max = (V_max/Q)·MW·F = 41.0 µM × 130.08 g/mol "
                                    f"× 100 mL/min/100 mL (library liver F, assumed); "
                                    f"{ROBINSON_1988}", confirmed=False),
        metabolism_affinity=Sourced(8.4e-3 * _FU_MW, f"K_m 8.4 µM × 130.08 g/mol; "
                                    f"{ROBINSON_1988}", confirmed=True)),
    "floxuridine": dict(
        hepatic_extraction=Sourced(0.95, "0.94–0.99 during hepatic arterial infusion (Ensminger "
                                   f"et al. 1978 Cancer Res 38:3784; {REVIEW_TABLES})",
                                   confirmed=False),
        hepatic_extraction_perfusion=_at_library_liver_perfusion("E")),
    "melphalan": dict(
        unbound_fraction=Sourced(27.8 / 128.0, f"derived: f_u = CL_total/CL_unbound; {NATH_2010}"
                                 "; Gera et al. 1989 Cancer Chemother Pharmacol 23:76: serum "
                                 "binding about 90 %", confirmed=True)),
    "carboplatin": dict(
        unbound_fraction=Sourced(1.0, "carboplatin US label: carboplatin itself is not bound to "
                                 "plasma proteins (its platinum becomes bound over hours)",
                                 confirmed=False)),
    "tracer": dict(
        unbound_fraction=Sourced(1.0, "Magnevist (gadopentetate) US label: no protein binding",
                                 confirmed=False)),
}

#: Why a field is None, per drug ("R_b not given: …", "f_u not given: …", "E not given: …").
NOT_GIVEN: dict[str, str] = {
    "doxorubicin": "R_b not given: blood cells take up doxorubicin (Colombo et al. 1981 Eur J "
                   "Drug Metab Pharmacokinet 6:115) and release it slowly (isolated rat liver: "
                   "E 0.29 with red cells pre-equilibrated vs 0.59 without), so no equilibrium "
                   "ratio applies; plasma-only.",
    "cisplatin": "R_b not given: no equilibrium ratio of intact cisplatin found; red cells hold "
                 "platinum equal to only ~1 % of the dose and release little as cisplatin "
                 "(Long, Patton & Repta 1981 Biopharm Drug Dispos 2:137, abstract read); "
                 "plasma-only. "
                 "f_u not given: c_p is ultrafilterable (unbound) drug by construction; the "
                 "label's > 90 % binding is covalent, over hours. E not given: elimination is "
                 "renal and by binding, no hepatic extraction found.",
    "5-fluorouracil": "R_b not given: 'Nonlinear pharmacokinetic characteristics of 5-FU in "
                      "colorectal cancer patients' measured the in vitro whole-blood/plasma "
                      "ratio, but the abstract read gives no number (it reports that 5-FU "
                      "degrades in whole blood, not in plasma); plasma-only.",
    "floxuridine": "R_b not given: no measured ratio found in the pages searched; "
                   "plasma-only. f_u not given: no value read.",
    "melphalan": "R_b not given: no ratio found; Nath et al. 2010 (abstract read) find "
                 "haematocrit a covariate of total and unbound CL but report no blood/plasma "
                 "ratio; plasma-only. E not given: melphalan is lost by "
                 "hydrolysis throughout the body, not by hepatic extraction.",
    "carboplatin": "R_b not given: no ratio of intact carboplatin found in the pages "
                   "searched; plasma-only. E not given: renal elimination "
                   "(Calvert CL = GFR + 25 mL/min), no hepatic extraction.",
    "tracer": "R_b not given: an extracellular tracer stays out of red cells (plasma-only, "
              "R_b = 1 − Hct). E not given: renal elimination, no hepatic extraction.",
    "oxaliplatin": "R_b not given: intact oxaliplatin degrades in whole blood and platinum "
                   "accumulates in red cells (Gamelin et al. 1997 Clin Cancer Res 3:891); no "
                   "equilibrium ratio of the intact drug; plasma-only. f_u not given: c_p is "
                   "the free (ultrafilterable) intact drug by construction. E not given: no "
                   "hepatic extraction found.",
}


def with_regional(drug: Drug) -> Drug:
    """``drug`` with its regional fields (``REGIONAL``) and the reasons for absent ones."""
    reasons = NOT_GIVEN.get(drug.name, "")
    notes = f"{drug.notes} {reasons}".strip()
    return dataclasses.replace(drug, **REGIONAL.get(drug.name, {}), notes=notes)


