"""Case-file tables of the drug run (docs/model.md §6–§8; README.md, Case files): drug, infusions, body, time.

``[drug]`` names a library entry (``perfusion.library.drugs``) and may override any of its
parameters; a drug not in the library must give all of them. ``[[infusion]]`` is a
piecewise-constant schedule (dose or rate, optionally repeated); ``[systemic]`` overrides
the library drug's two-compartment PK; ``[embolization]`` occludes the catheter's
territory at a time; ``[exposure]`` sets the thresholds of the exposure metrics.
:func:`output_times` gives the times ``[simulation]`` asks drug fields to be written at.
"""
from __future__ import annotations

import math
from typing import Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from ..library.dosing import body_surface_area
from .quantity import Quantity
from .schema_base import Strict

Rate = Quantity("1/s", ge=0)
Duration = Quantity("s", gt=0)


class MetabolismSpec(Strict):
    """Metabolism of free extracellular drug in one tissue class (docs/model.md §6.5)."""

    extraction: Optional[Quantity("", ge=0, lt=1)] = Field(
        None, description="Published organ extraction ratio E at the perfusion at_perfusion; "
        "converted to an intrinsic clearance with the model's own well-mixed exchange.")
    at_perfusion: Optional[Quantity("1/s", gt=0)] = Field(
        None, description="Perfusion at which extraction holds (e.g. \"100 mL/min/(100 mL)\").")
    intrinsic_clearance: Optional[Rate] = Field(
        None, description="First-order CL_int per tissue volume, acting on v_e c_e like k_e.")
    max_rate: Optional[Quantity("kg/(m^3*s)", gt=0)] = Field(
        None, description="Michaelis–Menten V_max per tissue volume (e.g. \"2 ug/(mL*min)\").")
    affinity: Optional[Quantity("kg/m^3", gt=0)] = Field(
        None, description="Michaelis–Menten K_m on c_e (e.g. \"5 ug/mL\").")

    @model_validator(mode="after")
    def _one_form(self):
        forms = [self.extraction is not None or self.at_perfusion is not None,
                 self.intrinsic_clearance is not None,
                 self.max_rate is not None or self.affinity is not None]
        if sum(forms) != 1:
            raise ValueError('give exactly one of: extraction = 0.5 with at_perfusion = '
                             '"100 mL/min/(100 mL)"; intrinsic_clearance = "0.05 1/s"; or '
                             'max_rate = "… ug/(mL*min)" with affinity = "… ug/mL"')
        if forms[0] and (self.extraction is None or self.at_perfusion is None):
            raise ValueError('extraction needs at_perfusion (the perfusion it was measured at), '
                             'e.g. at_perfusion = "100 mL/min/(100 mL)"')
        if forms[2] and (self.max_rate is None or self.affinity is None):
            raise ValueError("saturable metabolism needs both max_rate and affinity")
        return self


class DrugSpec(Strict):
    name: str = Field(description="Library drug (doxorubicin, cisplatin, 5-fluorouracil, "
                      "floxuridine, melphalan, carboplatin, tracer) or any name with every parameter.")
    molecular_weight: Optional[Quantity("", gt=0)] = Field(None, description="g/mol.")
    diffusivity: Optional[Quantity("m^2/s", gt=0)] = Field(None, description="D in the interstitium.")
    permeability: Optional[Quantity("m/s", ge=0)] = Field(
        None, description="Vessel-wall permeability P (PS/V = P · S/V).")
    solvent_drag_reflection: Optional[Quantity("", ge=0, le=1)] = Field(None, description="σ_f.")
    elimination_rate: Optional[Rate] = Field(None, description="k_e of free drug in tissue.")
    uptake: Optional[Literal["none", "linear", "saturable"]] = Field(None, description="Cell uptake model.")
    uptake_rate: Optional[Rate] = Field(None, description="k_in (linear uptake).")
    release_rate: Optional[Rate] = Field(None, description="k_out (linear uptake).")
    max_uptake_rate: Optional[Quantity("kg/(m^3*s)", ge=0)] = Field(
        None, description="V_max (saturable uptake, per tissue volume).")
    extracellular_affinity: Optional[Quantity("kg/m^3", gt=0)] = Field(None, description="K_e (saturable).")
    intracellular_affinity: Optional[Quantity("kg/m^3", gt=0)] = Field(None, description="K_i (saturable).")
    cell_elimination_rate: Optional[Rate] = Field(None, description="k_c of cell-bound drug.")
    blood_to_plasma: Optional[Quantity("", gt=0)] = Field(
        None, description="R_b = C_blood/C_plasma (fast red-cell equilibrium): blood carries "
        "drug at the flow R_b·F instead of the plasma flow (1 − Hct)·F (docs/model.md §6.1). "
        "Default: the library drug's value, else plasma-only, R_b = 1 − Hct.")
    metabolism: Optional[dict[str, MetabolismSpec]] = Field(
        None, description="Metabolism of free drug per tissue class ([drug.metabolism.normal]). "
        "Default: a library drug's hepatic metabolism in class normal of a liver case (supplies "
        "hepatic_artery/portal_vein), else none; necrotic tissue never metabolises.")


class PatientSpec(Strict):
    weight: Quantity("kg", gt=0) = Field(description="Body weight (doses and rates per kg).")
    height: Optional[Quantity("m", gt=0)] = Field(
        None, description="Height (the body surface area of doses per m²).")
    bsa_formula: Literal["mosteller", "dubois"] = Field(
        "mosteller", description="Body surface area formula: Mosteller 1987 N Engl J Med "
        "317:1098, or Du Bois & Du Bois 1916 Arch Intern Med 17:863.")
    body_surface_area: Optional[Quantity("m^2", gt=0)] = Field(
        None, description="BSA; default: from weight and height by bsa_formula (the resolved "
        "case records it).")

    def bsa(self) -> float | None:
        """Body surface area [m²]: given, or by the formula (None without a height)."""
        if self.body_surface_area is not None or self.height is None:
            return self.body_surface_area
        return body_surface_area(self.weight, self.height, self.bsa_formula)


class InfusionSpec(Strict):
    route: Literal["intra-arterial", "portal-venous", "intravenous"] = Field(
        description="intra-arterial: through the catheter on an arterial supply; portal-venous: "
        "through the catheter on a portal supply (the route must match the [catheter] supply's "
        "kind); intravenous: into a vein (the body).")
    start: Quantity("s", ge=0) = Field(description="When the (first) infusion starts.")
    duration: Duration = Field(description="How long each infusion lasts (a bolus is a short one).")
    dose: Optional[Quantity("kg", gt=0)] = Field(
        None, description="Mass per infusion, or per kg or m² of the [patient] (\"1.5 mg/kg\", "
        "\"50 mg/m^2\"; the resolved case holds the mass); or give rate.")
    rate: Optional[Quantity("kg/s", gt=0)] = Field(
        None, description="Mass rate, or per kg or m² of the [patient] (\"0.2 mg/kg/day\"); or "
        "give dose.")
    repeat: int = Field(1, ge=1, le=1000, description="Number of cycles.")
    every: Optional[Duration] = Field(None, description="Cycle period (with repeat > 1).")

    @model_validator(mode="after")
    def _dose_or_rate(self):
        if (self.dose is None) == (self.rate is None):
            raise ValueError('give exactly one of dose = "50 mg" or rate = "2 mg/min"')
        if self.repeat > 1 and self.every is None:
            raise ValueError('repeat > 1 needs every = "…" (the cycle period)')
        if self.every is not None and self.every < self.duration:
            raise ValueError("every must be at least duration (cycles may not overlap)")
        return self

    @property
    def mass_rate(self) -> float:
        """Infusion rate [kg/s] while running."""
        return self.rate if self.rate is not None else self.dose / self.duration

    def windows(self) -> list[tuple[float, float]]:
        """(start, end) of every cycle [s]."""
        period = self.every or 0.0
        return [(self.start + n * period, self.start + n * period + self.duration)
                for n in range(self.repeat)]


class SystemicSpec(Strict):
    central_volume: Optional[Quantity("m^3", gt=0)] = Field(None, description="V_1 (plasma).")
    peripheral_volume: Optional[Quantity("m^3", gt=0)] = Field(None, description="V_2.")
    clearance: Optional[Quantity("m^3/s", ge=0)] = Field(
        None, description="CL outside the modelled tissue.")
    k12: Optional[Rate] = Field(None, description="Central → peripheral rate constant.")
    k21: Optional[Rate] = Field(None, description="Peripheral → central rate constant.")


class EmbolizationSpec(Strict):
    time: Quantity("s", ge=0) = Field(description="When the catheter's territory is embolised.")
    factor: Quantity("", gt=0, le=1) = Field(
        description="Factor on K_s, β_s (and the catheterised inlet flows) in the territory.")
    territory_threshold: Quantity("", gt=0, lt=1) = Field(
        0.5, description="Voxels whose catheter share w exceeds this are embolised.")
    segments: list[int] = Field(
        [], description="Tree supplies: segments occluded (with their subtrees; default the "
        "catheterised vessel's).")


class ExposureSpec(Strict):
    target: Optional[str] = Field(None, description="Target class (default tumor, else all tissue).")
    concentration_threshold: Quantity("kg/m^3", ge=0) = Field(
        "1 ug/mL", description="Time above this total tissue concentration is reported.")
    auc_threshold: Quantity("kg*s/m^3", ge=0) = Field(
        "1 ug*h/mL", description="Fraction of target volume whose AUC exceeds this.")


class SimulationSpec(Strict):
    backend: Literal["auto", "numpy", "cupy"] = Field("auto", description="Array backend.")
    precision: Literal["float64", "float32"] = Field("float64", description="Working precision.")
    duration: Optional[Quantity("s", gt=0)] = Field(None, description="Simulated time of a drug run.")
    output_every: Optional[Duration] = Field(None, description="Interval of drug-field outputs.")
    max_step: Duration = Field("1 min", description="Largest time step (exchange and infusion resolution).")
    compare_iv: bool = Field(False, description="Also run the IV comparator of the same schedule.")


def output_times(duration: float, every: float | None) -> np.ndarray:
    """Requested output times: multiples of ``every`` (default: 24 outputs), and the end."""
    every = every or duration / 24
    count = int(math.floor(duration / every + 1e-9))
    times = every * np.arange(1, count + 1)
    return np.unique(np.append(times[times < duration * (1 - 1e-12)], duration))
