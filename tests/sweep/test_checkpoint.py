"""Checkpoints: a run killed with SIGKILL resumes to the uninterrupted run's fields, bit for bit."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sweep_data import SMALL_DRUG, write_base

from perfusion.case.loader import load_case
from perfusion.checkpoint import checkpoint_dir
from perfusion.errors import ResultsError
from perfusion.pipeline import run_case

LONG = {**SMALL_DRUG["simulation"], "duration": "3 h", "max_step": "1 min", "compare_iv": True}


def _wait_for_checkpoint(folder, process, minutes, timeout=120):
    """Poll until the checkpoint has passed ``minutes`` of simulated time (or fail)."""
    state = folder / "state.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended before it could be killed: {process.stderr.read()}")
        if state.exists():
            routes = json.loads(state.read_text())["routes"]
            if max(r["t0"] for r in routes.values()) >= 60 * minutes:
                return routes
        time.sleep(0.05)
    pytest.fail("no checkpoint appeared")


@pytest.mark.slow
def test_kill_9_then_resume_equals_uninterrupted_run(tmp_path, caplog):
    base = write_base(tmp_path, simulation=LONG)
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "perfusion", "run", str(base), "-o", str(killed),
         "--checkpoint-every", "20 min", "--backend", "numpy"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        routes = _wait_for_checkpoint(checkpoint_dir(killed), process, minutes=60)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not routes["arterial"]["done"]
    # nothing that looks like a result: no DIR, no DIR/metrics.json anywhere
    assert not killed.exists()
    assert not list(tmp_path.glob("*/metrics.json"))
    assert not (checkpoint_dir(killed) / "metrics.json").exists()

    case = load_case(base)
    with caplog.at_level(logging.INFO, logger="perfusion"):
        resumed = run_case(case, killed, resume=True)
    assert "arterial route: continuing after step" in caplog.text
    assert not checkpoint_dir(killed).exists()  # removed once the results are in place
    reference = run_case(case, tmp_path / "reference")
    a = np.load(resumed.directory / "fields" / "fields.npz")
    b = np.load(reference.directory / "fields" / "fields.npz")
    assert a.files == b.files
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name
    for name in ("timeseries.csv", "timeseries_iv.csv"):
        assert (killed / name).read_text() == (tmp_path / "reference" / name).read_text()
    drop = lambda m: {k: v for k, v in m.items() if k not in ("timings", "solver", "seconds", "iv")}
    assert drop(resumed.metrics) == drop(reference.metrics)


def test_resume_in_the_iv_route_and_a_foreign_checkpoint(tmp_path, monkeypatch):
    """Interrupted during the IV comparator: the finished arterial route is restored whole."""
    import perfusion.checkpoint as checkpoint

    base = write_base(tmp_path, simulation={**LONG, "duration": "1 h", "max_step": "2 min"})
    case = load_case(base)
    reference = run_case(case, tmp_path / "reference")
    original, writes = checkpoint.Checkpointer._write, []

    def interrupted(self, routes, arrays):
        original(self, routes, arrays)
        writes.append(set(routes))
        if "intravenous" in routes:
            raise KeyboardInterrupt
    monkeypatch.setattr(checkpoint.Checkpointer, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_case(case, tmp_path / "run", checkpoint_every=600)
    monkeypatch.setattr(checkpoint.Checkpointer, "_write", original)
    assert not (tmp_path / "run").exists() and writes[-1] == {"arterial", "intravenous"}
    other = load_case(base, ['infusion.0.dose="30 mg"'])
    with pytest.raises(ResultsError, match="belongs to another case"):
        run_case(other, tmp_path / "run", resume=True)
    resumed = run_case(case, tmp_path / "run", resume=True)
    a = np.load(resumed.directory / "fields" / "fields.npz")
    b = np.load(reference.directory / "fields" / "fields.npz")
    assert all(np.array_equal(a[k], b[k]) for k in b.files)
    assert resumed.metrics["regional_advantage"] == reference.metrics["regional_advantage"]
