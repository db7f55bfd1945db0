"""A sweep expanded into members: the base case with the overrides, crossed with grid and samples.

Members are the Cartesian product of the ``[grid]`` rows and the ``[samples]`` rows (one empty
row when a table is absent), numbered in that order; each member is the base case with
``sweep.set`` and then its own values applied as ``--set`` overrides, named
``<sweep>-NNNN``, and validated as a case before anything runs. The sweep file itself is read
and checked in :mod:`.spec`.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from ..case.loader import apply_override, case_from_dict
from ..errors import CaseError, PerfusionError
from ..library.units import parse_quantity
from .spec import SweepError, SweepFile, read_sweep_file


@dataclass(frozen=True)
class Member:
    """One fully resolved member: its raw case (validated) and what was varied."""

    index: int
    parameters: dict
    case: dict
    source: str

    @property
    def key(self) -> str:
        """Fingerprint of the member's case (a changed member is re-run)."""
        text = json.dumps(self.case, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {"index": self.index, "parameters": self.parameters, "key": self.key,
                "source": self.source, "case": self.case}


@dataclass(frozen=True)
class Sweep:
    """A loaded sweep file and its members."""

    path: Path
    spec: SweepFile
    members: list[Member]
    unit_samples: object = None   # the unit-hypercube design of sampled parameters (or None)

    @property
    def varied(self) -> list[str]:
        return [*self.spec.grid, *(self.spec.samples.parameters if self.spec.samples else {})]

    @property
    def sampled(self) -> list[str]:
        return list(self.spec.samples.parameters) if self.spec.samples else []

    def default_output(self) -> Path:
        if self.spec.sweep.output:
            return (self.path.parent / self.spec.sweep.output).resolve()
        return Path("results") / self.spec.sweep.name

    @property
    def checkpoint_every(self) -> float | None:
        every = self.spec.sweep.checkpoint_every
        return None if every is None else parse_quantity(every, "s")


def load_sweep(path: str | Path) -> Sweep:
    """Read, check and expand a sweep file; every member is validated as a case."""
    path = Path(path)
    spec, base, base_raw, rows, unit = _expand(path)
    members = [_member(path, base, base_raw, index, parameters, spec.sweep.name)
               for index, parameters in enumerate(rows)]
    return Sweep(path=path, spec=spec, members=members, unit_samples=unit)


def validate_sweep(path: str | Path, overrides=()) -> list[str]:
    """Check a sweep file as ``perfusion validate`` checks a case; return notes to print.

    The base case (with ``sweep.set``) and every member (with ``overrides`` last) are
    validated and checked by :func:`perfusion.pipeline.validate_case`, each distinct grid,
    geometry, tissue, supplies and catheter once. Raises one :class:`SweepError` naming every
    failing member by index with its overrides.
    """
    from ..pipeline import validate_case

    path = Path(path)
    spec, base, base_raw, rows, _ = _expand(path)
    raws = [("base case (with sweep.set)", base_raw)]
    problems, checked = [], {}
    for index, parameters in enumerate(rows):
        try:
            raws.append((_member_name(index, parameters),
                         _member_raw(base, base_raw, index, parameters, spec.sweep.name)))
        except CaseError as exc:
            problems.append(f"{_member_name(index, parameters)}: {exc}")
    for name, raw in raws:
        try:
            case = case_from_dict(raw, source=base, overrides=overrides)
            key = case.model_dump_json(include={"grid", "geometry", "tissue", "supplies",
                                                "catheter"})
            if key not in checked:
                checked[key] = validate_case(case)
        except PerfusionError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise SweepError(f"{path}: {len(problems)} of the base case and {len(rows)} members "
                         "are not valid — fix these (nothing was run):\n" + "\n".join(problems))
    return [f"base case {base} and {len(rows)} members valid ({len(checked)} distinct "
            "geometries checked)", *next(iter(checked.values()))]


def _expand(path: Path) -> tuple[SweepFile, Path, dict, list[dict], object]:
    """(the checked sweep file, the base case file, its raw dict with ``sweep.set`` applied,
    the parameters of every member, the unit-hypercube design or None)."""
    from .sampling import sample_values

    spec = read_sweep_file(path)
    base = (path.parent / spec.sweep.base).resolve()
    if not base.is_file():
        raise SweepError(f"{path}: sweep.base: case file {str(base)!r} not found; give a path "
                         "relative to the sweep file")
    try:
        base_raw = tomllib.loads(base.read_text(encoding="utf-8"))
        for override in spec.sweep.set:
            apply_override(base_raw, override, base)
    except (tomllib.TOMLDecodeError, CaseError) as exc:
        raise SweepError(f"{path}: sweep.base/sweep.set: {exc}") from None
    grid_rows = [dict(zip(spec.grid, combo)) for combo in itertools.product(*spec.grid.values())]
    sample_rows, unit = [{}], None
    if spec.samples is not None:
        try:
            sample_rows, unit = sample_values(spec.samples)
        except ImportError as exc:  # SALib (Saltelli design) is the optional sweep extra
            raise SweepError(f"{path}: samples.method = {spec.samples.method!r} needs SALib "
                             f"({exc}); install it with pip install 'perfusion-ia[sweep]', or use "
                             "method = \"random\" or \"latin-hypercube\"") from None
    rows = [{**grid_row, **sample_row}
            for grid_row, sample_row in itertools.product(grid_rows, sample_rows)]
    return spec, base, base_raw, rows, unit


def _member(path: Path, base: Path, base_raw: dict, index: int, parameters: dict,
            name: str) -> Member:
    try:
        raw = _member_raw(base, base_raw, index, parameters, name)
        case_from_dict(raw, source=base)
    except CaseError as exc:
        raise SweepError(f"{path}: {_member_name(index, parameters)} is not a valid case — "
                         f"nothing was run:\n{exc}") from None
    return Member(index=index, parameters=parameters, case=raw, source=str(base))


def _member_raw(base: Path, base_raw: dict, index: int, parameters: dict, name: str) -> dict:
    """The raw case of member ``index``: the base with its values applied, named ``<name>-NNNN``."""
    raw = copy.deepcopy(base_raw)
    for key, value in parameters.items():
        apply_override(raw, f"{key}={toml_value(value)}", base)
    raw.setdefault("case", {})["name"] = f"{name}-{index:04d}"
    return raw


def _member_name(index: int, parameters: dict) -> str:
    return f"member {index} ({', '.join(f'{k}={v!r}' for k, v in parameters.items())})"


def toml_value(value) -> str:
    """A value as TOML text (what --set takes)."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()
