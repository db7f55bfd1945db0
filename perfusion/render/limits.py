"""Colour limits of drug maps (µg/mL), one function for the slice figure and the animation,
so both show the same quantity at the same time with the same colours.

Scales: ``per-row`` (default) gives each output time its own limits, the 1st–99.5th
percentile of the tissue voxels at that time, so a late, 100× fainter time is not drawn
black; ``log`` uses one logarithmic range over the whole run (99.5th percentile down to
1/1000 of it, or the 1st percentile of positive values if higher).
"""
from __future__ import annotations

import numpy as np

from ..library.units import KG_M3_TO_UG_ML
from ..results.load import ResultsData

SCALES = ("per-row", "log")
SCALE_NOTES = {"per-row": "colour: per-row limits (1st–99.5th percentile of tissue at that time)",
               "log": "colour: log scale, one range over the whole run"}
LOG_DECADES = 3


def robust_limits(values: np.ndarray, low=1.0, high=99.5) -> tuple[float, float]:
    """Percentile colour limits of finite ``values``, widened if they coincide."""
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in np.percentile(values, [low, high]))
    return (vmin, vmax) if vmax > vmin else (vmin, vmin + max(abs(vmin), 1e-12))


def drug_limits(data: ResultsData, field: str, output: int,
                scale: str = "per-row") -> tuple[float, float]:
    """Colour limits [µg/mL] of ``field`` at drug output ``output`` under ``scale``."""
    tissue = data.labels > 0
    if scale == "per-row":
        return robust_limits(data.fields[field][output][tissue] * KG_M3_TO_UG_ML)
    if scale != "log":
        raise ValueError(f"colour scale {scale!r}: choose from {list(SCALES)}")
    values = data.fields[field][:, tissue] * KG_M3_TO_UG_ML
    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size:
        return 1e-3, 1.0
    vmax = float(np.percentile(positive, 99.5))
    return max(float(np.percentile(positive, 1.0)), vmax / 10 ** LOG_DECADES), vmax


def drug_norm(limits: tuple[float, float], scale: str = "per-row"):
    """The matplotlib norm of ``limits`` under ``scale`` (linear or logarithmic)."""
    from matplotlib.colors import LogNorm, Normalize

    return (LogNorm if scale == "log" else Normalize)(*limits)
