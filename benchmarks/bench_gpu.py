"""GPU benchmark: copy bandwidth, each kernel's achieved bandwidth, the pressure solve and
the demo end to end — all in one run on one device (GPU issue item 7).

Bandwidth of a kernel = the bytes it must move (each input array read once, each output
written once; neighbours assumed cached) over its median time, compared with the measured
device-to-device copy bandwidth (bytes read + written) in the same run. The pressure solve
is the demo's arterial supply problem at n³; the demo is ``cases/liver_hai.toml`` at n³
(grid and voxel size scaled so the liver is the same), with one output at the end so that
file writing is not timed. Runs on NumPy too (``--backend numpy``) as a smoke test.

    python3 benchmarks/bench_gpu.py --backend cupy --sizes 128 256 --output gpu.json
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfusion.compute.backend import make_backend  # noqa: E402
from perfusion.ops import cg_update, pointwise, stencil7, transport_rate  # noqa: E402
from perfusion.transport.exchange import ExchangeCoefficients  # noqa: E402
from perfusion.transport.uptake import UptakeModel  # noqa: E402


def timer(backend, function, repeat: int) -> float:
    """Median seconds of ``function()`` (CUDA events on CuPy, wall clock on NumPy)."""
    function()
    times = []
    for _ in range(repeat):
        if backend.name == "cupy":
            start, end = backend.xp.cuda.Event(), backend.xp.cuda.Event()
            start.record()
            function()
            end.record()
            end.synchronize()
            times.append(backend.xp.cuda.get_elapsed_time(start, end) / 1e3)
        else:
            begin = time.perf_counter()
            function()
            times.append(time.perf_counter() - begin)
    return statistics.median(times)


def kernels(backend, n: int, repeat: int) -> list[dict]:
    """Achieved bandwidth of every hot operation at n³ in the backend's precision."""
    xp, dtype = backend.xp, backend.dtype
    shape = (n, n, n)
    size = float(np.dtype(dtype).itemsize) * n**3
    rng = np.random.default_rng(0)
    field = lambda: xp.asarray(rng.random(shape), dtype=dtype)  # noqa: E731
    faces = [xp.asarray(rng.random(tuple(n - (a == b) for b in range(3))), dtype=dtype) for a in range(3)]
    d, x, r, z, p, q = (field() for _ in range(6))
    copy_source, copy_target = field(), field()
    rows = [{"operation": "device copy", "bytes": 2 * size,
             "seconds": timer(backend, lambda: copy_target.__setitem__(Ellipsis, copy_source), repeat)}]
    k = ExchangeCoefficients(*(field() * 1e-2 for _ in range(5)), field() + 1)
    model = UptakeModel(kind="saturable", active=xp.ones(shape, dtype=bool), cell_elimination=1e-4,
                        max_rate=2.8e-5, extracellular_affinity=2.19e-4, intracellular_affinity=8.2e-3,
                        extracellular_fraction=field() * 0.3 + 0.1)
    cases = [
        ("stencil7 apply", 6, lambda: stencil7.apply(*faces, d, x)),
        ("stencil7 diagonal", 5, lambda: stencil7.diagonal(*faces, d)),
        ("cg update solution", 8, lambda: cg_update.update_solution(x, r, z, p, q, d, 1e-3)),
        ("cg update direction", 3, lambda: cg_update.update_direction(p, z, 0.5)),
        ("transport rate", 11, lambda: transport_rate.rate(*faces, *faces, d, d, x)),
        ("pointwise (saturable)", 15.125, lambda: pointwise.step(k, model, x, r, z, 60.0)),
    ]
    for name, arrays, function in cases:
        rows.append({"operation": name, "bytes": arrays * size, "seconds": timer(backend, function, repeat)})
    copy_bandwidth = rows[0]["bytes"] / rows[0]["seconds"]
    for row in rows:
        row["GB/s"] = row["bytes"] / row["seconds"] / 1e9
        row["of copy"] = row["bytes"] / row["seconds"] / copy_bandwidth
        row.update(n=n, precision=backend.precision)
    return rows


def demo(backend_name: str, precision: str, n: int) -> dict:
    """The demo case at about n³ voxels, end to end (perfusion + 4 h of drug + IV comparator)."""
    from perfusion import load_case, run_case

    scale = n / 64
    shape = [n, round(56 * scale), round(48 * scale)]
    case = load_case(Path(__file__).resolve().parents[1] / "cases" / "liver_hai.toml",
                     [f"grid.shape={shape}", f'grid.spacing="{3 / scale!r} mm"',
                      'simulation.output_every="4 h"'])
    begin = time.perf_counter()
    result = run_case(case, Path("/tmp") / f"bench-demo-{n}-{precision}", backend=backend_name,
                      precision=precision, overwrite=True)
    wall = time.perf_counter() - begin
    m = result.metrics
    return {"operation": "demo end to end", "n": n, "precision": precision, "seconds": wall,
            "steady_s": m["timings"]["steady"], "drug_s": m["timings"].get("drug"),
            "cg_iterations": m["solver"]["total_iterations"], "mass_balance_error": m["mass_balance_error"],
            "regional_advantage": m.get("regional_advantage")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cupy", choices=["cupy", "numpy"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--kernel-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    header = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
              "backend": args.backend}
    rows = []
    for precision in ("float32", "float64"):
        backend = make_backend(args.backend, precision)
        header["device"] = backend.device
        rows += kernels(backend, args.kernel_size, args.repeat)
    if not args.skip_demo:
        for n in args.sizes:
            for precision in ("float32", "float64"):
                rows.append(demo(args.backend, precision, n))
    if args.output:
        args.output.write_text(json.dumps({"header": header, "rows": rows}, indent=2))
    print(f"# {header['device']} — {header['date']}, Python {header['python']}")
    print("| operation | n³ | precision | seconds | GB/s | of copy | notes |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        notes = "" if "GB/s" in row else (f"steady {row['steady_s']:.2f} s, drug {row['drug_s']:.2f} s, "
                                          f"{row['cg_iterations']} CG its, budget {row['mass_balance_error']:.1e}")
        print(f"| {row['operation']} | {row['n']} | {row['precision']} | {row['seconds']:.4g} | "
              f"{row.get('GB/s', float('nan')):.1f} | {row.get('of copy', float('nan')):.0%} | {notes} |")


if __name__ == "__main__":
    main()
