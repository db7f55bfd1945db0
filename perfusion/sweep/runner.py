"""``run_sweep``: expand, skip what is done, run the rest, summarise.

``DIR/members/NNNN/`` is complete iff its ``metrics.json`` exists (results are written
atomically) *and* the member is unchanged since (``DIR/manifest.json`` keeps each member's
fingerprint); anything else — missing, failed, changed — runs again. Failures are kept in
``DIR/errors.json`` (index → error text) and in ``summary.csv``.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .execute import member_directory, run_external, run_local, run_serial, run_slurm
from .slurm import array_task_errors, write_manifest
from .summary import sensitivity, summary_rows, write_figure, write_summary
from .watch import SweepStopped

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
              slurm=None, scheduler: str | None = None,
              worker_timeout: float = 60.0) -> SweepResult:
    """Run every pending member of ``sweep`` and write the summary.

    ``executor="external"`` runs on the Dask scheduler ``scheduler`` (address or scheduler
    file). When the sweep cannot go on (cluster failure, SIGTERM/SIGINT) the summary of what
    finished is written and :class:`~.watch.SweepStopped` says how to resume.

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
                            workers, sweep.spec.sweep.name) if entries else iter(())
    elif executor == "external":
        records = run_external(entries, folders, scheduler, backend, every,
                               worker_timeout) if entries else iter(())
    else:
        from .spec import SweepError

        raise SweepError(f"unknown executor {executor!r}; choose local, slurm, external or serial")
    try:
        with stop_on_signals():
            _follow(records, output, errors, len(pending))
    except SweepStopped as stop:
        if hasattr(records, "close"):  # a generator: its executor cancels jobs, closes Dask
            records.close()
        result = summarize(sweep, output, ran=[m.index for m in pending])
        done = sum(r["status"] == "done" for r in result.rows)
        raise SweepStopped(f"{stop}\nthe sweep stopped: {done} of {total} members complete, "
                           f"summary in {result.files['summary']}; to resume, run the same "
                           "command again (finished members are kept)") from None
    return summarize(sweep, output, ran=[m.index for m in pending])


def _follow(records, output: Path, errors: dict[int, str], count: int) -> None:
    """Log each record as it comes and keep ``errors.json`` up to date."""
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
                 record["index"], record["status"], record["seconds"], finished, count,
                 elapsed, elapsed / finished * (count - finished))
        _write_errors(output, errors)


@contextlib.contextmanager
def stop_on_signals():
    """SIGTERM and SIGINT raise :class:`SweepStopped` (so that the executor cancels its jobs
    and the summary is written); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number, frame):
        raise SweepStopped(f"stopped by {signal.Signals(number).name}")

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def summarize(sweep, output: Path, ran: list[int] | None = None) -> SweepResult:
    """(Re)write ``summary.csv``, ``summary.png``, ``sensitivity.json`` and ``errors.json`` from
    the folders, the job array's error files included; ``failed``: every member not done."""
    output = Path(output).resolve()
    errors = _read_errors(output) | array_task_errors(output)
    rows = summary_rows(sweep, output, errors)
    _write_errors(output, {r["index"]: r["error"] for r in rows if r["status"] == "failed"})
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
                       failed={r["index"]: r["error"] for r in rows if r["status"] != "done"})


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
