"""Sweep files: a base case, fixed overrides, a grid of values and sampled parameters.

```toml
[sweep]
name = "catheter-sweep"
base = "liver_hai.toml"                     # relative to the sweep file
set = ["grid.shape=[32,28,24]"]             # fixed overrides, --set syntax
output = "results/catheter-sweep"           # default: results/<name>

[grid]                                      # Cartesian product of the lists
"catheter.inlets" = [["right"], ["left"]]
"infusion.0.duration" = ["30 min", "2 h"]

[samples]                                   # seeded samples (crossed with the grid)
method = "latin-hypercube"                  # random | latin-hypercube | sobol (Saltelli)
count = 32
seed = 7
[samples.parameters."tissue.tumor.perfusion"]
distribution = "uniform"                    # uniform | log-uniform (low, high) | normal (mean, std)
low = 20
high = 60
unit = "mL/min/(100 mL)"

[slurm]                                     # for --executor slurm and --emit slurm-array
account = "…"
partition = "gpu"
walltime = "02:00:00"
gres = "gpu:a100:1"                         # default: gpu:<gpus_per_worker>
prologue = ["module load cuda"]
array_limit = 8                             # job array: at most 8 tasks at once
```

Every ``[slurm]`` key, with an example, is in README.md (Sweeps and long runs) and
docs/hpc.md; :mod:`.slurm` turns them into ``#SBATCH`` lines for the dask-jobqueue workers
and the job array alike.

The file is read and checked here (TOML, the schema below, every varied key against the case
schema); :mod:`.members` expands it into members, each a complete raw case validated before
anything runs. Any problem is one :class:`SweepError` naming the file, the key and the fix (or
the member).
"""
from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Literal, Optional

import pydantic
from pydantic import Field

from ..case.introspect import model_of
from ..case.schema import Case
from ..errors import PerfusionError
from ..library.units import parse_quantity


class SweepError(PerfusionError):
    """A sweep file that cannot be run; the message names the file, the key and the fix."""


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class SweepInfo(_Strict):
    name: str = Field(description="Name of the sweep (results/<name> by default).")
    base: str = Field(description="The base case file, relative to the sweep file.")
    set: list[str] = Field([], description="Overrides applied to every member (--set syntax).")
    output: Optional[str] = Field(None, description="Results folder, relative to the sweep file.")
    backend: Optional[Literal["auto", "numpy", "cupy"]] = Field(None, description="Array backend.")
    checkpoint_every: Optional[str] = Field(
        None, description="Checkpoint each member's drug loop every this much simulated time.")


class Distribution(_Strict):
    distribution: Literal["uniform", "log-uniform", "normal"] = Field(description="Sampling law.")
    low: Optional[float] = Field(None, description="Lower bound (uniform, log-uniform).")
    high: Optional[float] = Field(None, description="Upper bound (uniform, log-uniform).")
    mean: Optional[float] = Field(None, description="Mean (normal).")
    std: Optional[float] = Field(None, description="Standard deviation (normal).")
    unit: str = Field("", description="Unit appended to each value, e.g. 'mL/min/(100 mL)'.")

    @pydantic.model_validator(mode="after")
    def _bounds(self):
        if self.distribution == "normal":
            if self.mean is None or self.std is None:
                raise ValueError("a normal distribution needs mean and std")
            if self.std <= 0:
                raise ValueError(f"std must be positive, got {self.std}")
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.distribution} distribution needs low and high")
        if not self.low < self.high:
            raise ValueError(f"empty range: low ({self.low}) must be below high ({self.high})")
        if self.distribution == "log-uniform" and self.low <= 0:
            raise ValueError(f"log-uniform needs low > 0, got {self.low}")
        return self


class Samples(_Strict):
    method: Literal["random", "latin-hypercube", "sobol"] = Field(
        "latin-hypercube", description="Sampling design (sobol: Saltelli design for Sobol indices).")
    count: int = Field(description="Number of samples (sobol: base samples N, N·(D+2) members).")
    seed: int = Field(0, description="Seed: the same seed gives the same members.")
    parameters: dict[str, Distribution] = Field(description="Dotted case key → distribution.")

    @pydantic.field_validator("count")
    @classmethod
    def _positive(cls, value):
        if value <= 0:
            raise ValueError(f"the sample count must be at least 1, got {value}")
        return value

    @pydantic.field_validator("parameters")
    @classmethod
    def _some(cls, value):
        if not value:
            raise ValueError("give at least one parameter to sample")
        return value


class Slurm(_Strict):
    account: Optional[str] = Field(None, description="SLURM account (--account).")
    partition: Optional[str] = Field(None, description="SLURM partition (--partition).")
    qos: Optional[str] = Field(None, description="Quality of service (--qos), e.g. 'normal'.")
    constraint: Optional[str] = Field(
        None, description="Node features (--constraint), e.g. 'a100|h100'.")
    walltime: str = Field("01:00:00", description="Wall time per job (HH:MM:SS).")
    gpus_per_worker: int = Field(
        1, ge=0, description="GPUs per worker/task as --gres=gpu:N (unless gres or "
                             "gpus_per_task is given).")
    gres: Optional[str] = Field(
        None, description="Generic resources (--gres) instead of gpu:N, e.g. 'gpu:a100:1'.")
    gpus_per_task: Optional[int] = Field(
        None, ge=1, description="GPUs as --gpus-per-task=N (sites scheduling GPUs as TRES).")
    cores: int = Field(4, ge=1, description="CPU cores per worker/task.")
    memory: str = Field("16GB", description="Memory per worker/task.")
    workers: int = Field(4, ge=1, description="Workers (jobs) of the dask-jobqueue cluster.")
    extra_directives: list[str] = Field(
        [], description="Further sbatch options, one per item, e.g. ['--exclusive'].")
    prologue: list[str] = Field(
        [], description="Shell lines run in each job before the worker/task, e.g. "
                        "['module load cuda/12.2'].")
    interface: Optional[str] = Field(
        None, description="Network interface of the Dask scheduler and workers, e.g. 'ib0'.")
    log_dir: str = Field("logs", description="Job logs folder, relative to the sweep folder.")
    array_limit: Optional[int] = Field(
        None, ge=1, description="At most this many array tasks at once (--array=…%N).")
    pending_timeout: float = Field(
        600.0, gt=0, description="Seconds a worker job may stay pending before the sweep "
                                 "stops with an error naming the job and its reason.")

    @pydantic.field_validator("extra_directives")
    @classmethod
    def _options(cls, value):
        directives = [d.removeprefix("#SBATCH").strip() for d in value]
        bad = [d for d in directives if not d.startswith("-")]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an sbatch option; write it as on the sbatch "
                             "command line, e.g. '--exclusive' or '--mail-type=END'")
        return directives


class SweepFile(_Strict):
    sweep: SweepInfo
    grid: dict[str, list] = Field({}, description="Dotted case key → list of values (crossed).")
    samples: Optional[Samples] = None
    slurm: Slurm = Slurm()

    @pydantic.field_validator("grid")
    @classmethod
    def _non_empty(cls, value):
        empty = [key for key, values in value.items() if not values]
        if empty:
            raise ValueError(f"{empty[0]!r} has an empty list of values; give at least one")
        return value

    @pydantic.model_validator(mode="after")
    def _something(self):
        if not self.grid and self.samples is None:
            raise ValueError("nothing to vary: add a [grid] or a [samples] table")
        return self


def is_sweep_file(path: Path) -> bool:
    """Whether ``path`` is TOML with a ``[sweep]`` table (else a case file, or not TOML)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return isinstance(raw.get("sweep"), dict)


def read_sweep_file(path: Path) -> SweepFile:
    """Read and check a sweep file: TOML, the schema, its case keys and checkpoint interval."""
    if not path.is_file():
        raise SweepError(f"{path}: sweep file not found; check the path")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SweepError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    try:
        spec = SweepFile.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise SweepError(_format(exc, path)) from None
    for table, keys in [("grid", spec.grid), ("samples.parameters",
                                              spec.samples.parameters if spec.samples else {})]:
        for key in keys:
            problem = key_problem(key)
            if problem:
                raise SweepError(f"{path}: {table}.{key!r}: {problem}")
    if spec.sweep.checkpoint_every is not None:
        try:
            parse_quantity(spec.sweep.checkpoint_every, "s")
        except ValueError as exc:
            raise SweepError(f"{path}: sweep.checkpoint_every: {exc} (e.g. \"10 min\")") from None
    return spec


def key_problem(key: str) -> str | None:
    """Why the dotted ``key`` is not a case key (None when it is)."""
    model: typing.Any = Case
    parts = key.split(".")
    position = 0
    while position < len(parts):
        part = parts[position]
        if model is None:
            if all(p.isdigit() for p in parts[position:]):
                return None
            return f"{'.'.join(parts[:position])} is a value, it has no key {part!r}"
        if part not in model.model_fields:
            where = ".".join(parts[:position]) or "the case"
            return (f"not a case key: {where} has no {part!r}; allowed there: "
                    f"{', '.join(model.model_fields)}")
        model, origin = model_of(model.model_fields[part].annotation)
        position += 1
        if model is not None and origin in (list, tuple, dict):
            if position >= len(parts):
                return None
            if origin in (list, tuple) and not parts[position].isdigit():
                return f"{'.'.join(parts[:position])} is a list: give an index, e.g. {key.split('.')[0]}.0"
            position += 1
    return None


def _format(exc: pydantic.ValidationError, path: Path) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key; remove it or check the spelling (see perfusion.sweep.spec)"
        elif error["type"] == "missing":
            message = "required key is missing; add it"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] != "value_error" and "input" in error:
                message += f" (got {error['input']!r})"
        lines.append(f"  {key}: {message}")
    count = len(lines)
    return f"{path}: {count} problem{'s' if count > 1 else ''} in the sweep file:\n" + "\n".join(lines)
