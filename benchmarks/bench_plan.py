"""Catheter planning (issue 16, docs/model.md §13.2): ``perfusion plan`` against full runs.

The case is ``cases/liver_tree_lobar.toml`` (64 × 56 × 48 voxels of 3 mm, a generated
hepatic arterial tree with tumour feeders, doxorubicin 50 mg over 30 min followed 4 h with
the IV comparator) as shipped (400 terminals) and with ``supplies.0.tree.terminals=2000``;
both on backend numpy float64. For each tree, in one process:

- the plan, ``perfusion.plan.run.plan_case`` (what ``perfusion plan`` runs; split-dose pairs
  on, as the command's default): candidates (vessels of radius ≥ ``--min-radius``, default
  0.5 mm) and pieces (one steady territory and exposure solve each), its seconds in total
  and by part from ``Plan.info["seconds"]`` — steady (domain, tree growth and the steady
  solve), reference run (saturable drugs such as doxorubicin only: one nonlinear run of the
  case with its own catheter, continued past its duration until the linear tail is small,
  for the secant rates of ``perfusion.plan.secant``), setup (the rest before the responses:
  the total-exposure operator and the candidates' pieces and weights), responses (the piece
  solves), candidates (the weighted sums and the ranking), pairs — and per candidate; then,
  separately, writing it (``write_plan``: CSVs, JSON, compressed maps, tree VTP; what
  ``perfusion plan --no-figures`` adds);
- when fewer than ``--min-count`` (100) candidates exist at the default radius, the plan
  again at ``--small-radius`` (default 0.3 mm), so that at least that many are ranked;
- one full run, ``perfusion.pipeline.run_case`` into a temporary directory (what
  ``perfusion run`` without ``--render`` runs: steady state, drug loop with the IV
  comparator, checks, results written), its wall seconds and its steady and drug stages
  (``metrics.json`` ``timings``);
- a peer that does not depend on our code: the median time of one ``np.copyto`` of a
  grid-sized float64 array (NumPy copy bandwidth), every time above expressed in copies.

Goal (issue 16): every candidate, at least 100, ranked in less time than three full runs of
the case: plan seconds / run seconds < 3 with ≥ 100 candidates. With ``--repeat N`` each
measurement is the best of N, taken round-robin (plans, then the run, N times); CPU seconds
of the same measurement show whether the process was descheduled.

    .venv/bin/python benchmarks/bench_plan.py
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_plan.py --repeat 3 --output plan.json
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from perfusion.case import load_case
from perfusion.library.units import parse_quantity
from perfusion.pipeline import run_case
from perfusion.plan.candidates import MIN_RADIUS
from perfusion.plan.files import write_plan
from perfusion.plan.run import plan_case

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as script or -m
from bench_common import machine

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "liver_tree_lobar.toml"
SHIPPED_TERMINALS = 400
GOAL_RUNS = 3          # the plan must take less than this many full runs …
GOAL_CANDIDATES = 100  # … for at least this many candidates
#: The parts of ``Plan.info["seconds"]`` (absent ones count 0 s); "setup" is the rest.
PARTS = ("steady", "reference_run", "responses", "candidates", "pairs")


def copy_seconds(shape, repeat: int = 200) -> float:
    """Median seconds of one ``np.copyto`` between two float64 arrays of ``shape``."""
    rng = np.random.default_rng(0)
    source, target = rng.random(shape), np.empty(shape)
    np.copyto(target, source)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        np.copyto(target, source)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed_plan(case, radius: float, folder: Path) -> dict:
    """One plan at ``radius`` and its writing into ``folder``; seconds and sizes."""
    cpu = time.process_time()
    plan = plan_case(case, min_radius=radius, backend="numpy")
    cpu = time.process_time() - cpu
    start = time.perf_counter()
    write_plan(plan, folder, overwrite=True)
    write = time.perf_counter() - start
    seconds = {part: plan.info["seconds"].get(part, 0.0) for part in PARTS}
    total = plan.info["seconds"]["total"]
    horizon = plan.info.get("reference_horizon_s")
    return {"min_radius_mm": radius * 1e3, "candidates": plan.info["candidates"],
            "pieces": plan.info["pieces"], **{f"{part}_s": seconds[part] for part in PARTS},
            "setup_s": total - sum(seconds.values()), "plan_s": total, "plan_cpu_s": cpu,
            "write_s": write, "linear_model": plan.info["linear_model"],
            "reference_horizon_h": None if horizon is None else horizon / 3600}


def timed_run(case, folder: Path) -> dict:
    """One full run of ``case`` into ``folder``: wall and CPU seconds and its stages."""
    cpu, start = time.process_time(), time.perf_counter()
    result = run_case(case, folder, backend="numpy", overwrite=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    stages = result.metrics["timings"]
    return {"run_s": wall, "run_cpu_s": cpu, "run_steady_s": stages["domain"] + stages["steady"],
            "run_drug_s": stages.get("drug", 0.0),
            "mass_balance_error": result.metrics.get("mass_balance_error")}


def best(measurements: list[dict], key: str) -> dict:
    return min(measurements, key=lambda m: m[key])


def measure(terminals: int, radii: list[float], repeat: int, folder: Path) -> list[dict]:
    """Rows for one tree: the plan at ``radii[0]``, at ``radii[1]`` too if the first has fewer
    than ``GOAL_CANDIDATES`` candidates, and the full run; each the best of ``repeat``."""
    overrides = [] if terminals == SHIPPED_TERMINALS else [
        f"supplies.0.tree.terminals={terminals}"]
    case = load_case(CASE, overrides)
    default, small = radii
    plans, runs = {default: []}, []
    for _ in range(repeat):
        plans[default].append(timed_plan(case, default, folder / f"plan-{terminals}"))
        if plans[default][0]["candidates"] < GOAL_CANDIDATES:
            plans.setdefault(small, []).append(
                timed_plan(case, small, folder / f"plan-{terminals}-small"))
        runs.append(timed_run(case, folder / f"run-{terminals}"))
    run = best(runs, "run_s")
    rows = []
    for measured in plans.values():
        plan = best(measured, "plan_s")
        rows.append({"terminals": terminals, **plan, **run,
                     "per_candidate_s": plan["plan_s"] / plan["candidates"],
                     "plan_per_run": plan["plan_s"] / run["run_s"],
                     "plan_write_per_run": (plan["plan_s"] + plan["write_s"]) / run["run_s"]})
        rows[-1]["goal_met"] = bool(rows[-1]["candidates"] >= GOAL_CANDIDATES
                                    and rows[-1]["plan_per_run"] < GOAL_RUNS)
    return rows


def markdown(rows: list[dict], copy_s: float) -> str:
    header = ("terminals", "min radius mm", "candidates", "pieces", "steady s",
              "reference run s (h simulated)", "setup s", "responses s", "candidates s", "pairs s", "plan s", "plan CPU s", "ms / candidate", "write s",
              "full run s (steady, drug)", "run CPU s", "plan / run", "(plan + write) / run",
              "plan in copies", "run in copies", "goal (≥ 100, < 3 runs)")
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if name.startswith(("full", "goal", "reference")) else "---:"
                            for name in header) + "|"]
    for r in rows:
        goal = ("met" if r["goal_met"] else
                "not met" if r["candidates"] >= GOAL_CANDIDATES else "n/a: < 100 candidates")
        reference = ("– (linear drug)" if r["reference_horizon_h"] is None else
                     f"{r['reference_run_s']:.2f} ({r['reference_horizon_h']:.3g} h)")
        lines.append(
            f"| {r['terminals']} | {r['min_radius_mm']:.2g} | {r['candidates']} | {r['pieces']} "
            f"| {r['steady_s']:.2f} | {reference} | {r['setup_s']:.2f} "
            f"| {r['responses_s']:.2f} | {r['candidates_s']:.2f} "
            f"| {r['pairs_s']:.2f} | {r['plan_s']:.2f} | {r['plan_cpu_s']:.2f} "
            f"| {1e3 * r['per_candidate_s']:.1f} | {r['write_s']:.2f} "
            f"| {r['run_s']:.2f} ({r['run_steady_s']:.2f}, {r['run_drug_s']:.2f}) "
            f"| {r['run_cpu_s']:.2f} | {r['plan_per_run']:.2f} | {r['plan_write_per_run']:.2f} "
            f"| {r['plan_s'] / copy_s:.3g} | {r['run_s'] / copy_s:.3g} | {goal} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terminals", type=int, nargs="+", default=[SHIPPED_TERMINALS, 2000])
    parser.add_argument("--min-radius", default=f"{MIN_RADIUS * 1e3:g} mm",
                        help="the plan's candidate radius (perfusion plan --min-radius)")
    parser.add_argument("--small-radius", default="0.3 mm",
                        help=f"also plan at this radius where fewer than {GOAL_CANDIDATES} "
                             "candidates exist at --min-radius")
    parser.add_argument("--repeat", type=int, default=1, help="best of N, round-robin")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    radii = [parse_quantity(args.min_radius, "m"), parse_quantity(args.small_radius, "m")]
    info = machine()
    shape = tuple(load_case(CASE).grid.shape)
    copy_s = copy_seconds(shape)
    print(f"# Catheter planning benchmark — {info['date']}\n\n{info['cpu']}, {info['cores']} "
          f"cores; Python {info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}; "
          f"backend {info['backend']}; load average at start {info['load_average_1min']:.2f}\n"
          f"case {CASE.relative_to(ROOT)}, grid {shape}; peer: np.copyto of a {shape} float64 "
          f"array {copy_s * 1e6:.1f} µs ({2 * 8 * np.prod(shape) / copy_s / 1e9:.1f} GB/s "
          "read + written)", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for terminals in args.terminals:
            measured = measure(terminals, radii, args.repeat, Path(tmp))
            rows += measured
            for r in measured:
                print(f"  {terminals} terminals, r ≥ {r['min_radius_mm']:.2g} mm: "
                          f"{r['candidates']} candidates in {r['plan_s']:.1f} s; full run "
                          f"{r['run_s']:.1f} s; plan / run {r['plan_per_run']:.2f}", flush=True)
    info["load_average_1min_end"] = os.getloadavg()[0]
    print(f"\nload average at end {info['load_average_1min_end']:.2f}\n\n"
          + markdown(rows, copy_s))
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"machine": info, "case": str(CASE.relative_to(ROOT)),
                       "copy_s": copy_s, "results": rows}, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
