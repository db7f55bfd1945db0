"""Time the demo's figures, report and exports at about 128³ (issue: ≤ 20 s on the
developer machine).

Runs ``cases/liver_hai.toml`` on a 128×112×96 grid of 1.5 mm voxels (the same liver), for
1 h of drug with outputs every 10 min (the figures do not depend on the run length), then
times ``render_results`` figure by figure. ``--results DIR`` reuses an existing result.

    python benchmarks/bench_render.py [--results DIR] [--output render.json]
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfusion import load_case, run_case  # noqa: E402
from perfusion.render.pipeline import render_results  # noqa: E402


class Timings(logging.Handler):
    """Collects the per-figure times that render_results logs."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.figures: dict[str, float] = {}

    def emit(self, record):
        if record.msg.startswith("figure "):
            name, _, seconds = record.args
            self.figures[name] = seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    directory = args.results
    if directory is None:
        case = load_case(ROOT / "cases" / "liver_hai.toml",
                         ["grid.shape=[128,112,96]", 'grid.spacing="1.5 mm"',
                          'simulation.duration="1 h"', "simulation.compare_iv=false"])
        directory = run_case(case, Path("/tmp/bench-render-128"), backend="numpy",
                             overwrite=True).directory
    timings = Timings()
    logger = logging.getLogger("perfusion.render")
    logger.addHandler(timings)
    logger.setLevel(logging.INFO)
    start = time.perf_counter()
    render_results(directory)
    total = time.perf_counter() - start
    record = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
              "results": str(directory), "figures_s": timings.figures, "total_s": total}
    if args.output:
        args.output.write_text(json.dumps(record, indent=2))
    print("| figure | seconds |\n|---|---|")
    for name, seconds in timings.figures.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| figures + report + exports | {total:.2f} |")


if __name__ == "__main__":
    main()
