"""Class outlines on slice panels: tissue, tumour (with its core), necrotic core and any user
class, traced along voxel faces on the panel's mm extent, and their legend entries.
"""
from __future__ import annotations

import numpy as np

from ..results.load import ResultsData
from .underlay import underlay_handles

# (colour, line style, width) of each outline; other user classes cycle through _EXTRA.
_OUTLINE_STYLE = {"tissue": ("black", "-", 1.4), "tumour": ("#00d8ff", "--", 1.8),
                  "necrotic": ("#7dff4a", ":", 2.0)}
_EXTRA = [("#ff6ad5", "-.", 1.6), ("white", (0, (5, 1, 1, 1)), 1.6)]


def _outline_masks(labels: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    masks = {"tissue": labels > 0}
    if "tumor" in names:
        tumour = labels == names.index("tumor")
        if "necrotic" in names:
            tumour |= labels == names.index("necrotic")
        masks["tumour"] = tumour
    if "necrotic" in names:
        masks["necrotic"] = labels == names.index("necrotic")
    for name in names[1:]:
        if name not in ("normal", "tumor", "necrotic"):
            masks[name] = labels == names.index(name)
    return masks


def _style(name: str, order: int):
    return _OUTLINE_STYLE.get(name, _EXTRA[order % len(_EXTRA)])


def _rim(colour: str, width: float) -> list:
    """A dark rim that keeps light outlines visible on light colours."""
    from matplotlib import patheffects

    return [] if colour == "black" else [patheffects.withStroke(linewidth=width + 1.6,
                                                                foreground="black")]


def draw_outlines(ax, labels: np.ndarray, names: list[str], extent) -> None:
    """Contours of tissue, tumour (with its core), necrotic core and any user class."""
    up = 4   # contour a 4× nearest-upsampled mask: the line follows the voxel faces
    a, b = labels.shape[0] * up, labels.shape[1] * up
    x = np.linspace(extent[0], extent[1], 2 * a + 1)[1::2]   # sub-voxel centres
    y = np.linspace(extent[2], extent[3], 2 * b + 1)[1::2]
    for order, (name, mask) in enumerate(_outline_masks(labels, names).items()):
        if mask.any() and not mask.all():
            colour, style, width = _style(name, order)
            fine = np.kron(mask.T, np.ones((up, up))).astype(float)
            contour = ax.contour(x, y, fine, levels=[0.5], colors=[colour],
                                 linestyles=[style], linewidths=width)
            contour.set_path_effects(_rim(colour, width))


def outline_handles(data: ResultsData):
    """Legend entries for the outlines present anywhere in the grid."""
    from matplotlib.lines import Line2D

    masks = _outline_masks(data.labels, data.class_names)
    return [Line2D([], [], color=c, linestyle=s, linewidth=w, label=name, path_effects=_rim(c, w))
            for order, name in enumerate(masks) if masks[name].any()
            for c, s, w in [_style(name, order)]] + underlay_handles(data)
