"""Line plots of a drug run: concentration–time curves and exposure–volume histograms.

Units shown: time h, concentrations µg/mL (= 1000 × kg/m³; ``c_t_<class>`` class means of total
tissue concentration C_t, ``c_sys`` systemic plasma), AUC µg·h/mL (= kg·s/m³ / 3.6).
IA = the intra-arterial run (solid lines), IV = the intravenous comparator (dashed).
Class colours are the 3D scene's (:data:`.palette.PALETTE`): tumour, necrotic core, and normal
tissue in the organ's colour; systemic plasma, which the scene does not draw, dark grey.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ResultsError
from ..library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML
from ..results.load import ResultsData
from .palette import PALETTE
from .slices import new_figure, save_figure

_CLASS_COLOURS = {"normal": PALETTE["organ"], "tumor": PALETTE["tumour"],
                  "tumour": PALETTE["tumour"], "necrotic": PALETTE["necrotic core"]}
_OTHER_COLOURS = ["#bcbd22", "#9467bd", "#ff7f0e", "#17becf"]   # none of them in PALETTE
PLASMA_COLOUR = "0.25"
DVH_DECADES = 8     # the exposure–volume axis reaches at most this far below the top AUC


def class_colour(name: str, order: int = 0) -> str:
    """The colour a tissue class has in every plot."""
    return _CLASS_COLOURS.get(name, _OTHER_COLOURS[order % len(_OTHER_COLOURS)])


def infusion_windows(data: ResultsData) -> list[tuple[float, float, str]]:
    """``(start, end, route)`` [s] of every infusion in the resolved case, repeats expanded."""
    from ..library.units import parse_quantity

    windows = []
    for spec in data.case.get("infusion", []):
        start = parse_quantity(spec["start"], "s")
        duration = parse_quantity(spec["duration"], "s")
        every = parse_quantity(spec["every"], "s") if "every" in spec else 0.0
        windows += [(start + n * every, start + n * every + duration, spec["route"])
                    for n in range(int(spec.get("repeat", 1)))]
    return windows


def _require_drug(data: ResultsData, what: str) -> None:
    if not data.has_drug or not data.timeseries:
        raise ResultsError(f"{data.directory} holds no drug run; {what} needs a case with "
                           "[[infusion]] (steady-only results have no concentrations)")


def _shade_infusions(ax, data: ResultsData) -> None:
    for n, (start, end, route) in enumerate(infusion_windows(data)):
        ax.axvspan(start / 3600, end / 3600, color="#ffd27f", alpha=0.35, lw=0,
                   label="infusion" if n == 0 else None)


def _log_floor(curves: list[np.ndarray]) -> float:
    """A log-axis floor: below every curve's final value, at most five decades under the peak."""
    peak = max((float(np.nanmax(c)) for c in curves if c.size), default=1.0)
    if peak <= 0:
        return 1e-6
    ends = [float(c[-1]) for c in curves if c.size and c[-1] > 0]
    return max(peak * 1e-5, 0.3 * min(ends)) if ends else peak * 1e-5


def _log_ticks(axis, decades: float = 0.0) -> None:
    """Plain numbers (0.01, 2, 50) instead of powers of ten on a log axis; powers of ten only
    where it spans more than four ``decades`` (1-2-5 ticks would overlap)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0,) if decades > 4 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _curve_legend(data: ResultsData, runs: list[str]):
    """Colour = class (or plasma), line style = route, shading = infusion."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=class_colour(name, order), lw=2.5, label=name)
               for order, name in enumerate(data.class_names[1:])
               if f"c_t_{name}" in data.timeseries]
    handles.append(Line2D([], [], color=PLASMA_COLOUR, lw=2.5, label="plasma"))
    handles += [Line2D([], [], color="0.4", lw=1.8, ls=style, label=label)
                for run, style, label in [("IA", "-", "intra-arterial"),
                                          ("IV", "--", "intravenous")] if run in runs]
    return handles + [Patch(color="#ffd27f", alpha=0.5, label="infusion")]


def curves_figure(data: ResultsData, path, size=(1200, 700)) -> Path:
    """Mean C_t per tissue class (left) and systemic plasma c_sys (right), IA solid, IV dashed."""
    return save_figure(build_curves_figure(data, size), path)


def build_curves_figure(data: ResultsData, size=(1200, 700)):
    """The unsaved figure of :func:`curves_figure`."""
    _require_drug(data, "the concentration–time figure")
    runs = [("IA", data.timeseries, "-")]
    if data.timeseries_iv:
        runs.append(("IV", data.timeseries_iv, "--"))
    fig = new_figure(size)
    tissue_ax, plasma_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    tissue_curves, plasma_curves = [], []
    for run, series, style in runs:
        hours = series["time_s"] / 3600
        for order, name in enumerate(data.class_names[1:]):
            if f"c_t_{name}" in series:
                values = series[f"c_t_{name}"] * KG_M3_TO_UG_ML
                tissue_curves.append(values)
                tissue_ax.plot(hours, values, style, color=class_colour(name, order), lw=2,
                               label=f"{name} ({run})")
        values = series["c_sys"] * KG_M3_TO_UG_ML
        plasma_curves.append(values)
        plasma_ax.plot(hours, values, style, color=PLASMA_COLOUR, lw=2, label=f"plasma ({run})")
    for ax, curves, title in [(tissue_ax, tissue_curves, "Tissue: class mean $C_t$"),
                              (plasma_ax, plasma_curves, "Systemic plasma $c_{sys}$")]:
        _shade_infusions(ax, data)
        ax.set_yscale("log")
        ax.set_ylim(bottom=_log_floor(curves))
        ax.set_xlim(0, data.timeseries["time_s"][-1] / 3600)
        ax.set_xlabel("time (h)", fontsize=12)
        ax.set_ylabel("concentration (µg/mL)", fontsize=12)
        ax.set_title(title, fontsize=13)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
        _log_ticks(ax.yaxis)
    handles = _curve_legend(data, [run for run, *_ in runs])
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=11,
               frameon=False)
    advantage = data.metrics.get("regional_advantage")
    note = (f" — regional advantage {advantage:.2g}×"
            if isinstance(advantage, (int, float)) else "")
    fig.suptitle(f"{data.metrics.get('case', data.directory.name)}: intra-arterial (solid) "
                 f"vs intravenous (dashed){note}" if len(runs) > 1 else
                 f"{data.metrics.get('case', data.directory.name)}: intra-arterial infusion",
                 fontsize=14)
    return fig


def exposure_volume(auc: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Fraction of the voxels in ``auc`` with AUC ≥ each level (same units as ``levels``)."""
    ordered = np.sort(np.ravel(auc))
    if not ordered.size:
        return np.zeros_like(levels, dtype=float)
    return 1.0 - np.searchsorted(ordered, levels, side="left") / ordered.size


def _auc_levels(maps: list[np.ndarray], threshold: float | None) -> np.ndarray:
    """Log-spaced AUC levels from below the smallest positive value of every map (each
    curve's whole support, floored ``DVH_DECADES`` under the top) to above the largest."""
    values = np.concatenate([m[m > 0] for m in maps]) if maps else np.array([])
    if not values.size:
        return np.linspace(0, 1, 200)
    low, high = values.min(), values.max()
    if threshold:
        low = min(low, threshold)
    return np.geomspace(max(low, high * 10.0 ** -DVH_DECADES) / 1.5, high * 1.05, 400)


def dvh_figure(data: ResultsData, path, size=(1000, 700)) -> Path:
    """Exposure–volume histograms: share of each class's volume with AUC ≥ level (µg·h/mL)."""
    return save_figure(build_dvh_figure(data, size), path)


def build_dvh_figure(data: ResultsData, size=(1000, 700)):
    """The unsaved figure of :func:`dvh_figure`; x from below every curve's smallest AUC."""
    _require_drug(data, "the exposure–volume figure")
    maps = [("IA", data.fields["auc"] * KG_S_M3_TO_UG_H_ML, "-")]
    if "auc_iv" in data.fields:
        maps.append(("IV", data.fields["auc_iv"] * KG_S_M3_TO_UG_H_ML, "--"))
    names = data.class_names[1:]
    per_class = [(run, style, order, name, volume[data.class_mask(name)])
                 for run, volume, style in maps for order, name in enumerate(names)
                 if data.class_mask(name).any()]
    threshold = data.metrics.get("thresholds", {}).get("auc_kg_s_m3")
    levels = _auc_levels([values for *_, values in per_class],
                         None if threshold is None else threshold * KG_S_M3_TO_UG_H_ML)
    fig = new_figure(size)
    ax = fig.subplots()
    for run, style, order, name, values in per_class:
        ax.plot(levels, 100 * exposure_volume(values, levels), style, lw=2.2,
                color=class_colour(name, order), label=f"{name} ({run}, {values.size} voxels)")
    if threshold is not None:
        level = threshold * KG_S_M3_TO_UG_H_ML
        ax.axvline(level, color="0.2", ls=":", lw=1.8, label=f"threshold {level:.3g} µg·h/mL")
        if data.target and data.class_mask(data.target).any():
            share = 100 * exposure_volume(data.fields["auc"][data.class_mask(data.target)]
                                          * KG_S_M3_TO_UG_H_ML, np.array([level]))[0]
            ax.annotate(f"{share:.0f}% of {data.target} ≥ threshold", (level, share),
                        xytext=(18, -48), textcoords="offset points", fontsize=11,
                        bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"},
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.set_xscale("log")
    _log_ticks(ax.xaxis, np.log10(levels[-1] / levels[0]))
    ax.set_xlim(levels[0], levels[-1])
    ax.set_ylim(0, 102)
    ax.set_xlabel("AUC of total tissue concentration (µg·h/mL)", fontsize=12)
    ax.set_ylabel("volume with AUC ≥ level (%)", fontsize=12)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=11, loc="lower left")
    only = ("" if len(maps) > 1 else
            "\nintra-arterial only (the IV comparator's AUC map is not saved)")
    ax.set_title(f"{data.metrics.get('case', data.directory.name)}: exposure–volume "
                 f"histogram{only}", fontsize=13)
    return fig
