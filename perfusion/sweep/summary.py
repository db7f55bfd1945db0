"""The sweep's summary: ``summary.csv``, ``summary.png`` and, for sampled sweeps, sensitivity.

``summary.csv`` has one row per member: ``index``, the varied parameters (as given),
``status`` (done / failed / missing), the headline metrics (:data:`HEADLINE`, SI as in
``metrics.json``; ``seconds`` is the member's run time) and ``error`` (the failure's text,
from ``errors.json`` or a job-array task's ``members/NNNN.error.json``; :data:`MISSING` for a
member with neither result nor error).

Sensitivity (``sensitivity.json``): for ``method = "sobol"`` first- and total-order Sobol
indices (SALib ``sobol.analyze`` on the Saltelli design); for random and Latin-hypercube
samples first-order indices by RBD-FAST (SALib ``rbd_fast``, valid for any sample), each per
headline metric. Without SALib, with a failed member, or with fewer than 20 random or
Latin-hypercube samples, squared Spearman rank correlations are given instead and the file's
``method`` says so and why (e.g. "squared Spearman rank correlation (SALib not installed;
not Sobol)").
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
from pathlib import Path

import numpy as np

from .labels import METRIC_LABELS, parameter_label, varied_parameters
from .sampling import numeric

log = logging.getLogger(__name__)

HEADLINE = {
    "auc_tumor": ("auc", "tumor"), "auc_normal": ("auc", "normal"),
    "tumor_to_normal_auc": ("tumor_to_normal_auc",), "regional_advantage": ("regional_advantage",),
    "perfusion_mean_tumor": ("perfusion_mean", "tumor"),
    "mass_balance_error": ("mass_balance_error",),
}
FIGURE_METRIC = ("tumor_to_normal_auc", "regional_advantage", "perfusion_mean_tumor")
SPEARMAN = "squared Spearman rank correlation"
MISSING = ("no result and no error recorded: not run yet, or its job was killed outright "
           "(out of memory, node failure); see the job logs in the sweep folder")


def headline(metrics: dict) -> dict:
    """The headline numbers of one member's ``metrics.json`` (NaN where absent)."""
    row = {}
    for column, path in HEADLINE.items():
        value = metrics
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        row[column] = float(value) if isinstance(value, (int, float)) else math.nan
    row["seconds"] = float(sum(metrics.get("timings", {}).values()))
    return row


def summary_rows(sweep, output: Path, errors: dict[int, str]) -> list[dict]:
    """One row per member, from the member folders (complete iff ``metrics.json`` exists)."""
    from .execute import member_directory

    rows = []
    for member in sweep.members:
        row = {"index": member.index}
        row.update({key: _shown(value) for key, value in member.parameters.items()})
        metrics_file = member_directory(output, member.index) / "metrics.json"
        if metrics_file.exists():
            row["status"] = "done"
            row.update(headline(json.loads(metrics_file.read_text(encoding="utf-8"))))
            row["error"] = ""
        else:
            row["status"] = "failed" if member.index in errors else "missing"
            row.update({column: math.nan for column in [*HEADLINE, "seconds"]})
            row["error"] = errors.get(member.index, MISSING)
        rows.append(row)
    return rows


def write_summary(rows: list[dict], output: Path) -> Path:
    path = output / "summary.csv"
    tmp = output / ".summary.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: repr(v) if isinstance(v, float) else v for k, v in row.items()}
                         for row in rows)
    os.replace(tmp, path)
    return path


def write_figure(sweep, rows: list[dict], output: Path) -> Path | None:
    """Headline metrics (clinical units) against each parameter that differs between the finished
    members (constant ones left out); the black line is the mean per value, or over sampled
    parameters the median in quantile bins with the 10–90 % band — the legend says which."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: no summary figure")
        return None
    done = [r for r in rows if r["status"] == "done"]
    if not done:
        return None
    metrics = [m for m in FIGURE_METRIC if any(np.isfinite(r[m]) for r in done)]
    params = varied_parameters(sweep.varied, done)
    if not params:
        log.info("every varied parameter is constant over the finished members: no summary figure")
        return None
    fig, axes = plt.subplots(len(metrics), len(params), squeeze=False,
                             figsize=(3.6 * len(params), 2.6 * len(metrics)))
    for j, key in enumerate(params):
        values = [r[key] for r in done]
        numbers = [numeric(v) for v in values]
        categorical = any(n is None for n in numbers)
        labels = sorted(set(values), key=str) if categorical else None
        x = np.array([labels.index(v) for v in values] if categorical else numbers, dtype=float)
        for i, metric in enumerate(metrics):
            ax = axes[i][j]
            name, factor = METRIC_LABELS[metric]
            y = np.array([r[metric] for r in done]) * factor
            ax.plot(x, y, "o", alpha=0.6, ms=4, label="member")
            if key in sweep.sampled and len(x) >= 8:
                _band(ax, x, y)
            else:
                _means(ax, x, y)
            if categorical:
                ax.set_xticks(range(len(labels)), [str(v) for v in labels], fontsize=7, rotation=20)
            ax.set_xlabel(parameter_label(key, values) if i == len(metrics) - 1 else "", fontsize=8)
            ax.set_ylabel(name if j == 0 else "", fontsize=8)
            if i == 0:
                ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"sweep {sweep.spec.sweep.name}: {len(done)} of {len(rows)} members")
    fig.tight_layout()
    path = output / "summary.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _means(ax, x, y):
    levels = np.unique(x)
    ax.plot(levels, [np.nanmean(y[x == v]) for v in levels], "-", lw=1, color="k",
            label="mean of the members at each value")


def _band(ax, x, y, bins=6):
    """Median and 10–90 % band of y in quantile bins of x."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    centre, low, mid, high = [], [], [], []
    for a, b in zip(edges[:-1], edges[1:]):
        inside = (x >= a) & (x <= b) & np.isfinite(y)
        if inside.sum() >= 2:
            centre.append(0.5 * (a + b))
            q = np.quantile(y[inside], [0.1, 0.5, 0.9])
            low.append(q[0]), mid.append(q[1]), high.append(q[2])
    if centre:
        ax.fill_between(centre, low, high, alpha=0.25, label="10–90 % of the members per bin")
        ax.plot(centre, mid, "-", color="k", lw=1, label="median per quantile bin")


def sensitivity(sweep, rows: list[dict]) -> dict | None:
    """Sensitivity indices of the headline metrics to the sampled parameters (or None)."""
    if not sweep.sampled or sweep.unit_samples is None:
        return None
    samples = sweep.spec.samples
    grid_size = len(rows) // len(sweep.unit_samples)
    result = {"method": None, "parameters": sweep.sampled, "grid_points": grid_size, "indices": {}}
    if grid_size != 1:
        result["note"] = "grid × samples: indices over the first grid point's samples only"
    block = rows[: len(sweep.unit_samples)]
    if any(r["status"] != "done" for r in block):
        result["note"] = "some members did not finish: Spearman correlations of those that did"
    x = sweep.unit_samples
    problem = {"num_vars": x.shape[1], "names": sweep.sampled, "bounds": [[0.0, 1.0]] * x.shape[1]}
    for metric in ("tumor_to_normal_auc", "regional_advantage", "auc_tumor", "perfusion_mean_tumor"):
        y = np.array([r[metric] for r in block], dtype=float)
        if not np.isfinite(y).any():
            continue
        result["indices"][metric] = _indices(samples, problem, x, y, result)
    if "SALib not installed" in (result["method"] or ""):
        log.warning("sensitivity.json gives %s", result["method"])
    return result


def _indices(samples, problem, x, y, result) -> dict:
    reason = "some members did not finish"
    if np.isfinite(y).all():
        reason = "fewer than 20 samples for RBD-FAST"
        try:
            if samples.method == "sobol":
                from SALib.analyze import sobol

                s = sobol.analyze(problem, y, calc_second_order=False, seed=samples.seed)
                result["method"] = "Sobol (SALib, Saltelli design): S1 and ST"
                return {name: {"S1": float(s["S1"][k]), "ST": float(s["ST"][k])}
                        for k, name in enumerate(problem["names"])}
            if len(y) >= 2 * 10:
                from SALib.analyze import rbd_fast

                s = rbd_fast.analyze(problem, x, y, seed=samples.seed)
                result["method"] = "first-order indices by RBD-FAST (SALib)"
                return {name: {"S1": float(s["S1"][k])} for k, name in enumerate(problem["names"])}
        except ImportError:
            reason = "SALib not installed; pip install perfusion-ia[sweep] for Sobol/RBD-FAST indices"
    from scipy.stats import spearmanr

    finite = np.isfinite(y)
    result["method"] = result["method"] or f"{SPEARMAN} ({reason}; not Sobol)"
    return {name: {"rho2": float(spearmanr(x[finite, k], y[finite]).statistic ** 2)
                   if finite.sum() > 2 else math.nan}
            for k, name in enumerate(problem["names"])}


def _shown(value):
    return value if isinstance(value, (int, float, str)) else json.dumps(value)
