"""Pressure solve: our MG-CG and Jacobi-CG against SciPy CG, PyAMG (and FiPy if installed).

The problem is one supply-pressure solve of docs/model.md §2.1 on an ``n³`` voxel grid (spacing
1 mm), for each ``n`` in ``--sizes`` (default 64 96 128):

    −∇·(K ∇p) + β p = q      in the tissue mask, no flux across the tissue surface

- mask: an ellipsoid centred in the box, semi-axes (0.49, 0.46, 0.43)·n voxels (~41% of
  the box, about as much as an ellipsoid can fill);
- K = 2e-9 m²/(Pa·s) · exp(g), with g a seeded standard normal field smoothed by a
  Gaussian of 2 voxels and rescaled to zero mean and unit standard deviation (a spatially
  correlated lognormal field, sigma = 1); K ×0.1 inside a sphere of radius n/6 voxels centred
  at (0.62, 0.40, 0.55)·n (a poorly perfused "tumour");
- β = 1.3e-6 1/(Pa·s) in the mask; p is the pressure above venous (p_ven = 0);
- q: 5 point inlets (single voxels, seeded, at least 3 voxels inside the surface) sharing
  5 mL/min, q = Q_inlet / h³ [1/s].

All methods solve the same operator: ours (CG preconditioned by one geometric multigrid
V(2,2) cycle, the package default, and the Jacobi-CG fallback) is matrix-free on the
bounding box of the mask (78% of the grid, identity outside the mask: ~1.9× as many
unknowns; ``x = b`` outside the box); the peers get the SPD reduced system on the mask
voxels, assembled as CSR from ``Stencil.faces``/``Stencil.reaction`` and checked against
``Stencil.apply`` before anything is timed. The target is
‖b − A x‖ ≤ 1e-8 ‖b‖; every method's true relative residual is recomputed with the same CSR
matrix afterwards, and every solution is compared with ours (MG-CG).

Timing: wall time, setup + solve, best of ``--repeat`` runs taken round-robin over the
methods (CPU time of the same run is reported too: on a shared machine, wall ≫ CPU means
the run was disturbed). Setup is: ours, building the stencil (the multigrid hierarchy is
built inside the solve and counted there); SciPy CG, nothing; SciPy Jacobi-CG, the inverse
diagonal; PyAMG, the smoothed aggregation hierarchy; FiPy, mesh, variables and terms (its
solve includes its matrix assembly). Building the CSR matrix is not charged to any peer.
ratio = peer total / MG-CG total (> 1: we are faster). Peak memory is measured in a second,
untimed run of each method under ``tracemalloc`` (peak of Python and NumPy allocations above
the level before the method started; C++-internal scratch of SciPy/PyAMG is not seen by
it), in MiB and in bytes per voxel of the n³ grid.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pressure.py                       # 64³, 96³, 128³
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pressure.py --repeat 3 \
        --output pressure.json                                          # shared machine
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc

import numpy as np
import pyamg

from perfusion.solvers.stencil import masked_stencil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as script or -m
from bench_common import machine  # noqa: E402
from pressure_problem import (METHODS, SPACING, TOLERANCE, assemble_csr,  # noqa: E402
                              build_problem, check_csr)

AGREEMENT = 1e-6  # ‖x − x_ours‖/‖x_ours‖; both residuals ≤ 1e-8, κ(A) here is ~1e3–1e4


def peak_memory(method, problem, matrix, b) -> float:
    """Peak MiB allocated (tracemalloc) by one untimed run, above the level before it."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    method(problem, matrix, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 2**20


def bench_size(n: int, seed: int, repeat: int, memory: bool, skipped: dict) -> list[dict]:
    """Rows of the table for one grid size; optional peers that fail go into ``skipped``."""
    problem = build_problem(n, seed)
    mask = problem["mask"]
    stencil = masked_stencil(problem["conductivity"], problem["reaction"], mask, SPACING)
    start = time.perf_counter()
    matrix = assemble_csr(stencil, mask)
    assembly = time.perf_counter() - start
    csr_error = check_csr(matrix, stencil, mask, seed)
    b = problem["rhs"][mask]
    print(f"\n{n}³: {mask.sum()} unknowns in the mask ({mask.mean():.0%} of {n**3}), "
          f"nnz {matrix.nnz}; CSR assembly {assembly:.2f} s (not charged); "
          f"CSR vs Stencil.apply {csr_error:.1e}", flush=True)
    best = {}
    for _ in range(repeat):  # round-robin, so a busy spell on a shared machine hits all alike
        for label, method in METHODS.items():
            if label in skipped:
                continue
            cpu = time.process_time()
            try:
                x, setup, solve, iterations = method(problem, matrix, b)
            except Exception as exc:  # an optional peer (FiPy) must not sink the others
                if not label.startswith("FiPy"):
                    raise
                skipped[label] = f"failed at {n}³: {exc.__class__.__name__}: {exc}"
                print(f"  {label} skipped: {skipped[label]}", flush=True)
                continue
            cpu = time.process_time() - cpu
            if label not in best or setup + solve < best[label][1] + best[label][2]:
                best[label] = (x, setup, solve, iterations, cpu)
    rows, reference = [], None
    for label, (x, setup, solve, iterations, cpu) in best.items():
        reference = x if reference is None else reference
        residual = np.linalg.norm(b - matrix @ x) / np.linalg.norm(b)
        row = {"n": n, "unknowns": int(mask.sum()), "method": label, "setup_s": setup,
               "solve_s": solve, "total_s": setup + solve, "cpu_s": cpu,
               "iterations": iterations, "true_relative_residual": float(residual),
               "difference_from_ours": float(np.linalg.norm(x - reference)
                                             / np.linalg.norm(reference)),
               "peak_mib": (peak_memory(METHODS[label], problem, matrix, b) if memory
                            else None)}
        row["peak_bytes_per_voxel"] = (None if row["peak_mib"] is None
                                       else row["peak_mib"] * 2**20 / n**3)
        row["ratio"] = row["total_s"] / rows[0]["total_s"] if rows else 1.0
        rows.append(row)
        print(f"  {label}: {row['total_s']:.2f} s (CPU {cpu:.2f} s), {iterations} it, "
              f"residual {residual:.2e}", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| n³ | method | setup s | solve s | total s | iterations | true rel. residual "
             "| ≤1e-8 | diff. from ours | ratio (peer/ours) | CPU s | peak MiB (tracemalloc) "
             "| peak B/voxel |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        memory = ("– | –" if r["peak_mib"] is None
                  else f"{r['peak_mib']:.0f} | {r['peak_bytes_per_voxel']:.0f}")
        iterations = "–" if r["iterations"] < 0 else str(r["iterations"])
        lines.append(
            f"| {r['n']}³ | {r['method']} | {r['setup_s']:.3f} | {r['solve_s']:.2f} "
            f"| {r['total_s']:.2f} | {iterations} | {r['true_relative_residual']:.2e} "
            f"| {'yes' if r['true_relative_residual'] <= TOLERANCE else '**no**'} "
            f"| {r['difference_from_ours']:.1e} | {r['ratio']:.2f} | {r['cpu_s']:.2f} | {memory} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96, 128],
                        help="grid sizes n (n³ voxels); 128 takes minutes and ~2 GiB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per method (best)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    skipped = {}
    try:
        import fipy  # noqa: F401, PLC0415
    except ImportError as exc:
        skipped["FiPy LinearCGSolver"] = f"not importable ({exc})"
    info = machine(pyamg=pyamg.__version__)
    print(f"# Pressure solve benchmark — {info['date']}\n\n{info['cpu']}, {info['cores']} cores; "
          f"Python {info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}, "
          f"PyAMG {info['pyamg']}; ours on backend {info['backend']}; tolerance {TOLERANCE:g}; "
          f"load average at start {info['load_average_1min']:.2f}")
    for label, reason in skipped.items():
        print(f"{label} skipped: {reason}")
    rows = []
    for n in args.sizes:
        rows += bench_size(n, args.seed, args.repeat, not args.no_memory, skipped)
    info["load_average_1min_end"] = os.getloadavg()[0]
    print(f"\nload average at end {info['load_average_1min_end']:.2f}\n\n" + markdown(rows))
    failed = [r for r in rows if r["true_relative_residual"] > TOLERANCE
              or r["difference_from_ours"] > AGREEMENT]
    for r in failed:
        print(f"WARNING {r['n']}³ {r['method']}: residual {r['true_relative_residual']:.2e}, "
              f"difference from ours {r['difference_from_ours']:.1e}")
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"machine": info, "tolerance": TOLERANCE, "seed": args.seed,
                       "skipped": skipped, "results": rows},
                      out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
