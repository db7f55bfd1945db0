"""Arterial trees feeding the supply compartments (issue 6): the tree type, its sources
(generated, loaded centre-lines, vessel masks), its 1D Poiseuille flow and the 1D–3D
coupling whose terminals become a supply's inlets."""
from .tree import TreeError, VascularTree

__all__ = ["TreeError", "VascularTree"]
