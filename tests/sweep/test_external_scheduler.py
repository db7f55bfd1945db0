"""Sweeps on an existing Dask cluster (``--scheduler`` / ``--scheduler-file``): a real
``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 started here, one of them killed
with SIGKILL in the middle of a member; and a scheduler without workers."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from sweep_data import write_sweep

from perfusion.case.loader import case_from_dict
from perfusion.pipeline import run_case
from perfusion.sweep import SweepError, load_sweep, run_sweep
from perfusion.sweep.summary import HEADLINE, headline
from perfusion.sweep.watch import SweepStopped

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

TWO_BY_TWO = """
[sweep]
name = "external"
base = "base.toml"

[grid]
"catheter.inlets" = [["right"], ["left"]]
"infusion.0.dose" = ["20 mg", "40 mg"]
"""


def _dask(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def scheduler_file(tmp_path):
    path = tmp_path / "scheduler.json"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--no-dashboard", "--scheduler-file", str(path))
    assert _wait_for(path.exists, 60), "the scheduler did not start"
    yield path
    _stop(scheduler)


def test_a_sweep_survives_a_worker_killed_mid_member(tmp_path, scheduler_file):
    from distributed import Client

    workers = [_dask("worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                     "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}")
               for i in range(2)]
    sweep = load_sweep(write_sweep(tmp_path, TWO_BY_TWO))
    outcome = {}

    def sweep_in_background():
        try:
            outcome["result"] = run_sweep(sweep, tmp_path / "out", executor="external",
                                          scheduler=str(scheduler_file), worker_timeout=60)
        except Exception as exc:  # handed to the test thread
            outcome["error"] = exc

    try:
        with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            assert _wait_for(lambda: len(client.nthreads()) == 2, 60), "workers did not start"
            names = {address: info["name"] for address, info in
                     client.scheduler_info(n_workers=-1)["workers"].items()}
            runner = threading.Thread(target=sweep_in_background)
            runner.start()
            busy = {}
            assert _wait_for(lambda: busy.update({a: k for a, k in client.processing().items()
                                                  if k}) or busy, 60), "no member started"
            victim = int(names[next(iter(busy))][1:])
            time.sleep(0.5)  # well inside the member (several seconds each)
            os.kill(workers[victim].pid, signal.SIGKILL)
            runner.join(timeout=240)
        assert not runner.is_alive(), "the sweep hangs"
    finally:
        _stop(*workers)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert sorted(result.ran) == [0, 1, 2, 3] and not result.failed
    with open(tmp_path / "out" / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["status"] for row in rows] == ["done"] * 4
    for member, row in zip(sweep.members, rows):
        serial = run_case(case_from_dict(member.case, source=member.source),
                          tmp_path / "serial" / f"{member.index:04d}")
        expected = headline(serial.metrics)
        for column in HEADLINE:
            if expected[column] != expected[column]:  # NaN
                assert row[column] == "nan", (member.index, column)
            else:
                assert float(row[column]) == expected[column], (member.index, column)
    # resume: everything is complete, nothing runs (the workers are gone by now)
    assert run_sweep(sweep, tmp_path / "out", executor="external",
                     scheduler=str(scheduler_file)).ran == []


def test_a_scheduler_without_workers_is_an_error_after_the_timeout(tmp_path, scheduler_file):
    import json

    address = json.loads(scheduler_file.read_text())["address"]
    sweep = load_sweep(write_sweep(tmp_path, TWO_BY_TWO))
    start = time.monotonic()
    with pytest.raises(SweepStopped) as stopped:
        run_sweep(sweep, tmp_path / "out", executor="external", scheduler=address,
                  worker_timeout=5)
    assert 5 <= time.monotonic() - start < 30
    assert str(stopped.value).startswith(f"--scheduler {address}: no Dask worker connected "
                                         "within 5 s; start workers with `dask worker ")
    assert "0 of 4 members complete" in str(stopped.value)


def test_an_unreachable_scheduler_is_one_message():
    from perfusion.sweep.execute import run_external

    with pytest.raises(SweepError) as failed:
        list(run_external([{"index": 0}], ["x"], "tcp://127.0.0.1:9", worker_timeout=2))
    assert str(failed.value).startswith("--scheduler tcp://127.0.0.1:9: cannot reach the Dask "
                                        "scheduler (")
