"""Infusion schedules and the simulation's time grid (docs/model.md §8.1).

A schedule is a list of windows ``(start, end, rate, route)`` with piecewise-constant mass
rates [kg/s]; cycles are expanded. The time grid places step ends exactly on every output
time and every infusion start and stop, and splits the gaps into equal steps no longer
than ``max_step``, so each step sees one constant infusion rate.

Routes (docs/model.md §8.2): ``intra-arterial`` and ``portal-venous`` both enter through the
catheter (on an arterial or a portal supply, checked when the case is loaded), so the drug
loop takes their summed rate as the catheter's ``I`` (:meth:`Schedule.catheter_rate`);
``intravenous`` enters the body.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

IA, PV, IV = "intra-arterial", "portal-venous", "intravenous"
#: routes that infuse through the catheter (a case uses the one its catheter's supply allows)
CATHETER_ROUTES = (IA, PV)


@dataclass(frozen=True)
class Window:
    """One constant-rate infusion interval."""

    start: float
    end: float
    rate: float
    route: str


@dataclass(frozen=True)
class Schedule:
    """Piecewise-constant infusion rates by route."""

    windows: tuple[Window, ...]

    @classmethod
    def from_case(cls, infusions) -> "Schedule":
        return cls(tuple(Window(start, end, spec.mass_rate, spec.route)
                         for spec in infusions for start, end in spec.windows()))

    def as_intravenous(self) -> "Schedule":
        """The IV comparator: the same rates and times, every window given intravenously."""
        return Schedule(tuple(replace(w, route=IV) for w in self.windows))

    def mean_rate(self, route: str, t0: float, t1: float) -> float:
        """Mean infusion rate of ``route`` over ``[t0, t1]`` [kg/s] (exact on the time grid)."""
        overlap = sum(w.rate * max(0.0, min(w.end, t1) - max(w.start, t0))
                      for w in self.windows if w.route == route)
        return overlap / (t1 - t0)

    def catheter_rate(self, t0: float, t1: float) -> float:
        """Mean rate through the catheter (intra-arterial or portal-venous) over ``[t0, t1]``."""
        return sum(self.mean_rate(route, t0, t1) for route in CATHETER_ROUTES)

    def dose(self, route: str | None = None) -> float:
        """Total mass infused [kg] (by one route, or all)."""
        return sum(w.rate * (w.end - w.start) for w in self.windows
                   if route is None or w.route == route)

    def breakpoints(self) -> list[float]:
        return sorted({t for w in self.windows for t in (w.start, w.end)})


def time_grid(duration: float, output_times, breakpoints, max_step: float) -> np.ndarray:
    """Step end times: every output time and breakpoint hit exactly, steps ≤ ``max_step``."""
    marks = sorted({0.0, duration, *(t for t in (*output_times, *breakpoints) if 0 < t < duration)})
    ends = []
    for t0, t1 in zip(marks, marks[1:]):
        if t1 - t0 <= 1e-9 * max(duration, 1.0):
            continue
        count = max(1, math.ceil((t1 - t0) / max_step - 1e-9))
        ends.extend(t0 + (t1 - t0) * np.arange(1, count + 1) / count)
        ends[-1] = t1
    return np.asarray(ends)
