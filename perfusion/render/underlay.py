"""The anatomy under the drug: the case's CT or MR (``background`` in fields.npz, in the
image's own units) drawn in grey beneath the semi-transparent field maps of the slices and
the animation; outside the tissue only the anatomy shows.

Grey window: the CT soft-tissue window, −160…240 HU (level 40, width 400), when the values
look like Hounsfield units (the 1st percentile of the drawn region between −1100 and −300,
air or lung, and the 99th below 3100); else the 1st–99th percentile of that region. The
legend states the window (:func:`underlay_handles`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results.load import ResultsData
from .planes import plane, tissue_box

UNDERLAY_CMAP = "gray"
#: Opacity of a field map drawn over the anatomy.
FIELD_ALPHA = 0.65
SOFT_TISSUE_HU = (-160.0, 240.0)
_AIR_HU = (-1100.0, -300.0)
_MAX_HU = 3100.0


@dataclass(frozen=True)
class Window:
    """The grey window of the underlay: values ``low``…``high`` map black…white."""

    low: float
    high: float
    note: str


def background_window(data: ResultsData) -> Window | None:
    """The grey window of the results' background over the drawn region (the tissue's box);
    None without a background."""
    background = data.background
    if background is None:
        return None
    values = background[tissue_box(data.labels)]
    low, high = (float(v) for v in np.percentile(values, [1, 99]))
    if _AIR_HU[0] <= low <= _AIR_HU[1] and high <= _MAX_HU:
        return Window(*SOFT_TISSUE_HU, "CT soft-tissue window −160…240 HU")
    high = high if high > low else low + max(abs(low), 1.0)
    return Window(low, high, f"window {low:.4g}…{high:.4g} (1st–99th percentile)")


def background_plane(data: ResultsData, view: str, index: int, box) -> np.ndarray | None:
    """The background on a slice plane (as :func:`.planes.plane` cuts it), or None."""
    background = data.background
    return None if background is None else plane(data, background, view, index, box)[0]


def draw_underlay(ax, values: np.ndarray | None, window: Window | None, extent) -> float | None:
    """Draw a background plane in grey; return the opacity the field over it should take
    (None: no underlay, draw the field opaque)."""
    if values is None or window is None:
        return None
    ax.imshow(values.T, origin="lower", extent=extent, cmap=UNDERLAY_CMAP, vmin=window.low,
              vmax=window.high, interpolation="nearest", aspect="equal")
    return FIELD_ALPHA


def underlay_handles(data: ResultsData) -> list:
    """A legend entry naming the underlay and its window (none without a background)."""
    window = background_window(data)
    if window is None:
        return []
    from matplotlib.patches import Patch

    return [Patch(facecolor="0.5", edgecolor="black", label=f"anatomy (grey): {window.note}")]
