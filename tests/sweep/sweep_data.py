"""A small base case and sweep files for the sweep tests (written into a temporary folder)."""
from __future__ import annotations

import copy
from pathlib import Path

import tomli_w

from case_data import LIVER

SMALL_DRUG = {
    "drug": {"name": "doxorubicin"},
    "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "10 min", "dose": "20 mg"}],
    "simulation": {"duration": "30 min", "output_every": "15 min", "compare_iv": False,
                   "max_step": "2 min", "backend": "numpy"},
}

GRID_SWEEP = """
[sweep]
name = "small"
base = "base.toml"

[grid]
"catheter.inlets" = [["right"], ["left"], ["caudal"]]
"infusion.0.dose" = ["20 mg", "40 mg"]
"""


def write_base(folder: Path, **changes) -> Path:
    """The small liver with a short doxorubicin infusion as ``folder/base.toml``."""
    raw = copy.deepcopy(LIVER)
    raw.update(copy.deepcopy(SMALL_DRUG))
    raw.update(changes)
    path = folder / "base.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


def write_sweep(folder: Path, text: str = GRID_SWEEP, name: str = "sweep.toml") -> Path:
    write_base(folder)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path

#: Two members of the small liver: 0 runs, 1 fails at run time (its inlet is outside the organ).
ONE_FAILING_SWEEP = """
[sweep]
name = "onefails"
base = "base.toml"

[grid]
"supplies.0.inlets.2.position" = [["48 mm", "30 mm", "24 mm"], ["1 mm", "1 mm", "1 mm"]]
"""
