"""The published results of the validation report (docs/validation.md), one ``Row`` each.

Each row holds the published value with its range and how that range was obtained, the
source as read (abstracts are marked), the validation case (cases/validation/<case>.toml)
that reproduces the conditions, how the simulated value is taken, the parameters that matter
with their sources, and the physics or parameter that would explain a miss.
``validation_report.py`` runs the cases and writes the report.
"""
from __future__ import annotations

from dataclasses import dataclass

SIGURDSON = ("Sigurdson ER, Ridge JA, Kemeny N, Daly JM 1987, J Clin Oncol 5:1836 (journal and "
             "pages from the citation, not shown on the abstract page read); abstract read, "
             "osti.gov/biblio/5606385")
DIDOLKAR = ("Didolkar MS, Jackson AJ, Covell DG, Walker AP, Eddington ND 1989, J Surg Oncol "
            "41:187–193 (abstract read)")
GUSTAVSSON = ("Gustavsson BG, Brandberg A, Regårdh CG, Almersjö OE 1979, J Pharmacokinet "
              "Biopharm 7:665–673 (abstract read)")
SWINE_DOX = ("An evaluation of hepatic extraction and clearance of doxorubicin, Br J Cancer "
             "1995;72:65–71, PMID 7599068 (abstract read; authors not shown on the page read)")
BADING = ("Bading JR, Sigurdson ER, Finn RD, Yeh SD, Ginos J, Kemeny NE, Larson SM 1994, "
          "Memorial Sloan-Kettering (abstract read; journal not shown on the page read, "
          "likely J Nucl Med — unconfirmed)")
HOCHBERG = "Hochberg FH et al. 1985, J Neurosurg 63:876–880 (abstract read)"


@dataclass(frozen=True)
class Row:
    """One published result and how the simulated value is taken."""

    key: str
    result: str            # what was measured, with conditions
    source: str
    published: float
    low: float
    high: float
    uncertainty: str       # how the range was obtained
    case: str              # cases/validation/<case>.toml
    quantity: str          # how the simulated value is computed
    parameters: str        # parameters that matter, and their sources
    missing: str           # physics or parameter that would explain a miss


FUDR_PARAMS = ("floxuridine: library (P from Swabb/El-Kareh scaling; hepatic metabolism from "
               "E = 0.95, Ensminger et al. 1978 — an independent study); liver flows "
               "docs/model.md §9.1; tumour 40 mL/min/100 mL, 90 % arterial (demo values)")
FU_PARAMS = ("5-fluorouracil: library (CL_TB from Clin Cancer Res, 115 patients; hepatic "
             "metabolism where the library gives it); human liver phantom flows (docs/model.md "
             "§9.1), not the dogs' measured flows")
DOX_PARAMS = ("doxorubicin: library (saturable uptake El-Kareh & Secomb 2000; PK US label); "
              "human liver phantom (a 25–35 kg pig's liver is smaller)")
#: the 3H label measured 2–5 min after the bolus is drug taken up and retained (FUDR and its
#: metabolites); the model traps FUDR only in its cell pool and not the liver's metabolites, so
#: the retained amount is represented by the AUC of C_t over 0–5 min
TL_QUANTITY = "AUC of C_t over 0–5 min, tumour / normal (stands in for the retained label)"
ROWS = [
    Row("bading-liver-E", "FdUrd single-pass extraction, normal liver, HA bolus of [18F]FdUrd; "
        "5 patients", BADING, 0.87, 0.75, 0.91, "range of the 5 patients (mean 0.87 ± 0.03)",
        "fudr_hepatic_artery_bolus", "organ extraction over the 1-min bolus", FUDR_PARAMS,
        "per-class hepatic metabolism fixed from another study's E (0.95); the organ value "
        "mixes tumour and liver; FUDR's trapping uptake k_in comes from this study's tumour "
        "extraction (0.78, not the liver value compared here) and adds ~0.0003 in liver"),
    Row("sigurdson-HA-T/L", "FUdR tumour/liver tissue ratio 2–5 min after a HA bolus of "
        "3H-FUdR; colorectal metastases, 5 patients", SIGURDSON, 12.4 / 23.9,
        (12.4 - 12.2) / (23.9 + 11.4), (12.4 + 12.2) / (23.9 - 11.4),
        "tumour 12.4 ± 12.2, liver 23.9 ± 11.4 nmol/g (mean ± SD): ratio of the extremes",
        "fudr_hepatic_artery_bolus", TL_QUANTITY, FUDR_PARAMS,
        "the liver's retained label: tumour trapping is now modelled (k_in from Bading et al. "
        "1994's tumour cell extraction, k_c from its < 10 % at 3.5 h), but what normal liver "
        "extracts is metabolised and leaves the model's tissue at once, while the measured 3H "
        "stays in liver as metabolites; tumour perfusion and arterial share of the patients' "
        "metastases (not measured)"),
    Row("sigurdson-PV-T/L", "FUdR tumour/liver tissue ratio 2–5 min after a portal-vein bolus; "
        "5 patients", SIGURDSON, 0.8 / 18.4, (0.8 - 0.7) / (18.4 + 14.5),
        (0.8 + 0.7) / (18.4 - 14.5), "tumour 0.8 ± 0.7, liver 18.4 ± 14.5 nmol/g: ratio of "
        "the extremes", "fudr_portal_vein_bolus", TL_QUANTITY,
        FUDR_PARAMS, "the liver's retained label (metabolised FUdR leaves the model's liver; "
        "tumour trapping is modelled, Bading et al. 1994); tumour portal share (10 % here) "
        "and whether tumours metabolise FUdR"),
    Row("didolkar-HA-sys/HV", "5-FU systemic/hepatic-vein AUC ratio (0–180 min), 30 mg/kg over "
        "3 h into the hepatic artery; dogs", DIDOLKAR, 0.46, 0.46 * 0.8, 0.46 * 1.2,
        "no uncertainty in the abstract (8 dogs over 4 routes): ±20 % assumed",
        "fluorouracil_hepatic_artery_3h", "AUC_sys / AUC_hv over 3 h", FU_PARAMS,
        "dog clearance/flow ratio; hepatic 5-FU metabolism"),
    Row("didolkar-PV-sys/HV", "5-FU systemic/hepatic-vein AUC ratio, 30 mg/kg over 3 h into "
        "the portal vein; dogs", DIDOLKAR, 1.35, 1.35 * 0.8, 1.35 * 1.2,
        "no uncertainty in the abstract: ±20 % assumed", "fluorouracil_portal_vein_3h",
        "AUC_sys / AUC_hv over 3 h", FU_PARAMS,
        "hepatic 5-FU metabolism (E ≈ 0.5–0.9) and dog flows"),
    Row("didolkar-IV-sys/HV", "5-FU systemic/hepatic-vein AUC ratio, 30 mg/kg over 3 h into a "
        "femoral vein; dogs", DIDOLKAR, 1.80, 1.80 * 0.8, 1.80 * 1.2,
        "no uncertainty in the abstract: ±20 % assumed", "fluorouracil_hepatic_artery_3h",
        "AUC_sys / AUC_hv over 3 h of the IV comparator", FU_PARAMS,
        "hepatic 5-FU metabolism: without it the liver returns what it receives (ratio 1)"),
    Row("gustavsson-PV-E", "5-FU eliminated by the liver during continuous portal infusion "
        "(0.625 mg/kg/h)", GUSTAVSSON, 0.95, 0.90, 1.0, "\"more than 90 %\": range 0.90–1",
        "fluorouracil_portal_vein_3h", "organ extraction over the 3-h infusion", FU_PARAMS,
        "hepatic 5-FU metabolism (saturable, dose-dependent)"),
    Row("gustavsson-IV/PV-csys", "5-FU arterial concentration, jugular (IV) / portal continuous "
        "infusion", GUSTAVSSON, 10.0, 8.0, 12.0, "\"on average tenfold\": ±20 % assumed",
        "fluorouracil_portal_vein_3h", "mean c_sys, IV comparator / portal run, last hour",
        FU_PARAMS, "hepatic 5-FU metabolism; extrahepatic clearance split"),
    Row("swine-dox-E-HA", "doxorubicin hepatic extraction during HA infusion (0.5–9 mg/kg over "
        "90 min); 34 pigs", SWINE_DOX, 0.83, 0.75, 0.91, "range over the pigs",
        "doxorubicin_hepatic_artery_90min", "organ extraction over the 90-min infusion",
        DOX_PARAMS, "hepatocellular uptake/binding of doxorubicin (liver takes up more than "
        "the tumour-derived saturable uptake gives)"),
    Row("swine-dox-E-IV", "doxorubicin hepatic extraction during systemic infusion; 34 pigs",
        SWINE_DOX, 0.61, 0.50, 0.72, "range over the pigs", "doxorubicin_hepatic_artery_90min",
        "organ extraction of the IV comparator over 90 min", DOX_PARAMS,
        "hepatocellular uptake/binding of doxorubicin"),
    Row("hochberg-BCNU-IA/IV", "BCNU tumour level, intracarotid / intravenous, equal doses; "
        "glioma patients", HOCHBERG, 4.0, 3.2, 4.8,
        "\"four times\", no uncertainty in the abstract: ±20 % assumed", "bcnu_intracarotid",
        "AUC of tumour C_t, IA / IV", "BCNU: BiCNU label (CL 56 mL/kg/min, V 3.25 L/kg); "
        "D, P by the library's scaling; brain flow of cases/brain_mca.toml (Józsa et al. 2021)",
        "BCNU tissue decomposition and 77 % protein binding; tumour perfusion of gliomas; the "
        "sampling time of the tumour levels (not in the abstract)"),
]
