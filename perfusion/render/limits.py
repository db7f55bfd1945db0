"""Colour limits of drug maps (µg/mL), one function for the slice figure and the animation,
so both show the same quantity at the same time with the same colours.

Scales: ``per-row`` (default) gives each output time its own limits, from 0 to the 99.5th
percentile of the tissue voxels at that time, so a late, 100× fainter time is not drawn
black, and a nearly uniform time (1.465–1.485 µg/mL) reads as uniform instead of filling the
whole colour map with a 1 % ripple; ``log`` uses one logarithmic range over the whole run
(99.5th percentile down to 1/1000 of it, or the 1st percentile of positive values if higher).

Other maps (the steady IFP) use :func:`spread_limits`: the 1st–99th percentile, widened to
reach 0 where the tissue is near-uniform (its 10th–90th percentile spread under
``NEAR_UNIFORM`` of its level), so a near-uniform field is drawn near-uniform instead of its
ripple stretched over the whole colour map; the range in tissue is stated with the rule.
"""
from __future__ import annotations

import numpy as np

from ..library.units import KG_M3_TO_UG_ML
from ..results.load import ResultsData

SCALES = ("per-row", "log")
SCALE_NOTES = {"per-row": "colour: per-row limits, 0 to the 99.5th percentile of tissue at that time",
               "log": "colour: log scale, one range over the whole run"}
LOG_DECADES = 3
NEAR_UNIFORM = 0.10   # relative spread (p90 − p10) / max(|p10|, |p90|) under which limits reach 0


def robust_limits(values: np.ndarray, low=1.0, high=99.5) -> tuple[float, float]:
    """Percentile colour limits of finite ``values``, widened if they coincide."""
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in np.percentile(values, [low, high]))
    return (vmin, vmax) if vmax > vmin else (vmin, vmin + max(abs(vmin), 1e-12))


def spread_limits(values: np.ndarray, unit: str) -> tuple[float, float, str]:
    """Colour limits of a map and a note stating them: the 1st–99th percentile of finite
    ``values``, widened to include 0 when their 10th–90th percentile spread is under
    ``NEAR_UNIFORM`` of their level.

    Examples
    --------
    >>> spread_limits(np.array([0.95, 1.0, 1.05]), "mmHg")[0]   # near-uniform: from 0
    0.0
    """
    low, high = robust_limits(values, 1.0, 99.0)
    finite = values[np.isfinite(values)]
    span = f"{finite.min():.3g}–{finite.max():.3g} {unit}" if finite.size else "no values"
    bulk = np.percentile(finite, [10.0, 90.0]) if finite.size else (0.0, 0.0)
    if bulk[1] - bulk[0] >= NEAR_UNIFORM * max(abs(bulk[0]), abs(bulk[1])):
        return low, high, f"tissue {span}; colour 1st–99th percentile"
    floor, top = min(float(np.percentile(finite, 1.0)), 0.0), float(np.percentile(finite, 99.0))
    return (floor, max(top, 0.0), f"tissue {span}; 10th–90th percentile {bulk[0]:.3g}–"
            f"{bulk[1]:.3g}\n(within {NEAR_UNIFORM:.0%}: near-uniform): colour from 0")


def drug_limits(data: ResultsData, field: str, output: int,
                scale: str = "per-row") -> tuple[float, float]:
    """Colour limits [µg/mL] of ``field`` at drug output ``output`` under ``scale``."""
    tissue = data.labels > 0
    if scale == "per-row":
        return 0.0, robust_limits(data.fields[field][output][tissue] * KG_M3_TO_UG_ML)[1]
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
