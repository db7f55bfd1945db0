"""Arterial tree generation (CCO): wall time for 500, 1000 and 2000 terminals.

The problem is the demo-like phantom liver (cases/liver_hai.toml) on 2 mm voxels:

- mask: an ellipsoid with semi-axes 90 × 70 × 55 mm centred in a 94 × 74 × 60 grid;
- two tumour spheres clipped to the liver: radius 22 mm at (+34, +8, −2) mm from the
  centre with a necrotic core of 9 mm (no demand), and radius 10 mm at (−41, −14, +8) mm;
- demand: the arterial share of the target perfusion, 25 mL/min/100 mL in normal liver
  (100 × 25%) and 36 in tumour (40 × 90%), 0 in the necrotic core;
- root: the hepatic artery's entry, the first tissue voxel below the centre on the −y
  axis (the hilum side); flow 380 mL/min; root 100 mmHg, terminals 55 mmHg; μ 3.6 mPa·s;
  Murray exponent ``--gamma`` (default 3).

For each terminal count ``generate_tree`` is timed (wall and CPU, best of ``--repeat``);
then, untimed, the tree is checked: the Poiseuille flows recomputed with SciPy's sparse LU
(root at 100 mmHg, terminals at 55 mmHg) must give the root flow to 1e-8 and equal
terminal flows to 1e-6, every node must lie in the liver, and the least-squares Murray
exponent over the bifurcations (``fitted_murray_exponent``) is reported with the tree's
volume, depth and tumour-to-normal terminal density ratio (demand ratio 1.44).

Run from the repository root::

    .venv/bin/python benchmarks/bench_tree.py
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tree.py --repeat 3 --output tree.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from perfusion.vascular.sources.generate import fitted_murray_exponent, generate_tree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as script or -m
from bench_common import machine  # noqa: E402

H = 2e-3
SHAPE = (94, 74, 60)
MMHG = 133.322
FLOW, P_ROOT, P_TERM, MU = 380e-6 / 60, 100 * MMHG, 55 * MMHG, 3.6e-3


def build_phantom() -> dict:
    """Mask, demand, labels and root of the module docstring."""
    x, y, z = np.meshgrid(*[(np.arange(n) + 0.5) * H for n in SHAPE], indexing="ij")
    centre = np.asarray(SHAPE) * H / 2
    rel = (x - centre[0], y - centre[1], z - centre[2])
    mask = (rel[0] / 0.090) ** 2 + (rel[1] / 0.070) ** 2 + (rel[2] / 0.055) ** 2 <= 1.0

    def ball(offset_mm, radius_mm):
        return mask & (sum((rel[a] - offset_mm[a] * 1e-3) ** 2 for a in range(3))
                       <= (radius_mm * 1e-3) ** 2)

    tumour = ball((34, 8, -2), 22) | ball((-41, -14, 8), 10)
    necrotic = ball((34, 8, -2), 9)
    demand = np.where(mask, 25.0, 0.0)
    demand[tumour] = 36.0
    demand[necrotic] = 0.0
    i, k = SHAPE[0] // 2, SHAPE[2] // 2
    j = int(np.argmax(mask[i, :, k]))
    root = np.array([i + 0.5, j + 0.5, k + 0.5]) * H
    return {"mask": mask, "demand": demand, "tumour": tumour & ~necrotic, "root": root}


def check_tree(tree, phantom) -> dict:
    """Poiseuille flows, tissue, Murray exponent, size and density of a generated tree."""
    conductance = np.pi * tree.radii**4 / (8 * MU * tree.lengths)
    u, d = tree.segments.T
    n = len(tree.points)
    laplacian = sp.csr_matrix((np.concatenate([conductance, conductance, -conductance,
                                               -conductance]),
                               (np.concatenate([u, d, u, d]), np.concatenate([u, d, d, u]))),
                              shape=(n, n))
    fixed = np.zeros(n, dtype=bool)
    fixed[tree.roots] = fixed[tree.terminals] = True
    pressure = np.zeros(n)
    pressure[tree.roots], pressure[tree.terminals] = P_ROOT, P_TERM
    pressure[~fixed] = sla.spsolve(laplacian[~fixed][:, ~fixed].tocsc(),
                                   -laplacian[~fixed][:, fixed] @ pressure[fixed])
    flows = conductance * (pressure[u] - pressure[d])
    terminals = tree.terminals
    cells = np.floor(tree.points / H).astype(np.int64)
    in_tumour = phantom["tumour"][tuple(cells[terminals].T)].sum()
    supplied = phantom["demand"] > 0
    normal_voxels = (supplied & ~phantom["tumour"]).sum()
    density_ratio = ((in_tumour / phantom["tumour"].sum())
                     / ((len(terminals) - in_tumour) / normal_voxels))
    depth = max(len(tree.path_to_root(s)) for s in tree.terminal_segments)
    root_flow = flows[np.isin(u, tree.roots)].sum()
    return {"root_flow_error": float(abs(root_flow / FLOW - 1)),
            "terminal_flow_error": float(np.abs(flows[tree.terminal_segments]
                                                / (FLOW / len(terminals)) - 1).max()),
            "nodes_in_tissue": bool(phantom["mask"][tuple(cells.T)].all()),
            "murray_fitted": fitted_murray_exponent(tree), "depth": depth,
            "volume_ml": float((np.pi * tree.radii**2 * tree.lengths).sum() * 1e6),
            "root_radius_mm": float(tree.radii[0] * 1e3),
            "min_radius_um": float(tree.radii.min() * 1e6),
            "tumour_to_normal_density": float(density_ratio)}


def markdown(rows: list[dict], gamma: float) -> str:
    lines = ["| terminals | wall s | CPU s | segments | depth | volume mL | root r mm "
             "| min r µm | fitted Murray γ | abs(γ_fit − γ) | root flow err. | terminal flow err. "
             "| tumour/normal terminal density |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['terminals']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} "
                     f"| {r['segments']} | {r['depth']} | {r['volume_ml']:.3f} "
                     f"| {r['root_radius_mm']:.3f} | {r['min_radius_um']:.1f} "
                     f"| {r['murray_fitted']:.9f} | {abs(r['murray_fitted'] - gamma):.1e} "
                     f"| {r['root_flow_error']:.1e} "
                     f"| {r['terminal_flow_error']:.1e} | {r['tumour_to_normal_density']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terminals", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gamma", type=float, default=3.0, help="Murray exponent")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per size (best)")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    info = machine()
    phantom = build_phantom()
    print(f"# Arterial tree generation (CCO) benchmark — {info['date']}\n\n{info['cpu']}, "
          f"{info['cores']} cores; Python {info['python']}, NumPy {info['numpy']}, SciPy "
          f"{info['scipy']}; backend {info['backend']}; load average at start "
          f"{info['load_average_1min']:.2f}\nliver phantom {SHAPE} at {H * 1e3:g} mm: "
          f"{int(phantom['mask'].sum())} tissue voxels, {int(phantom['tumour'].sum())} "
          f"tumour voxels; root at {np.round(phantom['root'] * 1e3, 1)} mm", flush=True)
    rows = []
    for count in args.terminals:
        best = None
        for _ in range(args.repeat):
            cpu, start = time.process_time(), time.perf_counter()
            tree = generate_tree(phantom["mask"], phantom["demand"], H, root=phantom["root"],
                                 flow=FLOW, root_pressure=P_ROOT, terminal_pressure=P_TERM,
                                 terminals=count, seed=args.seed, murray_exponent=args.gamma,
                                 viscosity=MU)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            if best is None or wall < best[1]:
                best = (tree, wall, cpu)
        tree, wall, cpu = best
        row = {"terminals": count, "wall_s": wall, "cpu_s": cpu,
               "segments": int(len(tree.segments)), **check_tree(tree, phantom)}
        rows.append(row)
        print(f"  {count} terminals: {wall:.1f} s (CPU {cpu:.1f} s), fitted γ "
              f"{row['murray_fitted']:.9f}", flush=True)
    info["load_average_1min_end"] = os.getloadavg()[0]
    print(f"\nload average at end {info['load_average_1min_end']:.2f}\n\n" + markdown(rows, args.gamma))
    failed = [r for r in rows if r["root_flow_error"] > 1e-8 or r["terminal_flow_error"] > 1e-6
              or not r["nodes_in_tissue"] or abs(r["murray_fitted"] - args.gamma) > 1e-6]
    for r in failed:
        print(f"WARNING {r['terminals']} terminals: check failed: {r}")
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"machine": info, "seed": args.seed, "gamma": args.gamma,
                       "results": rows}, out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
