"""Default tissue and supply parameters, each with its source.

Symbols (docs/model.md §2, §5, §9):

- ``K_i`` interstitial hydraulic conductivity [m²/(Pa·s)]
- ``L_p`` vessel-wall hydraulic conductivity [m/(Pa·s)], ``S/V`` vascular surface per
  tissue volume [1/m]; their product ``L_pS/V`` is the filtration coefficient [1/(Pa·s)]
- ``p_c`` microvascular pressure, ``π_v``/``π_i`` plasma/interstitial oncotic pressure,
  ``σ_T`` osmotic reflection coefficient, ``L_pLS_L/V`` lymphatic conductance, ``p_L``
  lymphatic pressure [Pa]
- ``v_e`` extravascular–extracellular volume fraction, ``v_p`` plasma volume fraction
- ``F`` target perfusion [1/s] (×6000 = mL/min/100 mL)
- ``f_P`` permeability factor [-]: the class's wall permeability is ``f_P·P`` of the drug, so
  ``PS/V = f_P·P·S/V`` (a blood–brain barrier: ``f_P ≪ 1``)
- ``K_s`` supply-compartment (arteriolar) conductivity [m²/(Pa·s)], ``Δp_s`` the supply's
  mean driving pressure ``p_s − p_ven`` [Pa] that sets the level of ``β_s = F/Δp_s``.

Values marked ``unconfirmed`` could not be checked against the original publication in
this project; check them before relying on them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .units import ML_MIN_100ML, MMHG


@dataclass(frozen=True)
class Default:
    """A default value in SI with the source it comes from."""

    value: float
    source: str


BAXTER_JAIN = "Baxter & Jain 1989, Microvasc. Res. 37:77 (Table 1)"
NO_BARRIER = Default(1.0, "no barrier beyond the class's own S/V: the drug's P applies as is")

#: Per-class tissue defaults. ``normal`` describes liver parenchyma / generic host tissue,
#: ``tumor`` viable tumour, ``necrotic`` a necrotic core (no functional vessels).
TISSUE_DEFAULTS: dict[str, dict[str, Default]] = {
    "normal": {
        "interstitial_conductivity": Default(6.4e-15, BAXTER_JAIN),
        "vessel_wall_conductivity": Default(2.7e-12, BAXTER_JAIN),
        "vascular_surface_density": Default(7.0e3, BAXTER_JAIN),
        "capillary_pressure": Default(15.6 * MMHG, BAXTER_JAIN),
        "osmotic_reflection": Default(0.91, BAXTER_JAIN),
        "plasma_oncotic_pressure": Default(20.0 * MMHG, BAXTER_JAIN),
        "interstitial_oncotic_pressure": Default(10.0 * MMHG, BAXTER_JAIN),
        "lymphatic_conductance": Default(
            1.0e-7, "Baxter & Jain 1989 normal tissue, L_pLS_L/V ≈ 1.3e-5 1/(mmHg·s) (unconfirmed)"),
        "lymphatic_pressure": Default(0.0, BAXTER_JAIN),
        "extracellular_fraction": Default(0.25, "El-Kareh & Secomb 2000 (normal tissue 0.2–0.3)"),
        "plasma_fraction": Default(
            0.05, "order of DCE-MRI plasma volume fractions of liver parenchyma (unconfirmed)"),
        "perfusion": Default(
            100.0 * ML_MIN_100ML, "liver 100–130 mL/min/100 g (project design notes, not re-checked)"),
        "permeability_factor": NO_BARRIER,
    },
    "tumor": {
        "interstitial_conductivity": Default(3.1e-14, BAXTER_JAIN),
        "vessel_wall_conductivity": Default(2.1e-11, BAXTER_JAIN),
        "vascular_surface_density": Default(2.0e4, BAXTER_JAIN),
        "capillary_pressure": Default(15.6 * MMHG, BAXTER_JAIN),
        "osmotic_reflection": Default(0.82, BAXTER_JAIN),
        "plasma_oncotic_pressure": Default(20.0 * MMHG, BAXTER_JAIN),
        "interstitial_oncotic_pressure": Default(15.0 * MMHG, "Baxter & Jain 1989; Stohrer et al. 2000"),
        "lymphatic_conductance": Default(0.0, "Baxter & Jain 1989: no functional lymphatics in tumours"),
        "lymphatic_pressure": Default(0.0, BAXTER_JAIN),
        "extracellular_fraction": Default(0.4, "El-Kareh & Secomb 2000"),
        "plasma_fraction": Default(0.03, "illustrative value; tumour v_p from DCE-MRI 0.01–0.1"),
        "perfusion": Default(
            20.0 * ML_MIN_100ML, "illustrative value; CT perfusion of liver metastases "
            "10–60 mL/min/100 mL (unconfirmed)"),
        "permeability_factor": NO_BARRIER,
    },
}
# A necrotic core is tumour without functional vessels: no filtration, no perfusion.
TISSUE_DEFAULTS["necrotic"] = {
    **TISSUE_DEFAULTS["tumor"],
    "vessel_wall_conductivity": Default(0.0, "necrotic core: no functional vessels (docs/model.md §1)"),
    "vascular_surface_density": Default(0.0, "necrotic core: no functional vessels (docs/model.md §1)"),
    "plasma_fraction": Default(0.0, "necrotic core: no functional vessels (docs/model.md §1)"),
    "perfusion": Default(0.0, "necrotic core: no functional vessels (docs/model.md §1)"),
}

#: The class a user-defined class inherits its defaults from, unless it names ``base``.
DEFAULT_BASE_CLASS = "normal"

#: Other spellings accepted for the built-in classes (British spelling); a case's class
#: names are mapped to the built-in name once, when the case is read.
CLASS_ALIASES: dict[str, str] = {"tumour": "tumor"}


def canonical_class(name: str) -> str:
    """The built-in class ``name`` stands for (``"tumour"``, ``"Tumor"`` → ``"tumor"``), else ``name``.

    Examples
    --------
    >>> canonical_class("tumour"), canonical_class("necrotic"), canonical_class("cyst")
    ('tumor', 'necrotic', 'cyst')
    """
    key = name.strip().lower()
    key = CLASS_ALIASES.get(key, key)
    return key if key in TISSUE_DEFAULTS else name

#: Supply-compartment defaults (docs/model.md §2, §9.2).
SUPPLY_DEFAULTS: dict[str, Default] = {
    "conductivity": Default(
        2.0e-9, "docs/model.md §9.2: K_s ≈ β_s L² for territories of 2–4 cm; brain arterioles "
        "1.234e-9 m²/(Pa·s) (Józsa et al. 2021)"),
    "pressure_drop": Default(
        50.0 * MMHG, "docs/model.md §9.2: β_s ≈ F/(p_s − p_ven) with a 50 mmHg arteriolar drop"),
    "inlet_radius": Default(
        3.0e-3, "the smallest default kernel: a few voxels at organ scale; a point inlet's "
        "default radius grows with its flow (default_inlet_radius, docs/model.md §2.2)"),
}

#: A point inlet's default kernel keeps the pressure it adds at its centre to about Δp_s.
#: A source ``Q`` spread uniformly over a ball of radius ``r`` in a medium of conductivity
#: ``K_s`` raises the centre's pressure by ``3Q/(8πK_s r)`` above the far field (β neglected,
#: ``r ≪ 1/λ``); on the calibrated background ``φ ≈ Δp_s`` the peak is then ``≈ 2Δp_s`` —
#: the physiological bound of ``perfusion.results.extremes`` (the liver_hai demo: 1.9Δp_s).
KERNEL_PEAK_FACTOR = 3.0 / (8.0 * math.pi)


def default_inlet_radius(flow: float, conductivity: float, pressure_drop: float) -> float:
    """Default kernel radius [m] of a point inlet of ``flow`` [m³/s] in a supply of
    conductivity ``K_s`` [m²/(Pa·s)] and pressure drop ``Δp_s`` [Pa]:
    ``max(r_min, 3Q/(8πK_sΔp_s))``, ``r_min`` = ``SUPPLY_DEFAULTS["inlet_radius"]``.

    Examples
    --------
    >>> round(default_inlet_radius(160 / 6e7, 2e-9, 50 * MMHG) * 1e3, 1)   # 160 mL/min
    23.9
    >>> default_inlet_radius(1 / 6e7, 2e-9, 50 * MMHG) * 1e3                 # 1 mL/min
    3.0
    """
    spread = KERNEL_PEAK_FACTOR * flow / (conductivity * pressure_drop)
    return max(SUPPLY_DEFAULTS["inlet_radius"].value, spread)

BLOOD_DEFAULTS: dict[str, Default] = {
    "hematocrit": Default(0.45, "normal adult haematocrit"),
    "venous_pressure": Default(5.0 * MMHG, "hepatic veins a few mmHg (project design notes, not re-checked)"),
}


def tissue_default(class_name: str, base: str | None, field: str) -> Default:
    """The default of ``field`` for a tissue class (user classes inherit from ``base``)."""
    table = TISSUE_DEFAULTS.get(class_name) or TISSUE_DEFAULTS[base or DEFAULT_BASE_CLASS]
    return table[field]



# Tissue presets (``[tissue.<class>] preset = "<name>"``): published property sets that sit
# between a class's library defaults and the case's own keys (explicit key > preset > class
# default). A preset names only the properties its sources give. ``PRESET_ARTERIAL_FRACTION``
# is the share of a liver preset's perfusion that is arterial (for the case's
# ``supply_fractions``: the preset does not set them, the supplies are the case's).
JOZSA_2021 = ("Józsa et al. 2021 (brain perfusion model; grey/white matter 56 and 21 mL/min/100 "
              "mL, as compiled in the project's design notes; not re-checked)")
IPPOLITO_HCC = ("CT perfusion of 35 early HCC ≤ 3 cm in cirrhosis (Ippolito et al., Eur J Radiol, "
                "PMID 19054640, abstract): hepatic perfusion median 47.0 (IQR 35.5–61.2) mL/min/"
                "100 g, blood volume 22.5 mL/100 g, hepatic perfusion index (arterial share) "
                "75 % (63–100 %); cirrhotic parenchyma 10.3 mL/min/100 g")
BBB = Default(1.0e-3, "assumed order of magnitude (unconfirmed): brain capillary tight junctions "
              "(pores ~8 Å vs ~65 Å elsewhere) lower the wall permeability of small hydrophilic "
              "drugs by orders of magnitude (Wong et al. 2013 Front Neuroeng 6:7, review); no "
              "drug-specific BBB permeability read: set tissue.<class>.permeability_factor from "
              "the drug's measured brain PS")
BRAIN_EXTRACELLULAR = Default(0.2, "brain extracellular volume fraction ≈ 0.2 (Syková & "
                              "Nicholson 2008 Physiol Rev 88:1277; not re-checked)")

TISSUE_PRESETS: dict[str, dict[str, Default]] = {
    "normal-liver": dict(TISSUE_DEFAULTS["normal"]),
    "hcc-hypervascular": {
        "perfusion": Default(47.0 * ML_MIN_100ML, IPPOLITO_HCC),
        "plasma_fraction": Default(0.55 * 0.225, "derived: (1 − Hct 0.45) × CT blood volume "
                                   "22.5 mL/100 g; " + IPPOLITO_HCC),
    },
    "crc-metastasis-hypovascular": {
        "perfusion": Default(30.0 * ML_MIN_100ML, "mid of 20–40 mL/min/100 mL for hypovascular "
                             "colorectal liver metastases, arterial-dominant (CT perfusion "
                             "range quoted in issue 14; Kim et al. 2014 Radiology 272:322, "
                             "review; unconfirmed)"),
    },
    "grey-matter": {"perfusion": Default(56.0 * ML_MIN_100ML, JOZSA_2021),
                    "extracellular_fraction": BRAIN_EXTRACELLULAR,
                    "permeability_factor": BBB},
    "white-matter": {"perfusion": Default(21.0 * ML_MIN_100ML, JOZSA_2021),
                     "extracellular_fraction": BRAIN_EXTRACELLULAR,
                     "permeability_factor": BBB},
}

PRESET_ARTERIAL_FRACTION: dict[str, Default] = {
    "normal-liver": Default(0.25, "hepatic artery 20–33 % of liver blood flow (docs/model.md §9)"),
    "hcc-hypervascular": Default(0.75, IPPOLITO_HCC),
    "crc-metastasis-hypovascular": Default(0.9, "liver metastases take ≥ 80 % of their blood "
                                           "from the hepatic artery (unconfirmed)"),
}


def preset_names_closest_first(name: str) -> list[str]:
    """The preset names, those closest to ``name`` first (difflib).

    Examples
    --------
    >>> preset_names_closest_first("hcc")[0]
    'hcc-hypervascular'
    """
    import difflib

    key = name.strip().lower()
    scored = sorted(TISSUE_PRESETS, key=lambda p: -difflib.SequenceMatcher(None, key, p).ratio()
                    - (1.0 if p.startswith(key) or key in p else 0.0))
    return scored


def preset_default(preset: str | None, field: str) -> Default | None:
    """The value of ``field`` in ``preset`` (None without a preset or when it does not set it)."""
    return TISSUE_PRESETS[preset].get(field) if preset else None
