"""Checkpoints of the drug loop, so that a killed run continues where it stopped.

A :class:`Checkpointer` lives in ``<DIR>.checkpoint/`` beside the results directory ``DIR``
(never inside it, and never with a ``metrics.json``, so it cannot be taken for a result). Every
``every`` seconds of *simulated* time it writes the whole loop state — free and bound drug,
the body, the mass budget, the exposure accumulators, the time series and snapshots so far,
how many embolisation problems are in force — for the route being run (``arterial``, then
``intravenous``), plus the final state of any route already finished:

* ``state-NNNNNN.npz`` — the arrays (written to a temporary name, flushed, renamed);
* ``state.json`` — the scalars and the name of its ``.npz``, renamed into place last, so it
  always names a complete array file (the commit point); older ``.npz`` files are removed after.

``state.json`` also holds a fingerprint of the resolved case, backend and precision: a
checkpoint is only resumed by the run it belongs to. Resuming replays no step twice and
restores arrays and floats exactly, so the fields equal those of an uninterrupted run bit for
bit. The folder is removed when the results are in place.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ResultsError
from .transport.body.pk import BodyState
from .transport.simulation import Budget, LoopState

log = logging.getLogger(__name__)

_EXPOSURE_SCALARS = ("auc_systemic", "cmax_class", "time_above", "target_amount_peak",
                     "target_amount_final", "systemic_peak", "auc_bound_class",
                     "bound_previous_class")


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where the checkpoints of the run writing ``output_dir`` live: ``<DIR>.checkpoint``."""
    output_dir = Path(output_dir).resolve()
    return output_dir.parent / f"{output_dir.name}.checkpoint"


def fingerprint(case, backend) -> str:
    """What a checkpoint must match to be resumed: resolved case, backend, precision, version."""
    text = json.dumps([case.model_dump(mode="json"), backend.name, backend.precision,
                       __version__], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Checkpointer:
    """Saves and restores the drug loop of one run (see the module docstring)."""

    def __init__(self, directory: str | Path, every: float | None, key: str, *,
                 resume: bool = False):
        self.directory = Path(directory)
        self.key = key
        self.saved: dict | None = None
        if resume:
            self.saved = self._read()
        elif self.directory.exists():
            shutil.rmtree(self.directory)
        stored_every = (self.saved or {}).get("every")
        self.every = every if every is not None else stored_every
        if self.every is not None and self.every <= 0:
            raise ResultsError(f"checkpoint interval must be positive, got {self.every} s")
        self.finished: dict[str, tuple[dict, dict]] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self.sequence = (self.saved or {}).get("sequence", 0)
        if self.saved is not None:
            log.info("resuming from the checkpoint in %s", self.directory)

    @property
    def resumed_from(self) -> float | None:
        """Simulated time [s] of the loaded checkpoint's current route, if one was loaded."""
        if self.saved is None:
            return None
        return max(route["t0"] for route in self.saved["routes"].values())

    # --- restoring -------------------------------------------------------------------------
    def restore(self, route: str, backend, exposure, series, snapshots) -> LoopState | None:
        """The saved loop state of ``route`` with its observers refilled, or None."""
        if self.saved is None or route not in self.saved["routes"]:
            return None
        state = self.saved["routes"][route]
        with np.load(self.directory / self.saved["arrays"]) as npz:
            arrays = {name: npz[name] for name in npz.files if name.startswith(f"{route}.")}
        xp = backend.xp
        exposure.auc = xp.asarray(arrays[f"{route}.auc"])
        exposure.cmax = xp.asarray(arrays[f"{route}.cmax"])
        exposure.previous = xp.asarray(arrays[f"{route}.previous"])
        for name in _EXPOSURE_SCALARS:
            if name in state["exposure"]:    # checkpoints before the bound-pool AUC lack it
                setattr(exposure, name, state["exposure"][name])
        series.rows = [dict(row) for row in state["series"]]
        if snapshots is not None:
            snapshots.taken = [(t, {k: arrays[f"{route}.snap{n}.{k}"] for k in ("c_e", "c_c", "c_t")})
                               for n, t in enumerate(state["snapshot_times"])]
        if state["done"]:
            self.finished[route] = (state, arrays)
        log.info("%s route: continuing after step %d (t = %.1f min)", route, state["number"],
                 state["t0"] / 60)
        return LoopState(number=state["number"], t0=state["t0"],
                         free=xp.asarray(arrays[f"{route}.free"]),
                         bound=xp.asarray(arrays[f"{route}.bound"]),
                         body=BodyState(**state["body"]), budget=Budget(**state["budget"]),
                         events_applied=state["events_applied"])

    # --- saving ----------------------------------------------------------------------------
    def hook(self, route: str, backend, exposure, series, snapshots, step_ends):
        """The ``checkpoint`` callback of ``simulate`` for one route."""
        last = float(step_ends[-1]) if len(step_ends) else 0.0
        state = self.saved["routes"].get(route) if self.saved else None
        next_due = (state["t0"] if state else 0.0) + (self.every or np.inf)

        def save(loop: LoopState) -> None:
            nonlocal next_due
            done = loop.number == len(step_ends) or loop.t0 >= last
            if not done and loop.t0 < next_due - 1e-9:
                return
            while next_due <= loop.t0 + 1e-9:
                next_due += self.every or np.inf
            self._save(route, loop, done, backend, exposure, series, snapshots)
        return save

    def _save(self, route, loop, done, backend, exposure, series, snapshots) -> None:
        host = backend.to_host
        arrays = {f"{route}.free": host(loop.free), f"{route}.bound": host(loop.bound),
                  f"{route}.auc": host(exposure.auc), f"{route}.cmax": host(exposure.cmax),
                  f"{route}.previous": host(exposure.previous)}
        taken = snapshots.taken if snapshots is not None else []
        for n, (_, fields) in enumerate(taken):
            arrays.update({f"{route}.snap{n}.{k}": v for k, v in fields.items()})
        state = {"number": loop.number, "t0": loop.t0, "done": done,
                 "events_applied": loop.events_applied,
                 "body": dataclasses.asdict(loop.body), "budget": dataclasses.asdict(loop.budget),
                 "exposure": {name: getattr(exposure, name) for name in _EXPOSURE_SCALARS},
                 "series": series.rows, "snapshot_times": [t for t, _ in taken]}
        routes = {name: s for name, (s, _) in self.finished.items()}
        routes[route] = state
        for _, finished_arrays in self.finished.values():
            arrays.update(finished_arrays)
        self._write(routes, arrays)
        if done:
            self.finished[route] = (state, {k: v for k, v in arrays.items()
                                            if k.startswith(f"{route}.")})

    def _write(self, routes: dict, arrays: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sequence += 1
        name = f"state-{self.sequence:06d}.npz"
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / name)
        meta = {"key": self.key, "every": self.every, "sequence": self.sequence, "arrays": name,
                "routes": routes}
        tmp = self.directory / ".state.json.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / "state.json")
        for old in self.directory.glob("state-*.npz"):
            if old.name != name:
                old.unlink(missing_ok=True)
        log.debug("checkpoint %s written", name)

    def _read(self) -> dict | None:
        path = self.directory / "state.json"
        if not path.exists():
            log.warning("--resume: no checkpoint in %s; starting from the beginning",
                        self.directory)
            return None
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("key") != self.key:
            raise ResultsError(f"the checkpoint in {self.directory} belongs to another case, "
                               "backend or precision; run without --resume to start over "
                               "(it is then removed)")
        return meta

    def remove(self) -> None:
        """Drop the checkpoints (the results are complete)."""
        shutil.rmtree(self.directory, ignore_errors=True)
