"""Case-file tables of arterial trees (``[supplies.tree]``) and the catheter on them (issue 6).

A supply is fed either by point ``inlets`` or by a ``tree`` whose terminals become its
inlets: generated inside the tissue (constrained constructive optimisation), loaded from
centre-lines (VTK PolyData) or extracted from a vessel label mask.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from .quantity import Length, Position, Quantity
from .schema_base import Strict

Pressure = Quantity("Pa")


class FeederSpec(Strict):
    """Dedicated arteries of the tumours (generated trees; docs/model.md §3,
    perfusion/vascular/sources/feeders.py)."""

    feeds: str = Field(
        "tumor", description="The tissue class fed by dedicated feeders: each connected piece "
        "of it (a tumour; pieces under 8 voxels excepted) gets feeders branching off the tree, "
        "and no ordinary terminal.")
    count: int = Field(
        1, ge=1, le=8, description="Feeders per tumour (default 1: 18 of 21 segment-3 HCCs of "
        "1–4.4 cm fed by one branch, 3 by two, on angiography and cone-beam CT, Miyayama et "
        "al., Cardiovasc. Intervent. Radiol., 'Origins of feeding arteries of HCC located near "
        "the umbilical fissure'; cone-beam CT counts 130 feeders for 77 lesions, 1.7 each, "
        "Egypt. J. Radiol. Nucl. Med. 2019, doi:10.1186/s43055-019-0053-4).")
    terminals: Optional[int] = Field(
        None, ge=1, le=10000, description="Terminals of each feeder, inside the tumour (default: "
        "the main tree's demand per terminal, round(terminals × D_tumour / (count × D_rest))).")


class TreeSpec(Strict):
    source: Literal["generated", "centerlines", "mask"] = Field(
        description="generated (CCO inside the tissue), centerlines (.vtp/.vtk with radii) or "
        "mask (a vessel label image, centre-lines traced through it).")
    path: Optional[str] = Field(None, description="Centre-line or mask file, relative to the case.")
    root: Optional[Position] = Field(
        None, description="Root position (grid frame): where a generated tree starts; for loaded "
        "trees the node nearest to it (default: the widest vessel end).")
    roots: list[Position] = Field(
        [], description="Loaded trees with several inflows (e.g. both carotids and the basilar "
        "artery): the nodes nearest to these positions are the roots.")
    inflow: Optional[Quantity("m^3/s", gt=0)] = Field(
        None, description="Blood flow into the root (else the root pressure drives the flow).")
    pressure: Optional[Pressure] = Field(
        None, description="Root pressure (generated trees: sizes the radii with terminal_pressure).")
    boundary: Optional[Literal["inflow", "pressure"]] = Field(
        None, description="Which root value the coupled solve holds (default: inflow when "
        "given); the other follows.")
    terminal_pressure: Optional[Pressure] = Field(
        None, description="Generated trees: design pressure at the terminals (default "
        "p_ven + the supply's pressure_drop).")
    terminals: Optional[int] = Field(None, ge=1, le=100000, description="Generated: terminal count.")
    seed: int = Field(0, description="Generated: random seed (same seed, same tree).")
    murray_exponent: float = Field(3.0, ge=2.0, le=3.5, description="Generated: γ in r_p^γ = Σ r_c^γ.")
    radius_array: str = Field("MaximumInscribedSphereRadius",
                              description="Centerlines: point array holding the radii.")
    unit: Length = Field("1 mm", description="Centerlines: length of one file unit.")
    origin: Position = Field(("0 m", "0 m", "0 m"),
                             description="Centerlines: position of the grid corner in the file's frame "
                             "(grid position = unit × file point − origin).")
    label: Optional[int] = Field(None, description="Mask: vessel label value (default: any > 0).")
    bridge_gaps: Length | Literal[0] = Field(
        0, description="Mask: join vessel pieces whose ends are this close (0: keep the largest).")
    min_branch_length: Optional[Length] = Field(None, description="Mask: prune shorter end spurs.")
    outside: Literal["error", "prune"] = Field(
        "error", description="Terminals with no perfused voxel within kernel_radius: an error, "
        "or pruned with their branches (vessels leaving the imaged tissue).")
    kernel_radius: Optional[Length] = Field(
        None, description="Radius over which each terminal's flow enters the tissue (default "
        "the inlet radius).")
    viscosity: Optional[Quantity("Pa*s", gt=0)] = Field(
        None, description="Blood viscosity of the segments (default 3.5 mPa·s).")
    pries_viscosity: bool = Field(False, description="Use the in-vivo law of Pries et al. 1994.")
    feeders: Optional[FeederSpec] = Field(
        None, description="Generated: tumour feeders (a table; see its keys).")

    @model_validator(mode="after")
    def _source_fields(self):
        if self.inflow is None and self.pressure is None:
            raise ValueError('give the root inflow = "… mL/min" or pressure = "… mmHg"')
        if self.boundary is not None and getattr(self, self.boundary) is None:
            raise ValueError(f"boundary = \"{self.boundary}\" needs {self.boundary} = \"…\"")
        if self.source == "generated":
            missing = [k for k in ("root", "terminals", "inflow", "pressure")
                       if getattr(self, k) is None]
            if missing:
                raise ValueError(f"a generated tree needs {', '.join(missing)}")
            if self.path is not None or self.roots:
                raise ValueError("path and roots belong to source = \"centerlines\" or \"mask\"")
        elif self.feeders is not None:
            raise ValueError("feeders belong to source = \"generated\" (loaded trees have "
                             "their own vessels)")
        elif self.path is None:
            raise ValueError(f'source = "{self.source}" needs path = "…"')
        if self.root is not None and self.roots:
            raise ValueError("give root (one inflow) or roots (several), not both")
        if self.viscosity is not None and self.pries_viscosity:
            raise ValueError("give viscosity or pries_viscosity = true, not both")
        return self


class CatheterSpec(Strict):
    supply: str = Field(description="The supply the catheter sits in.")
    inlets: list[str] = Field([], description="Point inlets it feeds (supplies without a tree).")
    vessel: Optional[int] = Field(None, ge=0, description="Tree: the catheterised segment id.")
    position: Optional[Position] = Field(None, description="Tree: catheter tip; nearest segment.")
    feeds: Optional[str] = Field(
        None, description="Tree: a tissue class (e.g. tumor): the most distal vessel that still "
        "carries feed_fraction of that class's arterial inflow.")
    feed_fraction: float = Field(0.8, gt=0, le=1, description="See feeds.")
    streaming_exponent: float = Field(
        1.0, ge=0.25, le=4.0, description="The drug divides at tree bifurcations, or among "
        "the catheterised point inlets, as flow^σ (1: well mixed; > 1: streaming into the "
        "dominant branch at low infusion rates).")

    @model_validator(mode="after")
    def _one_placement(self):
        given = [k for k in ("inlets", "vessel", "position", "feeds") if getattr(self, k)
                 not in (None, [])]
        if len(given) != 1:
            raise ValueError("give exactly one of inlets = [...] (point inlets), vessel = <segment "
                             "id>, position = [x, y, z] or feeds = \"tumor\" (tree)")
        return self
