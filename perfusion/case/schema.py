"""The case-file schema (README.md, Case files): strict, frozen pydantic models.

Each field's description is its documentation (the README's case reference is generated
from it). Quantities are strings with units converted to SI on validation; ``None``
means "use the documented default" (``perfusion.library.tissues``). Unknown keys are errors.
Cross-field checks (names that must exist, fractions that must add up) live in the
validators of the model that sees both sides.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from .geometry_spec import GeometrySpec
from .protocol import (DrugSpec, EmbolizationSpec, ExposureSpec, InfusionSpec, PatientSpec,
                       SimulationSpec, SystemicSpec)
from .quantity import Fraction, Length, Position, Quantity
from .schema_base import Strict
from .tree_spec import CatheterSpec, TreeSpec

Name = str


class CaseInfo(Strict):
    name: str = Field(description="Short name of the case (used in reports).")
    description: str = Field("", description="Free text: what the case is for, data sources.")


class GridSpec(Strict):
    shape: Optional[tuple[int, int, int]] = Field(
        None, description="Voxels along i, j, k (phantoms; images bring their own).")
    spacing: Optional[Length | tuple[Length, Length, Length]] = Field(
        None, description="Voxel size, one length or three (overrides an image header).")

    @field_validator("shape")
    @classmethod
    def _positive_shape(cls, shape):
        if shape is not None and min(shape) < 1:
            raise ValueError(f"every entry must be ≥ 1, got {list(shape)}")
        return shape


Conductivity = Quantity("m^2/(Pa*s)", ge=0)


class TissueSpec(Strict):
    base: Optional[Literal["normal", "tumor", "necrotic"]] = Field(
        None, description="Library class whose defaults a user-defined class inherits (normal).")
    preset: Optional[str] = Field(
        None, description="Library tissue preset (perfusion.library.tissues.TISSUE_PRESETS: "
        "normal-liver, hcc-hypervascular, crc-metastasis-hypovascular, grey-matter, "
        "white-matter): its sourced values replace the class defaults; keys given here "
        "replace the preset's.")
    interstitial_conductivity: Optional[Conductivity] = Field(None, description="K_i.")
    vessel_wall_conductivity: Optional[Quantity("m/(Pa*s)", ge=0)] = Field(None, description="L_p.")
    vascular_surface_density: Optional[Quantity("1/m", ge=0)] = Field(None, description="S/V.")
    capillary_pressure: Optional[Quantity("Pa")] = Field(None, description="p_c.")
    osmotic_reflection: Optional[Fraction] = Field(None, description="σ_T.")
    plasma_oncotic_pressure: Optional[Quantity("Pa", ge=0)] = Field(None, description="π_v.")
    interstitial_oncotic_pressure: Optional[Quantity("Pa", ge=0)] = Field(None, description="π_i.")
    lymphatic_conductance: Optional[Quantity("1/(Pa*s)", ge=0)] = Field(None, description="L_pLS_L/V.")
    lymphatic_pressure: Optional[Quantity("Pa")] = Field(None, description="p_L.")
    extracellular_fraction: Optional[Quantity("", gt=0, le=1)] = Field(None, description="v_e.")
    plasma_fraction: Optional[Quantity("", ge=0, lt=1)] = Field(None, description="v_p.")
    perfusion: Optional[Quantity("1/s", ge=0)] = Field(
        None, description="Target mean perfusion (e.g. \"20 mL/min/(100 mL)\"), calibrates β.")
    permeability_factor: Optional[Quantity("", ge=0)] = Field(
        None, description="f_P: the class's vessel-wall permeability is f_P·P of the drug "
        "(PS/V = f_P·P·S/V); a blood–brain barrier has f_P ≪ 1.")
    supply_fractions: Optional[dict[Name, Fraction]] = Field(
        None, description="Share of the perfusion from each supply (sums to 1).")
    capillary_conductance: Optional[dict[Name, Quantity("1/(Pa*s)", ge=0)]] = Field(
        None, description="β_s given directly per supply (skips calibration for this class).")

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset):
        from ..library.tissues import TISSUE_PRESETS, preset_names_closest_first

        if preset is not None and preset not in TISSUE_PRESETS:
            raise ValueError(f"unknown tissue preset {preset!r}; presets, closest first: "
                             f"{', '.join(preset_names_closest_first(preset))}")
        return preset

    @field_validator("supply_fractions")
    @classmethod
    def _fractions_sum_to_one(cls, fractions):
        if fractions is not None and abs(sum(fractions.values()) - 1.0) > 1e-6:
            raise ValueError(f"must add up to 1, got {sum(fractions.values()):g} from {fractions}")
        return fractions


class InterstitialSpec(Strict):
    boundary: Literal["zero-pressure", "no-flux"] = Field(
        "zero-pressure", description="IFP condition on the tissue surface.")


class BloodSpec(Strict):
    hematocrit: Optional[Quantity("", ge=0, lt=1)] = Field(None, description="Hct.")
    venous_pressure: Optional[Quantity("Pa")] = Field(None, description="p_ven.")


class InletSpec(Strict):
    name: Name = Field(description="Inlet name (unique within its supply).")
    position: Optional[Position] = Field(None, description="Where the blood enters (grid frame).")
    voxel: Optional[tuple[int, int, int]] = Field(None, description="Position as voxel indices.")
    flow: Quantity("m^3/s", gt=0) = Field(description="Blood flow through the inlet.")
    radius: Optional[Length] = Field(None, description="Radius over which the flow is spread.")

    @model_validator(mode="after")
    def _one_position(self):
        if (self.position is None) == (self.voxel is None):
            raise ValueError("give exactly one of position = [x, y, z] (lengths) or voxel = [i, j, k]")
        return self


class SupplySpec(Strict):
    name: Name = Field(description="Supply name, e.g. hepatic_artery.")
    conductivity: Optional[Conductivity] = Field(None, description="K_s of the supply compartment.")
    pressure_drop: Optional[Quantity("Pa", gt=0)] = Field(
        None, description="Mean p_s − p_ven; sets the level of the calibrated β_s.")
    inlets: list[InletSpec] = Field([], description="Where the supply's blood enters (points).")
    tree: Optional[TreeSpec] = Field(None, description="An arterial tree whose terminals are the "
                                     "inlets (instead of point inlets).")
    kind: Optional[Literal["arterial", "portal"]] = Field(
        None, description="Which infusion route a catheter on this supply serves "
        "(intra-arterial or portal-venous); default: portal when the name contains \"portal\" "
        "(portal_vein), else arterial.")

    @property
    def vessel_kind(self) -> str:
        """``kind``, or its default from the name."""
        return self.kind or ("portal" if "portal" in self.name.lower() else "arterial")

    @model_validator(mode="after")
    def _inlets_or_tree(self):
        if bool(self.inlets) == (self.tree is not None):
            raise ValueError("give either [[supplies.inlets]] or a [supplies.tree], not both or none")
        return self

    @field_validator("inlets")
    @classmethod
    def _unique_inlets(cls, inlets):
        names = [inlet.name for inlet in inlets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"inlet names must be unique within a supply: {duplicates} repeated")
        return inlets


class SolverSpec(Strict):
    tolerance: float = Field(1e-10, gt=0, lt=1, description="Relative residual of elliptic solves.")
    max_iterations: int = Field(20000, ge=1, description="Iteration cap of one elliptic solve.")
    calibration_tolerance: float = Field(
        1e-3, gt=0, lt=1, description="Relative mismatch at which β calibration stops.")
    preconditioner: Literal["multigrid", "jacobi"] = Field(
        "multigrid", description="CG preconditioner of elliptic solves: one geometric multigrid "
        "cycle, or the diagonal (Jacobi: the fallback, iterations grow with the grid).")
    cycle: Literal["V", "W"] = Field("V", description="Multigrid cycle.")
    smoothing_steps: int = Field(
        2, ge=1, le=8, description="Red-black Gauss–Seidel sweeps before and after each "
        "multigrid coarse-grid correction.")

    def preconditioning(self) -> dict:
        """The preconditioner keywords of ``perfusion.solvers.cg.conjugate_gradient``."""
        return {"preconditioner": self.preconditioner, "cycle": self.cycle,
                "smoothing_steps": self.smoothing_steps}


class OutputSpec(Strict):
    dir: Optional[str] = Field(None, description="Results directory (default results/<case name>).")


class Case(Strict):
    """A validated case (all quantities in SI)."""

    case: CaseInfo
    grid: GridSpec = GridSpec()
    geometry: GeometrySpec
    tissue: dict[Name, TissueSpec] = Field({}, description="Per-class overrides of the defaults.")
    interstitial: InterstitialSpec = InterstitialSpec()
    blood: BloodSpec = BloodSpec()
    supplies: list[SupplySpec] = Field(min_length=1, description="Blood supplies (at least one).")
    catheter: Optional[CatheterSpec] = None
    drug: Optional[DrugSpec] = None
    patient: Optional[PatientSpec] = None
    infusion: list[InfusionSpec] = Field([], description="Piecewise-constant infusion schedule.")
    systemic: SystemicSpec = SystemicSpec()
    embolization: Optional[EmbolizationSpec] = None
    exposure: ExposureSpec = ExposureSpec()
    solver: SolverSpec = SolverSpec()
    simulation: SimulationSpec = SimulationSpec()
    output: OutputSpec = OutputSpec()
    provenance: dict[str, str] = Field({}, description="Written by perfusion into resolved cases.")

    @model_validator(mode="before")
    @classmethod
    def _canonical_names_and_doses(cls, raw):
        from .checks import canonical_class_names  # "tumour" → "tumor", once, at the edge
        from .dosing import absolute_doses  # "1.5 mg/kg" → a mass, with the [patient]

        return absolute_doses(canonical_class_names(raw))

    @model_validator(mode="after")
    def _cross_references(self):
        from .checks import check_case  # the cross-field rules live beside the schema

        check_case(self)
        return self
