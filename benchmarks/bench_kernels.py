"""The CPU kernels: NumPy reference against the compiled ``.cu`` files (issue 17).

Run from the repository root: ``python benchmarks/bench_kernels.py [--repeat 5]``. On the
demo-sized grid (128×112×96, float64) it times, in one process, each kernel and one whole drug
step (Δt = 60 s: the pointwise exchange/uptake step with doxorubicin-like saturable uptake,
then the Heun transport sub-steps) by

- ``numpy``: the NumPy reference (``PERFUSION_CPU_KERNELS=0``; the drug step also with the
  loop's NumPy fast paths ``TissuePointwise`` + ``BoxTransport``, as ``numpy fast``),
- ``compiled 1`` / ``compiled 2``: the compiled kernels on 1 and 2 OpenMP threads,

and the unit ``copy``: one ``np.copyto`` of a grid-size float64 array. Each time is the best of
``--repeat``; the table gives milliseconds and multiples of ``copy``. The tissue is an
ellipsoid filling half the box, with random heterogeneous coefficients (seeded); the numbers
are timings only (the agreement is tested in tests/ops/test_native.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_common import machine  # noqa: E402

from perfusion.compute import native  # noqa: E402
from perfusion.ops import cg_update, mg_smooth, mg_transfer, pointwise, stencil7, transport_rate  # noqa: E402
from perfusion.transport.exchange import ExchangeCoefficients, TissuePointwise  # noqa: E402
from perfusion.transport.operator import BoxTransport, TransportOperator  # noqa: E402
from perfusion.transport.uptake import UptakeModel  # noqa: E402

SHAPE, SPACING, STEP = (128, 112, 96), 1e-3, 60.0     # cells, m, s
DOXORUBICIN = {"max_rate": 2.8e-5, "extracellular_affinity": 2.19e-4,   # El-Kareh & Secomb 2000
               "intracellular_affinity": 8.22e-3}


def build(seed: int = 0) -> dict:
    """The tissue, its coefficients and a state (see the module docstring)."""
    rng = np.random.default_rng(seed)
    axes = [(np.arange(n) + 0.5) / n - 0.5 for n in SHAPE]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    mask = (x / 0.45) ** 2 + (y / 0.45) ** 2 + (z / 0.45) ** 2 <= 1
    field = lambda scale: np.where(mask, scale * rng.random(SHAPE), 0.0)  # noqa: E731
    v_e = np.where(mask, 0.1 + 0.4 * rng.random(SHAPE), 1.0)
    k = ExchangeCoefficients.build(np, field(2e-3), field(1e-4), field(1e-5), field(1e-5), 0.3,
                                   field(1e-4), np.where(mask, 1 / v_e, 0.0))
    uptake = UptakeModel(kind="saturable", active=mask, cell_elimination=1e-5,
                         extracellular_fraction=v_e, **DOXORUBICIN)
    velocity = [1e-8 * rng.standard_normal(tuple(n - (a == b) for b, n in enumerate(SHAPE)))
                for a in range(3)]
    operator = TransportOperator.build(np, np.where(mask, 1e-10, 0.0), mask, (SPACING,) * 3,
                                       velocity, field(1e-6), v_e)
    faces = [rng.lognormal(size=tuple(n - (a == b) for b, n in enumerate(SHAPE)))
             for a in range(3)]
    return {"k": k, "uptake": uptake, "operator": operator, "faces": faces, "plasma": field(1e-3),
            "m": field(1e-4), "c": field(1e-4), "x": rng.random(SHAPE), "d": rng.random(SHAPE)}


def best(function, repeat: int) -> float:
    """Best wall time of ``function()`` over ``repeat`` runs [s] (after one warm-up)."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def cases(p: dict) -> dict:
    """name → a call of one kernel (through its public dispatch) or of one drug step."""
    tx, ty, tz = p["faces"]
    x, d, op = p["x"], p["d"], p["operator"]
    coarse = tuple(-(-n // 2) for n in SHAPE)
    full_faces = [np.zeros(SHAPE) for _ in range(3)]   # mg_smooth's grid-shaped faces
    for axis, (full, t) in enumerate(zip(full_faces, (tx, ty, tz))):
        full[tuple(slice(0, n - (a == axis)) for a, n in enumerate(SHAPE))] = t
    work = [np.empty(SHAPE) for _ in range(4)]
    stable = op.stable_step(np)
    return {
        "stencil7 apply": lambda: stencil7.apply(tx, ty, tz, d, x, out=work[0]),
        "transport_rate": lambda: transport_rate.rate(*op.lower, *op.upper, op.surface_outflow,
                                                      op.inverse_ve, p["m"]),
        "pointwise (saturable)": lambda: pointwise.step(p["k"], p["uptake"], p["m"], p["c"],
                                                        p["plasma"], STEP),
        "mg residual": lambda: mg_smooth.residual(*full_faces, d, x, x, out=work[1]),
        "mg restrict": lambda: mg_transfer.restrict(x, coarse),
        "cg update_direction": lambda: cg_update.update_direction(work[2], x, 0.5),
        "transport (advance)": lambda: op.advance(p["m"], STEP, np, stable),
        "drug step": lambda: op.advance(pointwise.step(p["k"], p["uptake"], p["m"], p["c"],
                                                       p["plasma"], STEP)[0], STEP, np, stable),
    }


def fast_drug_step(p: dict):
    """One drug step by the loop's NumPy fast paths (TissuePointwise + BoxTransport)."""
    tissue, box = TissuePointwise(p["k"], p["uptake"]), BoxTransport(p["operator"])
    out = (np.empty(SHAPE), np.empty(SHAPE))
    stable = p["operator"].stable_step(np)

    def step():
        tissue.step(p["m"], p["c"], p["plasma"], STEP, out)
        box.advance(out[0], STEP, stable)
    return step


def fast_pointwise(p: dict):
    """The pointwise step alone by ``TissuePointwise``."""
    tissue, out = TissuePointwise(p["k"], p["uptake"]), (np.empty(SHAPE), np.empty(SHAPE))
    return lambda: tissue.step(p["m"], p["c"], p["plasma"], STEP, out)


def fast_transport(p: dict):
    """The transport sub-steps alone by ``BoxTransport`` (on a copy of the state)."""
    box, state = BoxTransport(p["operator"]), p["m"].copy()
    stable = p["operator"].stable_step(np)
    return lambda: box.advance(state, STEP, stable)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    problem = build()
    source, target = np.random.default_rng(1).random(SHAPE), np.empty(SHAPE)
    copy = best(lambda: np.copyto(target, source), args.repeat)
    rows = {}
    os.environ["PERFUSION_CPU_KERNELS"] = "0"
    rows["numpy"] = {name: best(call, args.repeat) for name, call in cases(problem).items()}
    rows["numpy"]["drug step (numpy fast)"] = best(fast_drug_step(problem), args.repeat)
    rows["numpy"]["pointwise (TissuePointwise)"] = best(fast_pointwise(problem), args.repeat)
    rows["numpy"]["transport (BoxTransport)"] = best(fast_transport(problem), args.repeat)
    del os.environ["PERFUSION_CPU_KERNELS"]
    for threads in (1, 2):
        native.set_threads(threads)
        rows[f"compiled {threads}"] = {name: best(call, args.repeat)
                                       for name, call in cases(problem).items()}
    names = list(rows["numpy"])
    print(f"grid {SHAPE}, float64; copy = {copy * 1e3:.2f} ms; ms (× copy)")
    print("| kernel | " + " | ".join(rows) + " |\n|---|" + "---|" * len(rows))
    for name in names:
        cells = [f"{r[name] * 1e3:.1f} ({r[name] / copy:.0f}×)" if name in r else "—"
                 for r in rows.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "copy_s": copy, "rows": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
