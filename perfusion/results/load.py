"""A results directory read back for rendering and export (README.md, Results directory).

Arrays and metrics stay in SI; the conversions to the units a figure or an export shows
(µg/mL, µg·h/mL, mL/min/100 mL, mmHg) are in :mod:`perfusion.library.units`.
"""
from __future__ import annotations

import csv
import json
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import ResultsError


@dataclass
class ResultsData:
    """Everything a results directory holds, loaded on first use."""

    directory: Path
    metrics: dict
    case: dict
    fields_path: Path = field(repr=False)

    @cached_property
    def fields(self) -> dict[str, np.ndarray]:
        with np.load(self.fields_path) as archive:
            return {name: archive[name] for name in archive.files}

    @property
    def labels(self) -> np.ndarray:
        return self.fields["labels"]

    @property
    def class_names(self) -> list[str]:
        return [str(n) for n in self.fields["class_names"]]

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size [m]."""
        return np.asarray(self.fields["spacing"], dtype=float)

    @property
    def background(self) -> np.ndarray | None:
        """The case's CT/MR on the grid (its own units, e.g. HU), if the case named one."""
        return self.fields.get("background")

    @property
    def has_drug(self) -> bool:
        return "c_t" in self.fields

    def class_mask(self, name: str) -> np.ndarray:
        return self.labels == self.class_names.index(name)

    @property
    def target(self) -> str | None:
        """The class the exposure metrics are about (tumour when present)."""
        target = self.metrics.get("target")
        return target if target in self.class_names else None

    def focus(self) -> tuple[int, int, int]:
        """Voxel the pictures centre on: the target's (else the tissue's) centre of mass."""
        mask = self.class_mask(self.target) if self.target else self.labels > 0
        if not mask.any():
            mask = self.labels > 0
        return tuple(int(round(c)) for c in np.argwhere(mask).mean(axis=0))

    @cached_property
    def timeseries(self) -> dict[str, np.ndarray]:
        return _read_csv(self.directory / "timeseries.csv")

    @cached_property
    def timeseries_iv(self) -> dict[str, np.ndarray] | None:
        path = self.directory / "timeseries_iv.csv"
        return _read_csv(path) if path.exists() else None

    def end_of_infusion(self) -> float | None:
        """Time [s] the last catheter (intra-arterial or portal-venous; else any) infusion ends,
        from the resolved case."""
        from ..library.units import parse_quantity

        ends = []
        for spec in self.case.get("infusion", []):
            start = parse_quantity(spec["start"], "s")
            duration = parse_quantity(spec["duration"], "s")
            every = parse_quantity(spec["every"], "s") if "every" in spec else 0.0
            ends.append((spec["route"] in ("intra-arterial", "portal-venous"),
                         start + (spec.get("repeat", 1) - 1) * every + duration))
        if not ends:
            return None
        arterial = [t for ia, t in ends if ia]
        return max(arterial or [t for _, t in ends])

    def nearest_output(self, time: float) -> int:
        """Index of the drug output nearest ``time`` [s]."""
        return int(np.argmin(np.abs(self.fields["drug_times"] - time)))


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]} if rows else {}


def load_results(directory: str | Path) -> ResultsData:
    """Read a complete results directory; a clear error if it is not one."""
    directory = Path(directory)
    metrics_path = directory / "metrics.json"
    fields_path = directory / "fields" / "fields.npz"
    if not metrics_path.is_file() or not fields_path.is_file():
        raise ResultsError(f"{directory} is not a complete perfusion results directory "
                           "(metrics.json or fields/fields.npz missing); run the case first")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    case_path = directory / "case.resolved.toml"
    case = tomllib.loads(case_path.read_text(encoding="utf-8")) if case_path.is_file() else {}
    return ResultsData(directory=directory, metrics=metrics, case=case, fields_path=fields_path)
