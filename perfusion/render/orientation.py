"""Orientation letters and scale bars on slice panels (lengths in mm).

Letters: the patient direction (R/L, A/P, S/I; RAS+ as in nibabel) each panel edge faces,
from the results' voxel-to-world affine (``fields.npz`` ``affine``) through
:func:`nibabel.orientations.aff2axcodes`. Phantoms have no patient: their grid axes i, j, k
are taken as R, A, S, and the figures say so. Display conventions: radiological puts the
patient's left on the image's right, neurological on the image's left; either way superior
(else anterior) is up, and anterior is on the left when the horizontal axis runs
anterior–posterior (a sagittal plane seen from the patient's left).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONVENTIONS = ("radiological", "neurological")
CONVENTION_NOTES = {"radiological": "radiological convention: patient's left on image right",
                    "neurological": "neurological convention: patient's left on image left"}
GRID_AXES_NOTE = "no patient orientation (phantom, or image without one): grid axes i, j, k taken as R, A, S"
OPPOSITE = dict(zip("RLAPSI", "LRPAIS"))
NICE_LENGTHS_MM = (1, 2, 5, 10, 20, 50, 100, 200, 500)
_FAMILY = {"R": "RL", "L": "RL", "A": "AP", "P": "AP", "S": "SI", "I": "SI"}


@dataclass(frozen=True)
class PanelOrientation:
    """The letter each screen edge faces, and whether the grid axes are drawn reversed."""

    left: str
    right: str
    bottom: str
    top: str
    flip_x: bool     # the horizontal grid axis increases to the left
    flip_y: bool     # the vertical grid axis increases downwards


def axis_codes(affine: np.ndarray) -> tuple[str, str, str]:
    """Direction each voxel axis i, j, k increases towards, e.g. ``("L", "A", "S")``."""
    from nibabel.orientations import aff2axcodes

    return tuple(aff2axcodes(np.asarray(affine, dtype=float)))


def _wanted(code: str, horizontal: bool, convention: str) -> str:
    """The letter the right (``horizontal``) or top edge should face, for ``code``'s axis."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention {convention!r}: choose from {list(CONVENTIONS)}")
    left_right = "L" if (convention == "radiological") == horizontal else "R"
    return {"RL": left_right, "AP": "P" if horizontal else "A", "SI": "S"}[_FAMILY[code]]


def panel_orientation(affine: np.ndarray, shown: tuple[int, int],
                      convention: str = "radiological") -> PanelOrientation:
    """Edges of a panel showing grid axes ``shown`` = (horizontal, vertical).

    Examples
    --------
    >>> panel_orientation(np.diag([2.0, 2.0, 2.0, 1.0]), (0, 1))   # axial, RAS grid
    PanelOrientation(left='R', right='L', bottom='P', top='A', flip_x=True, flip_y=False)
    """
    codes = axis_codes(affine)
    horizontal, vertical = codes[shown[0]], codes[shown[1]]
    right, top = _wanted(horizontal, True, convention), _wanted(vertical, False, convention)
    return PanelOrientation(left=OPPOSITE[right], right=right, bottom=OPPOSITE[top], top=top,
                            flip_x=horizontal != right, flip_y=vertical != top)


def scale_bar_mm(width_mm: float) -> float:
    """The longest of ``NICE_LENGTHS_MM`` that fits in a quarter of ``width_mm``."""
    fitting = [n for n in NICE_LENGTHS_MM if n <= width_mm / 4]
    return float(fitting[-1] if fitting else NICE_LENGTHS_MM[0])


def orient_panel(ax, extent, orientation: PanelOrientation) -> None:
    """Set the panel's limits to ``extent`` [mm], reversed where ``orientation`` flips, and
    write the edge letters and a scale bar (``gid`` ``scale-bar`` and ``scale-bar-label``)."""
    from matplotlib import patheffects

    x0, x1, y0, y1 = extent
    ax.set_xlim((x1, x0) if orientation.flip_x else (x0, x1))
    ax.set_ylim((y1, y0) if orientation.flip_y else (y0, y1))
    rim = [patheffects.withStroke(linewidth=2.5, foreground="black")]
    for letter, (x, y, ha, va) in zip(
            (orientation.left, orientation.right, orientation.bottom, orientation.top),
            ((0.015, 0.5, "left", "center"), (0.985, 0.5, "right", "center"),
             (0.5, 0.015, "center", "bottom"), (0.5, 0.985, "center", "top"))):
        ax.text(x, y, letter, transform=ax.transAxes, ha=ha, va=va, color="white",
                fontsize=11, fontweight="bold", path_effects=rim, gid="orientation")
    length = scale_bar_mm(abs(x1 - x0))
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    start = left + 0.05 * (right - left)
    end = start + np.sign(right - left) * length
    height = bottom + 0.07 * (top - bottom)
    ax.plot([start, end], [height, height], color="white", linewidth=3, solid_capstyle="butt",
            path_effects=rim, gid="scale-bar")
    ax.text(start, height + 0.02 * (top - bottom), f"{length:g} mm",   # inside, clear of ticks
            ha="left", va="bottom", color="white", fontsize=9, path_effects=rim,
            gid="scale-bar-label")
