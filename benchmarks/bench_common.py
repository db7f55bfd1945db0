"""What every benchmark records about the machine it ran on (imported by the bench_* scripts,
which run from the repository root as ``python benchmarks/bench_<name>.py``)."""
from __future__ import annotations

import datetime
import os
import platform

import numpy as np
import scipy


def machine(**versions) -> dict:
    """Date, CPU model, usable cores, Python/NumPy/SciPy versions, the 1-min load average and
    the given extra ``versions`` (e.g. ``pyamg=pyamg.__version__``)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"date": datetime.date.today().isoformat(), "cpu": cpu,
            "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, **versions,
            "backend": "numpy float64", "load_average_1min": os.getloadavg()[0]}
