"""``run_sweep``: expand, skip what is done, run the rest, summarise.

``DIR/members/NNNN/`` is complete iff its ``metrics.json`` exists (results are written
atomically) *and* the member is unchanged since (``DIR/manifest.json`` keeps each member's
fingerprint); anything else — missing, failed, changed — runs again. Failures are kept in
``DIR/errors.json`` (index → error text) and in ``summary.csv``.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .execute import member_directory, run_local, run_serial, run_slurm
from .slurm import write_manifest
from .summary import sensitivity, summary_rows, write_figure, write_summary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """Where the sweep wrote, what ran this time, and the summary rows."""

    directory: Path
    ran: list[int]
    failed: dict[int, str]
    rows: list[dict]
    files: dict


def pending_members(sweep, output: Path) -> list:
    """Members without a complete, up-to-date result folder."""
    previous = _previous_keys(output)
    pending = []
    for member in sweep.members:
        folder = member_directory(output, member.index)
        complete = (folder / "metrics.json").exists()
        if complete and previous.get(member.index) not in (None, member.key):
            log.info("member %d changed since its result: running it again", member.index)
            shutil.rmtree(folder)
            complete = False
        if not complete:
            pending.append(member)
    return pending


def run_sweep(sweep, output: str | Path | None = None, *, executor: str = "local",
              workers: int | None = None, backend: str | None = None,
              slurm=None) -> SweepResult:
    """Run every pending member of ``sweep`` and write the summary.

    Examples
    --------
    >>> from perfusion.sweep import load_sweep, run_sweep               # doctest: +SKIP
    >>> result = run_sweep(load_sweep("cases/catheter_sweep.toml"), "results/sweep",
    ...                    executor="local", workers=2)                 # doctest: +SKIP
    >>> result.rows[0]["tumor_to_normal_auc"]                           # doctest: +SKIP
    """
    output = Path(output or sweep.default_output()).resolve()
    (output / "members").mkdir(parents=True, exist_ok=True)
    pending = pending_members(sweep, output)
    write_manifest(sweep, output)
    errors = _read_errors(output)
    backend = backend or sweep.spec.sweep.backend
    total = len(sweep.members)
    log.info("sweep %s: %d members, %d to run (%d already complete)", sweep.spec.sweep.name,
             total, len(pending), total - len(pending))
    entries = [m.as_dict() for m in pending]
    folders = [str(member_directory(output, m.index)) for m in pending]
    every = sweep.checkpoint_every
    if executor == "serial":
        records = run_serial(entries, folders, backend, every)
    elif executor == "local":
        records = run_local(entries, folders, backend, every, workers) if entries else iter(())
    elif executor == "slurm":
        records = run_slurm(entries, folders, slurm or sweep.spec.slurm, backend, every,
                            workers) if entries else iter(())
    else:
        from .spec import SweepError

        raise SweepError(f"unknown executor {executor!r}; choose local, slurm or serial")
    start, finished = time.perf_counter(), 0
    for record in records:
        finished += 1
        if record["status"] == "done":
            errors.pop(record["index"], None)
        else:
            errors[record["index"]] = record["error"]
            log.warning("member %d failed: %s", record["index"], record["error"])
        elapsed = time.perf_counter() - start
        log.info("member %d %s (%.1f s) — %d/%d, %.0f s elapsed, about %.0f s left",
                 record["index"], record["status"], record["seconds"], finished, len(pending),
                 elapsed, elapsed / finished * (len(pending) - finished))
        _write_errors(output, errors)
    return summarize(sweep, output, ran=[m.index for m in pending])


def summarize(sweep, output: Path, ran: list[int] | None = None) -> SweepResult:
    """(Re)write ``summary.csv``, ``summary.png`` and ``sensitivity.json`` from the folders."""
    output = Path(output).resolve()
    errors = _read_errors(output)
    rows = summary_rows(sweep, output, errors)
    files = {"summary": write_summary(rows, output)}
    figure = write_figure(sweep, rows, output)
    if figure is not None:
        files["figure"] = figure
    indices = sensitivity(sweep, rows)
    if indices is not None:
        files["sensitivity"] = output / "sensitivity.json"
        files["sensitivity"].write_text(json.dumps(indices, indent=2), encoding="utf-8")
    done = sum(r["status"] == "done" for r in rows)
    log.info("sweep %s: %d of %d members complete; summary in %s", sweep.spec.sweep.name, done,
             len(rows), files["summary"])
    return SweepResult(directory=output, ran=ran or [], rows=rows, files=files,
                       failed={i: e for i, e in errors.items()
                               if not (member_directory(output, i) / "metrics.json").exists()})


def _previous_keys(output: Path) -> dict[int, str]:
    path = output / "manifest.json"
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {m["index"]: m["key"] for m in document.get("members", [])}


def _read_errors(output: Path) -> dict[int, str]:
    path = output / "errors.json"
    if not path.exists():
        return {}
    return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def _write_errors(output: Path, errors: dict[int, str]) -> None:
    tmp = output / ".errors.json.tmp"
    tmp.write_text(json.dumps({str(k): v for k, v in sorted(errors.items())}, indent=1),
                   encoding="utf-8")
    os.replace(tmp, output / "errors.json")
