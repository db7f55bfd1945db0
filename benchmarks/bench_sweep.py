"""Sweep throughput (issues 8, 18): the same members serially, on the local executor, on
dask-jobqueue over SLURM and as a SLURM job array, in one process.

The members are the demo liver (cases/liver_hai.toml, its own 64 × 56 × 48 grid of 3 mm) with
60 min of drug time, no IV comparator, numpy float64 — about 2 s each in one process on the
2-core development machine: the catheter on each hepatic artery inlet and on all three (4) × two
infusion durations (2) = 8 members, run four ways:

- ``serial`` — ``run_sweep(executor="serial")``: one after another in this process;
- ``local`` — ``run_sweep(executor="local", workers=W)``: a Dask LocalCluster of W processes;
- ``slurm-dask`` — ``run_sweep(executor="slurm", workers=W)``: W dask-jobqueue worker jobs of
  one core, no GPU, on the partition ``--partition`` (the sweep's ``[slurm]`` table);
- ``slurm-array`` — ``perfusion sweep --emit slurm-array``, ``sbatch --parsable`` of
  ``sweep_array.sbatch`` (one task of one core per member, at most W at once: the
  partition may oversubscribe its cores, as the single-node recipe's ``OverSubscribe=FORCE:4``
  does, so without ``array_limit`` every task would start at once), waiting on that job id with
  ``squeue -j``, then ``perfusion sweep --summary-only``; all inside the wall time.

The two SLURM rows need ``sbatch``, ``squeue`` and a working ``sinfo``, else they are skipped
with the reason. Each run's sweep has its own name (``bench<uuid>``), so its jobs carry a
unique name and only they are waited on or cancelled; other jobs in the queue are recorded.

Before the rows one member runs untimed in this process (imports, the compiled CPU kernels'
first load). Reported per row: wall s (from the call to its summary), members per hour =
3600 · members / wall, wall / serial wall, and the overhead s per member = (wall − serial
wall / P) / members with P = 1 (serial) or W: the time beyond a perfect P-fold split of the
serial run, which includes starting workers or jobs, queueing, shipping tasks, the summary,
P processes sharing the cores with the driver, and the compiled kernels' threads given up
(a worker runs 1 thread where the serial process runs one per core). The member's own ``run_case`` stage timings
(``metrics.json`` domain + steady + drug, which leave out checks and writing the results) are
shown too, as mean stage s.

    .venv/bin/python benchmarks/bench_sweep.py [--workers 2] [--output sweep.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import dask
import dask_jobqueue
import distributed

from perfusion.sweep import load_sweep, run_sweep

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as script or -m
from bench_common import machine

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """
[sweep]
name = "{name}"
base = "{base}"
set = ['simulation.duration="60 min"', 'simulation.output_every="15 min"',
       "simulation.compare_iv=false", 'simulation.backend="numpy"']

[grid]
"catheter.inlets" = [["right"], ["left"], ["middle"], ["right", "left", "middle"]]
"infusion.0.duration" = ["10 min", "20 min"]

[slurm]
partition = "{partition}"
walltime = "00:15:00"
gpus_per_worker = 0
cores = 1
memory = "1GB"
workers = {workers}
array_limit = {workers}
interface = "lo"
pending_timeout = 300
"""
ARRAY_TIMEOUT_S = 900  # the job array must finish within this, else it is cancelled
MODES = ("serial", "local", "slurm-dask", "slurm-array")


def slurm_problem() -> str | None:
    """Why the SLURM rows cannot run here, or None."""
    missing = [tool for tool in ("sbatch", "squeue", "sinfo") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found"
    probe = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, check=False)
    return f"sinfo failed: {probe.stderr.strip()}" if probe.returncode else None


def queued_jobs() -> list[str]:
    """``JOBID NAME STATE`` of every job in the queue (ours and other users')."""
    listing = subprocess.run(["squeue", "-h", "-o", "%i %j %T"], capture_output=True, text=True, check=False)
    return listing.stdout.split("\n")[:-1] if listing.returncode == 0 else []


def write_sweep(folder: Path, partition: str, workers: int) -> Path:
    """A fresh sweep file with a unique name (and so unique SLURM job names)."""
    path = folder / "bench.toml"
    path.write_text(SWEEP.format(name=f"bench{uuid.uuid4().hex[:8]}", partition=partition,
                                 workers=workers, base=ROOT / "cases" / "liver_hai.toml"),
                    encoding="utf-8")
    return path


def perfusion_sweep(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfusion", "sweep", *args],
                          capture_output=True, text=True, check=False)


def run_array(path: Path, folder: Path) -> list[dict]:
    """Emit, submit, wait on the job id, summarise; the summary rows (status, seconds)."""
    emitted = perfusion_sweep(str(path), "-o", str(folder), "--emit", "slurm-array")
    if emitted.returncode:
        raise RuntimeError(f"--emit slurm-array failed: {emitted.stderr.strip()}")
    submitted = subprocess.run(["sbatch", "--parsable", str(folder / "sweep_array.sbatch")],
                               capture_output=True, text=True, check=True)
    job = submitted.stdout.strip().split(";")[0]
    deadline = time.monotonic() + ARRAY_TIMEOUT_S
    try:
        while subprocess.run(["squeue", "-h", "-j", job, "-o", "%i"], capture_output=True,
                             text=True, check=False).stdout.strip():
            if time.monotonic() > deadline:
                raise TimeoutError(f"job array {job} not done after {ARRAY_TIMEOUT_S} s")
            time.sleep(0.5)
    finally:
        subprocess.run(["scancel", job], capture_output=True, check=False)  # ours only; a no-op when done
    perfusion_sweep(str(path), "-o", str(folder), "--summary-only")  # exit 1 if members failed
    with open(folder / "summary.csv", newline="", encoding="utf-8") as handle:
        return [{"status": row["status"], "seconds": float(row["seconds"])}
                for row in csv.DictReader(handle)]


def warm_up(path: Path, folder: Path) -> None:
    """One member in this process, untimed: imports and the compiled kernels' first load."""
    from perfusion.sweep.execute import run_member

    record = run_member(load_sweep(path).members[0].as_dict(), str(folder))
    if record["status"] != "done":
        raise RuntimeError(f"warm-up member failed: {record['error']}")


def measure(mode: str, path: Path, folder: Path, workers: int) -> dict:
    start = time.perf_counter()
    if mode == "slurm-array":
        rows = run_array(path, folder)
    else:
        executor = {"slurm-dask": "slurm"}.get(mode, mode)
        rows = run_sweep(load_sweep(path), folder, executor=executor, workers=workers).rows
    wall = time.perf_counter() - start
    done = sum(row["status"] == "done" for row in rows)
    if done != len(rows):
        raise RuntimeError(f"{mode}: {len(rows) - done} of {len(rows)} members not done")
    n = len(rows)
    return {"mode": mode, "parallel": 1 if mode == "serial" else workers, "members": n,
            "wall_s": wall, "members_per_hour": 3600 * n / wall,
            "stage_s_mean": sum(row["seconds"] for row in rows) / n}


def add_overheads(rows: list[dict]) -> None:
    """Wall / serial wall and (wall − serial wall / P) / members, where a serial row exists."""
    serial = next((r["wall_s"] for r in rows if r["mode"] == "serial"), None)
    for r in rows:
        if serial and "wall_s" in r:
            r["wall_per_serial_wall"] = r["wall_s"] / serial
            r["overhead_per_member_s"] = (r["wall_s"] - serial / r["parallel"]) / r["members"]


def markdown(rows: list[dict]) -> str:
    lines = [("| mode | parallel | wall s | members/hour | wall / serial wall "
              "| overhead s/member | mean stage s |"), "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['mode']} | – | skipped: {r['skipped']} | | | | |")
            continue
        ratio, overhead = ((f"{r['wall_per_serial_wall']:.2f}", f"{r['overhead_per_member_s']:.2f}")
                           if "wall_per_serial_wall" in r else ("–", "–"))
        lines.append(f"| {r['mode']} | {r['parallel']} | {r['wall_s']:.1f} "
                     f"| {r['members_per_hour']:.0f} | {ratio} | {overhead} "
                     f"| {r['stage_s_mean']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="W: Dask workers / SLURM jobs")
    parser.add_argument("--partition", default="debug", help="SLURM partition of the jobs")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    problem = slurm_problem()
    info = machine(dask=dask.__version__, distributed=distributed.__version__,
                   dask_jobqueue=dask_jobqueue.__version__)
    info["slurm"] = problem or subprocess.run(["sinfo", "--version"], capture_output=True,
                                              text=True, check=False).stdout.strip()
    info["other_jobs_at_start"] = [] if problem else queued_jobs()
    print(f"# Sweep throughput benchmark — {info['date']}\n\n{info['cpu']}, {info['cores']} "
          f"cores; Python {info['python']}, dask {info['dask']}, dask-jobqueue "
          f"{info['dask_jobqueue']}, {info['slurm']}; load average at start "
          f"{info['load_average_1min']:.2f}; jobs already queued: "
          f"{len(info['other_jobs_at_start'])}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(write_sweep(Path(tmp), args.partition, args.workers), Path(tmp) / "warm-up")
        for mode in args.modes:
            if mode.startswith("slurm") and problem:
                rows.append({"mode": mode, "skipped": problem})
                continue
            folder = Path(tmp) / mode
            folder.mkdir()
            rows.append(measure(mode, write_sweep(folder, args.partition, args.workers),
                                folder / "out", args.workers))
            print(f"  {mode}: {rows[-1]['wall_s']:.1f} s wall, load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
    add_overheads(rows)
    info["load_average_1min_end"] = os.getloadavg()[0]
    info["other_jobs_at_end"] = [] if problem else queued_jobs()
    print(f"\nload average at end {info['load_average_1min_end']:.2f}\n\n" + markdown(rows))
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"machine": info, "results": rows}, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
