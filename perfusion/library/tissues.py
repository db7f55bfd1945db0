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
