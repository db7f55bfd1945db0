"""Sweep throughput: 16 small members run serially in one process vs on the local executor.

The members are the demo liver (cases/liver_hai.toml) on a coarse grid (24 × 22 × 18 voxels
of 8 mm, 30 min of drug time, no IV comparator): the catheter on each hepatic artery inlet and
on all three (4) × four infusion durations (4) = 16 members. Reported: wall time, members per
hour, and the overhead per member — wall time beyond the members' own ``run_case`` time
(serial: wall − Σ member seconds, per member; local: wall − Σ member seconds / workers, per
member, which includes starting the cluster, shipping tasks and results).

    .venv/bin/python benchmarks/bench_sweep.py [--workers 2]
"""
from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from pathlib import Path

from perfusion.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """
[sweep]
name = "bench"
base = "{base}"
set = ["grid.shape=[24,22,18]", 'grid.spacing="8 mm"', 'simulation.duration="30 min"',
       'simulation.output_every="15 min"', "simulation.compare_iv=false",
       'simulation.backend="numpy"']

[grid]
"catheter.inlets" = [["right"], ["left"], ["middle"], ["right", "left", "middle"]]
"infusion.0.duration" = ["5 min", "10 min", "15 min", "20 min"]
"""


def _measure(sweep, folder: Path, executor: str, workers: int) -> dict:
    start = time.perf_counter()
    result = run_sweep(sweep, folder, executor=executor, workers=workers)
    wall = time.perf_counter() - start
    assert not result.failed and len(result.ran) == len(sweep.members)
    member_seconds = sum(row["seconds"] for row in result.rows)
    ideal = member_seconds / (1 if executor == "serial" else workers)
    n = len(sweep.members)
    return {"executor": executor, "workers": 1 if executor == "serial" else workers,
            "wall_s": wall, "members_per_hour": 3600 * n / wall,
            "member_s_mean": member_seconds / n, "overhead_per_member_s": (wall - ideal) / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "bench.toml"
        path.write_text(SWEEP.format(base=ROOT / "cases" / "liver_hai.toml"), encoding="utf-8")
        sweep = load_sweep(path)
        rows = [_measure(sweep, tmp / "serial", "serial", 1),
                _measure(sweep, tmp / "local", "local", args.workers)]
    print(f"{len(sweep.members)} members, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"{'executor':<9}{'workers':>8}{'wall s':>9}{'members/h':>11}{'member s':>10}"
          f"{'overhead s/member':>19}")
    for row in rows:
        print(f"{row['executor']:<9}{row['workers']:>8}{row['wall_s']:>9.1f}"
              f"{row['members_per_hour']:>11.0f}{row['member_s_mean']:>10.2f}"
              f"{row['overhead_per_member_s']:>19.2f}")


if __name__ == "__main__":
    main()
