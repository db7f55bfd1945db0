"""``pareto.png``: the trade-off between target coverage and normal-tissue exposure over every
candidate catheter position of a ``perfusion plan`` directory (:mod:`.plan_files`).

x = normal-tissue volume with AUC ≥ threshold [mL] (``normal_volume_above_ml``, the exposure
to keep small), y = target coverage = share of the target volume with AUC ≥ threshold [%]
(``tumor_coverage`` × 100, to make large); AUC of total tissue concentration [µg·h/mL].
Where a threshold leaves every candidate the same volume (all above it, or none), that axis
shows the mean AUC of the region instead (``normal_auc``, ``tumor_auc``), and says so. Each
candidate is a point coloured by its score; the Pareto front (:func:`pareto_front`: no other
candidate has at least the coverage with at most the exposure, and strictly better in one) is
drawn as the staircase of what is attainable, its points labelled with their vessel (segment)
id, as are the five best ranks; the case's own catheter vessel is a star. The footnote states
the score's definition and the threshold. Drawn like :mod:`.plots` (object API, ``DPI`` 100).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .palette import PALETTE
from .plan_files import PlanTable, load_plan_table
from .slices import new_figure, save_figure

TOP_LABELLED = 5                    # the best ranks labelled, front or not
FRONT_COLOUR = "#d62728"
CASE_COLOUR = PALETTE["catheter"]


def pareto_front(exposure: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated candidates when ``exposure`` is minimised and ``coverage``
    maximised: no other candidate has exposure ≤ and coverage ≥ with one of them strict.
    Identical points are all on the front; NaN rows never are."""
    exposure, coverage = np.asarray(exposure, float), np.asarray(coverage, float)
    valid = np.flatnonzero(np.isfinite(exposure) & np.isfinite(coverage))
    order = valid[np.lexsort((-coverage[valid], exposure[valid]))]
    sorted_exposure, sorted_coverage = exposure[order], coverage[order]
    _, first, group = np.unique(sorted_exposure, return_index=True, return_inverse=True)
    group_best = sorted_coverage[first]            # the best coverage at each exposure
    before = np.concatenate([[-np.inf], np.maximum.accumulate(group_best)[:-1]])
    on_front = (sorted_coverage == group_best[group]) & (sorted_coverage > before[group])
    mask = np.zeros(len(exposure), dtype=bool)
    mask[order[on_front]] = True
    return mask


def _staircase(exposure: np.ndarray, coverage: np.ndarray):
    """The attainable boundary through the front's points: (x, y) of a step line."""
    order = np.argsort(exposure, kind="stable")
    return exposure[order], coverage[order]


def pareto_figure(plan_dir: Path, size=(1100, 780)) -> Path:
    """Write ``plan_dir/pareto.png`` and return it."""
    table = load_plan_table(plan_dir)
    return save_figure(build_pareto_figure(table, size), Path(plan_dir) / "pareto.png")


def _axes(columns: dict, threshold: float, target: str):
    """(x, its label, y, its label): the volumes above the threshold, or — where every
    candidate has the same one (a threshold all or none of them reach) — the mean AUCs."""
    x, y = columns["normal_volume_above_ml"], 100 * columns["tumor_coverage"]
    xlabel = f"normal-tissue exposure: volume with AUC ≥ {threshold:.3g} µg·h/mL (mL)"
    ylabel = f"{target} coverage: volume with AUC ≥ {threshold:.3g} µg·h/mL (%)"
    if np.nanmax(x) == np.nanmin(x):
        x = columns["normal_auc"]
        xlabel = (f"normal-tissue exposure: mean AUC (µg·h/mL; every candidate exposes the "
                  f"same volume above {threshold:.3g})")
    if np.nanmax(y) == np.nanmin(y):
        y = columns["tumor_auc"]
        ylabel = (f"{target} mean AUC (µg·h/mL; every candidate covers "
                  f"{100 * columns['tumor_coverage'][0]:.3g}% above {threshold:.3g})")
    return x, xlabel, y, ylabel


def build_pareto_figure(table: PlanTable, size=(1100, 780)):
    """The unsaved figure of :func:`pareto_figure`."""
    columns, meta = table.columns, table.meta
    threshold = table.threshold
    target = str(meta.get("target", "tumor"))
    exposure, xlabel, coverage, ylabel = _axes(columns, threshold, target)
    vessels, ranks = table.vessels, columns["rank"].astype(int)
    front = pareto_front(exposure, coverage)
    fig = new_figure(size)
    ax = fig.subplots()
    points = ax.scatter(exposure, coverage, c=columns["score"], cmap="viridis", s=34,
                        edgecolors="0.3", linewidths=0.4, zorder=3,
                        label=f"candidate vessel ({len(vessels)})")
    fig.colorbar(points, ax=ax, label="score (higher ranks first)", pad=0.01)
    x, y = _staircase(exposure[front], coverage[front])
    ax.step(x, y, where="post", color=FRONT_COLOUR, lw=2, zorder=2,
            label=f"Pareto front ({int(front.sum())} vessels)")
    ax.scatter(x, y, s=90, facecolors="none", edgecolors=FRONT_COLOUR, linewidths=1.6, zorder=4)
    labelled = front | (ranks <= TOP_LABELLED)
    for index in np.flatnonzero(labelled):
        text = f"{vessels[index]}" + (f" (#{ranks[index]})" if ranks[index] <= TOP_LABELLED else "")
        ax.annotate(text, (exposure[index], coverage[index]), xytext=(6, 5),
                    textcoords="offset points", fontsize=10, zorder=5,
                    color=FRONT_COLOUR if front[index] else "0.15")
    _mark_case_vessel(ax, table, exposure, coverage)
    ax.set_xlabel(xlabel, fontsize=12)
    ax.set_ylabel(ylabel, fontsize=12)
    ax.set_ylim(min(0.0, float(np.nanmin(coverage))), 1.02 * float(np.nanmax(coverage)))
    ax.set_xlim(left=min(0.0, float(np.nanmin(exposure))))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=10)
    ax.set_title(f"{meta['case']}: catheter positions on the {meta['supply']} tree\n"
                 f"{target} coverage vs normal-tissue exposure (labels: vessel id, #rank)",
                 fontsize=13)
    fig.text(0.01, 0.005, f"{meta['score']}; AUC of total tissue concentration, "
             f"threshold {threshold:.3g} µg·h/mL; front: no other vessel covers at least as "
             "much with at most as much normal exposure", fontsize=9, color="0.25",
             ha="left", va="bottom", wrap=True)
    fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
    return fig


def _mark_case_vessel(ax, table: PlanTable, exposure: np.ndarray, coverage: np.ndarray) -> None:
    """Star the case's own catheter vessel; say so in the legend when it is no candidate."""
    case_vessel = table.meta.get("case_vessel")
    if case_vessel is None:
        return
    where = np.flatnonzero(table.vessels == int(case_vessel))
    if not where.size:
        ax.plot([], [], " ", label=f"case catheter: vessel {case_vessel} (not a candidate)")
        return
    index = where[0]
    ax.scatter([exposure[index]], [coverage[index]], marker="*", s=320, color="none",
               edgecolors=CASE_COLOUR, linewidths=1.8, zorder=6,
               label=f"case catheter: vessel {case_vessel} "
                     f"(#{int(table.columns['rank'][index])})")
