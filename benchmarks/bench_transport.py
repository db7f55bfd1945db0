"""Transport: one simulated hour with perfusion's explicit transport and with FiPy (implicit).

The problem is advection–diffusion–first-order decay of a Gaussian puff (docs/model.md §6, §11) on
a 64³ grid of 0.5 mm cells (a 32 mm box), no flux across the box walls, for T = 1 h:

    v_e ∂c/∂t = ∇·(v_e D ∇c) − ∇·(u c) − v_e k c,        u = v_e v

- extracellular fraction (porosity) v_e = 0.3, uniform;
- pore diffusivity D = 1.6e-10 m²/s (doxorubicin);
- pore velocity v = |v| (1, 0.6, −0.8)/‖(1, 0.6, −0.8)‖ with |v| = 2e-8 m/s, uniform (Darcy
  velocity u = v_e v on every interior face, zero on the walls); cell Péclet number
  |v_α| h / D = 0.044, 0.027, 0.035 per axis (≤ 2 is checked: both codes use central
  differences there);
- decay k = 1/(2 hours) = 1.389e-4 1/s;
- c(x, 0) = exp(−|x − x₀|²/(2σ²)), σ = 3 mm, x₀ the centre of the box.

Exact free-space solution: a Gaussian with centroid x₀ + v t, variance σ² + 2 D t per axis,
amplitude (σ²/(σ² + 2Dt))^{3/2} and mass × exp(−k t). At T the puff's centroid is ≥ 5.0
standard deviations from every wall (checked; the free-space mass outside the box is then
~1e-6), so the wall truncation is negligible against the errors measured. Accuracy of both
codes: relative L2 error ‖c − c_exact‖/‖c_exact‖ of the final field at cell centres, and the
mass error (M(T) − M(0) e^{−kT}) / (M(0) e^{−kT}) with M the discrete mass Σ v_e c h³.

Methods:

- ours: per macro step Δt = 60 s (the product's default max step), ``pointwise_step`` with
  no uptake (the decay, exact) then ``TransportOperator.advance`` (Heun sub-steps within the
  explicit positivity limit, hybrid central/upwind fluxes), NumPy float64;
- FiPy: ``TransientTerm(coeff=v_e) == DiffusionTerm(coeff=v_e D) −
  ExponentialConvectionTerm(coeff=u) − ImplicitSourceTerm(coeff=v_e k)`` on ``Grid3D``, one
  backward-Euler ``solve`` per step, for each Δt in ``--fipy-dt`` (default 60 30 20 15 10 s;
  60 s is our step). FiPy's default solver on the pip-installed SciPy suite is ``LinearLUSolver``
  (SuperLU, refactored every step); at 64³ one step of it did not finish in 15 min with 6 GiB
  resident, so the timed runs use ``LinearBicgstabSolver`` with FiPy's default tolerance
  (‖r‖ ≤ 1e-5 ‖b‖) — the fastest of FiPy's SciPy solvers here, so the ratios favour FiPy.
  ``--fipy-lu`` times one step of the default solver and extrapolates to the hour;
  ``--fipy-tolerance`` tightens the BiCGSTAB tolerance (FiPy's default adds a visible part of
  its mass error at Δt ≤ 30 s; at 1e-10 SciPy reports a breakdown once the residual is ~1e-19
  and FiPy warns every step, harmlessly).

"Comparable accuracy": the largest FiPy Δt tried whose L2 error is ≤ 2× ours.

Timing: wall and CPU time of the whole 1 h loop (setup — operator or mesh, variables and
terms — reported apart); before timing, each method's setup and one step are run once and
the state reset (warm-up). Best of ``--repeat`` runs (default 2), round-robin over methods.
ratio = FiPy wall per simulated hour / ours (> 1: we are faster).

Run from the repository root (needs ``pip install fipy``)::

    .venv/bin/python benchmarks/bench_transport.py                 # ~50 min on 2 cores
    .venv/bin/python benchmarks/bench_transport.py --fipy-dt 60 --repeat 1 --output t.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as script or -m
from bench_common import machine  # noqa: E402
from transport_problem import (DECAY, DURATION, N, OUR_STEP, PECLET_LIMIT,  # noqa: E402
                               SPACING, WALL_SIGMAS, build_problem, check_problem, run_fipy,
                               run_ours, setup_fipy, setup_ours)

COMPARABLE = 2.0                            # FiPy L2 error ≤ 2× ours
SANE_L2 = 0.05                              # any method above this did not solve the problem
OUR_MASS_TOLERANCE = 1e-12


def _errors(problem, c) -> tuple[float, float]:
    """(relative L2 error at cell centres, relative mass error) at T."""
    exact = problem["exact"](DURATION)
    l2 = np.linalg.norm(c - exact) / np.linalg.norm(exact)
    expected = problem["initial"].sum() * math.exp(-DECAY * DURATION)
    return float(l2), float((c.sum() - expected) / expected)


def _methods(fipy_steps, lu: bool, tolerance: float | None) -> list[tuple]:
    """(label, kind, dt, setup, run, steps timed) for every method of this run."""
    import fipy  # noqa: PLC0415

    methods = [("perfusion explicit (numpy)", "ours", OUR_STEP, setup_ours, run_ours, None)]
    suffix = "" if tolerance is None else f", tolerance {tolerance:g}"
    for dt in fipy_steps:
        methods.append((f"FiPy BiCGSTAB{suffix}, Δt {dt:g} s", "fipy", dt,
                        lambda p: setup_fipy(p, fipy.LinearBicgstabSolver, tolerance),
                        run_fipy, None))
    if lu:
        from fipy.solvers import DefaultSolver  # noqa: PLC0415
        methods.append((f"FiPy default {DefaultSolver.__name__}, Δt {OUR_STEP:g} s "
                        "(1 step, extrapolated)", "fipy-default", OUR_STEP,
                        lambda p: setup_fipy(p, DefaultSolver), run_fipy, 1))
    return methods


def bench(problem, methods, repeat: int) -> list[dict]:
    """Rows of the table: best of ``repeat`` timed hours per method, round-robin."""
    states, best = {}, {}
    for label, kind, dt, setup, run, timed_steps in methods:
        start = time.perf_counter()
        states[label] = setup(problem)
        states[label]["setup_s"] = time.perf_counter() - start
        if timed_steps is None:
            run(problem, states[label], dt, 1)  # warm-up; every run restarts from c(0)
    for _ in range(repeat):
        for label, kind, dt, setup, run, timed_steps in methods:
            if timed_steps and label in best:
                continue  # the extrapolated default-solver step is timed once
            steps = round(DURATION / dt)
            cpu, start = time.process_time(), time.perf_counter()
            c = run(problem, states[label], dt, timed_steps or steps)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            scale = steps / (timed_steps or steps)
            print(f"  {label}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
            if label not in best or wall * scale < best[label][0]:
                best[label] = (wall * scale, cpu * scale, c)
    rows = []
    for label, kind, dt, setup, run, timed_steps in methods:
        wall, cpu, c = best[label]
        l2, mass = _errors(problem, c) if not timed_steps else (math.nan, math.nan)
        state = states[label]
        substeps = (max(1, math.ceil(dt / state["stable"] - 1e-12)) if kind == "ours" else 1)
        rows.append({"method": label, "kind": kind, "dt_s": dt,
                     "steps": round(DURATION / dt), "substeps_per_step": substeps,
                     "setup_s": state["setup_s"], "wall_s_per_hour": wall,
                     "cpu_s_per_hour": cpu, "extrapolated": bool(timed_steps),
                     "l2_error": l2, "mass_error": mass,
                     "solver": (type(state["solver"]).__name__ if "solver" in state
                                else "Heun sub-steps")})
    ours = rows[0]
    for row in rows:
        row["ratio"] = row["wall_s_per_hour"] / ours["wall_s_per_hour"]
        row["cpu_ratio"] = row["cpu_s_per_hour"] / ours["cpu_s_per_hour"]
        row["comparable"] = bool(row["l2_error"] <= COMPARABLE * ours["l2_error"])
    return rows


def machine_info() -> dict:
    import fipy  # noqa: PLC0415
    from fipy.solvers import DefaultSolver, solver_suite  # noqa: PLC0415

    return machine(fipy=fipy.__version__, fipy_suite=solver_suite,
                   fipy_default_solver=DefaultSolver.__name__)


def markdown(rows: list[dict]) -> str:
    lines = ["| method | Δt s | steps | wall s / sim. h | CPU s / sim. h | setup s "
             "| rel. L2 error | mass error | L2 ≤ 2× ours | ratio (FiPy/ours) | CPU ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        steps = f"{r['steps']}" + (f" ({r['substeps_per_step']} sub)"
                                   if r["kind"] == "ours" else "")
        error = "–" if math.isnan(r["l2_error"]) else f"{r['l2_error']:.2e}"
        mass = "–" if math.isnan(r["mass_error"]) else f"{r['mass_error']:.1e}"
        comparable = "–" if math.isnan(r["l2_error"]) else ("yes" if r["comparable"] else "no")
        wall = f"{r['wall_s_per_hour']:.2f}" + (" (extrap.)" if r["extrapolated"] else "")
        lines.append(
            f"| {r['method']} | {r['dt_s']:g} | {steps} | {wall} | {r['cpu_s_per_hour']:.2f} "
            f"| {r['setup_s']:.2f} | {error} | {mass} | {comparable} | {r['ratio']:.1f} "
            f"| {r['cpu_ratio']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fipy-dt", type=float, nargs="+",
                        default=[60.0, 30.0, 20.0, 15.0, 10.0],
                        help="FiPy time steps to try [s]; each must divide 3600")
    parser.add_argument("--repeat", type=int, default=2, help="timed hours per method (best)")
    parser.add_argument("--fipy-lu", action="store_true",
                        help="also time one step of FiPy's default solver (LU: >15 min, ~6 GiB)")
    parser.add_argument("--fipy-tolerance", type=float,
                        help="BiCGSTAB tolerance (‖r‖ ≤ tol ‖b‖); default FiPy's, 1e-5")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    try:
        import fipy  # noqa: F401, PLC0415
    except ImportError as exc:
        raise SystemExit(f"FiPy is needed: .venv/bin/python -m pip install fipy ({exc})")
    problem = build_problem()
    checks = check_problem(problem)
    info = machine_info()
    print(f"# Transport benchmark — {info['date']}\n\n{info['cpu']}, {info['cores']} cores; "
          f"Python {info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}, "
          f"FiPy {info['fipy']} (suite {info['fipy_suite']}, default solver "
          f"{info['fipy_default_solver']}); ours on backend {info['backend']}; "
          f"load average at start {info['load_average_1min']:.2f}\n")
    print(f"{N}³ cells of {SPACING * 1e3:g} mm, 1 simulated hour; cell Péclet per axis "
          + ", ".join(f"{p:.3f}" for p in checks["cell_peclet"])
          + f" (≤ {PECLET_LIMIT:g}); puff centroid ≥ {checks['wall_distance_sigmas_end']:.3f} σ "
          f"from the walls at T (≥ {WALL_SIGMAS:g}), free-space mass outside the box "
          f"{checks['mass_outside_box_end']:.1e}", flush=True)
    if not checks["ok"]:
        raise SystemExit("problem check failed: Péclet above 2 or puff too close to a wall")
    rows = bench(problem, _methods(args.fipy_dt, args.fipy_lu, args.fipy_tolerance), args.repeat)
    info["load_average_1min_end"] = os.getloadavg()[0]
    print(f"\nload average at end {info['load_average_1min_end']:.2f}\n\n" + markdown(rows))
    fipy_rows = [r for r in rows if r["kind"] == "fipy"]
    comparable = max((r for r in fipy_rows if r["comparable"]), key=lambda r: r["dt_s"],
                     default=None)
    if comparable is None:
        print(f"\nno FiPy Δt tried reaches L2 ≤ {COMPARABLE:g}× ours; try smaller --fipy-dt")
    else:
        print(f"\ncomparable accuracy: FiPy Δt {comparable['dt_s']:g} s, "
              f"ratio {comparable['ratio']:.1f}× wall, {comparable['cpu_ratio']:.1f}× CPU")
    failed = [r for r in rows if not r["extrapolated"] and not r["l2_error"] <= SANE_L2]
    if not abs(rows[0]["mass_error"]) <= OUR_MASS_TOLERANCE:
        failed.append(rows[0])
    for r in failed:
        print(f"WARNING {r['method']}: L2 error {r['l2_error']:.2e}, "
              f"mass error {r['mass_error']:.1e}")
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"machine": info, "checks": checks,
                       "comparable_fipy_dt_s": comparable and comparable["dt_s"],
                       "results": rows}, out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
