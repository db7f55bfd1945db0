"""``run_case``: case → domain → steady fields → metrics and checks → results directory.

Every entry point (the CLI's ``run``, scripts, sweeps) calls :func:`run_case`; each stage
takes the previous stage's result and returns its own (docs/architecture.md). Before anything is
allocated the run's memory estimate (``perfusion.compute.memory``) is compared with the free
device and host memory; an allocation that fails anyway (NumPy ``MemoryError``, CuPy
``OutOfMemoryError``) becomes the same message, with CuPy's pools released first.
"""
from __future__ import annotations

import logging
import math
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .compute import native
from .compute.backend import Backend, is_out_of_memory, make_backend
from .case import Case, case_source, load_case
from .case.resolved import resolved_case
from .domain import build_domain
from .case.checks import KeyedCaseError
from .errors import BackendUnavailableError, CaseError, GeometryError
from .results.embolization import embolization_metrics
from .results.exposure import drug_metrics
from .results.regional import regional_metrics
from .results.write import check_output_dir, steady_fields, write_results
from .compute.memory import GIB, MemoryEstimate, check_fits, estimate, remedies
from .results.checks import (drug_checks, embolized_checks, enforce, failed_checks_file,
                             steady_checks)
from .results.metrics import residual_histories, steady_metrics
from .results.provenance import input_files, run_provenance
from .steady.inlets import resolve_inlets
from .steady.solve import solve_steady
from .steady.supply import class_targets, supplied_voxels
from .transport.run import run_drug
from .results.trees import tree_files, tree_metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Where a run wrote its results, and its metrics."""

    directory: Path
    metrics: dict


def default_output_dir(case: Case) -> Path:
    """``output.dir`` of the case, or ``results/<case name>`` in the working directory."""
    return Path(case.output.dir) if case.output.dir else Path("results") / case.case.name


def run_case(case: Case | str | Path, output_dir: str | Path | None = None, *,
             backend: str | None = None, precision: str | None = None,
             check_memory: bool = True, checkpoint_every: float | None = None,
             resume: bool = False, strict: bool = True, overwrite: bool = False) -> RunResult:
    """Run a case end to end and write its results directory.

    ``checkpoint_every`` [s of simulated time] saves the drug loop into ``<DIR>.checkpoint/``
    at that interval; ``resume`` continues from the last checkpoint there (the results equal
    an uninterrupted run's bit for bit) — see :mod:`perfusion.checkpoint`.

    With ``check_memory`` (the default) a run whose memory estimate exceeds the free device
    or host memory is refused before anything is allocated
    (:class:`~perfusion.errors.BackendUnavailableError`, with what to change).

    Every run checks its physical invariants (:mod:`perfusion.results.checks`; ``checks`` in
    ``metrics.json``). A failed check raises :class:`~perfusion.errors.InvariantError` before
    the results directory is moved into place (the steady checks before the drug loop), and
    the metrics go to ``<DIR>.failed-checks.json``; ``strict=False`` logs a warning instead
    and writes the results with ``passed: false``.

    An ``output_dir`` that already holds results is refused before any work
    (:class:`~perfusion.errors.ResultsError`) unless ``overwrite``: then the complete new
    results replace it, its figures, report and exports included.

    Examples
    --------
    >>> from perfusion import load_case, run_case                        # doctest: +SKIP
    >>> case = load_case("cases/liver_hai.toml", ["grid.shape=[32,32,28]"])  # doctest: +SKIP
    >>> result = run_case(case, "results/small", backend="numpy")        # doctest: +SKIP
    >>> result.metrics["perfusion_mean"]["tumor"]                        # doctest: +SKIP
    """
    if not isinstance(case, Case):
        case = load_case(case)
    output_dir = check_output_dir(output_dir or default_output_dir(case), overwrite)
    be = make_backend(backend or case.simulation.backend, precision or case.simulation.precision)
    try:
        memory = estimate(case)
    except GeometryError:  # an unreadable image: build_domain reports it with the case
        memory = None
    if memory is not None and check_memory:
        check_fits(memory, be)
    try:
        return _run(case, be, output_dir, _checkpointer(case, be, output_dir,
                                                        checkpoint_every, resume), strict,
                    overwrite)
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        traceback.clear_frames(exc.__traceback__)  # drop the failed stage's arrays …
        be.release_memory()                         # … so the pools can be emptied
        raise BackendUnavailableError(_out_of_memory_message(exc, memory, be)) from exc


def _out_of_memory_message(exc: BaseException, memory: MemoryEstimate | None, be: Backend) -> str:
    """What ran out, what the run needs by the estimate, and what to change."""
    detail = str(exc).strip()
    text = (f"the run ran out of {'GPU' if be.name == 'cupy' else 'host'} memory "
            f"({type(exc).__name__}{': ' + detail if detail else ''})")
    if memory is None:
        return f"{text}. Use --precision float32, a coarser grid or fewer output times."
    need = memory.need(be.name, be.precision)
    gpu = f"{need.device / GIB:.2f} GiB of GPU memory and " if be.name == "cupy" else ""
    return (f"{text}; by the estimate it needs about {gpu}{need.host / GIB:.2f} GiB of RAM "
            f"({be.name}, {be.precision}). {remedies(memory, be)}")


#: ``validate_case`` builds no label volume costing more than this [bytes] to build …
PREFLIGHT_LIMIT = 2 * GIB
#: … at 17 bytes per image voxel: the int8 labels and the phantom's or image reader's
#: temporaries (the host counts of ``perfusion.compute.memory``).
BUILD_BYTES_PER_VOXEL = 17


def validate_case(case: Case) -> list[str]:
    """Check what ``run`` checks in its first seconds, without solving; return notes to print.

    Builds the labels on NumPy (a phantom tumour with no voxel in the organ, a label value
    absent from the image, a non-integer label image are errors there) and resolves every
    point inlet against the tissue its supply perfuses; a tree's root(s) and a catheter tip
    must lie inside the grid. Errors name the case file and the key. A grid whose labels
    would cost more than :data:`PREFLIGHT_LIMIT` to build is not built: a note says so.
    """
    with naming_the_file(case):
        memory = estimate(case)
    notes = memory.lines()
    build = BUILD_BYTES_PER_VOXEL * math.prod(memory.shape) * case.geometry.downsample ** 3
    if build > PREFLIGHT_LIMIT:
        return [*notes, f"geometry not checked: building its labels takes about "
                f"{build / GIB:.1f} GiB (more than {PREFLIGHT_LIMIT / GIB:g}); run checks it"]
    with naming_the_file(case):
        domain = build_domain(case, make_backend("numpy", "float64"))
        for index, supply in enumerate(case.supplies):
            if supply.tree is None:
                targets, direct = class_targets(case, domain, supply.name)
                resolve_inlets(index, supply, domain.spacing,
                               supplied_voxels(domain, {**targets, **direct}))
                continue
            roots = [supply.tree.root] if supply.tree.root is not None else supply.tree.roots
            for n, root in enumerate(roots):
                where = "root" if supply.tree.root is not None else f"roots.{n}"
                _inside_grid(f"supplies.{index}.tree.{where}", root, domain)
        if case.catheter is not None and case.catheter.position is not None:
            _inside_grid("catheter.position", case.catheter.position, domain)
    return [*notes, f"geometry: classes {', '.join(domain.present_classes)}; every inlet, "
            "root and catheter tip lies where run needs it"]


def _inside_grid(key: str, position, domain) -> None:
    extent = [n * h for n, h in zip(domain.shape, domain.spacing)]
    if any(not 0 <= p <= e for p, e in zip(position, extent)):
        shown = ", ".join(f"{1e3 * p:.4g}" for p in position)
        raise KeyedCaseError(key, f"[{shown}] mm is outside the grid, which spans [0, 0, 0]…"
                             f"[{', '.join(f'{1e3 * e:.4g}' for e in extent)}] mm; positions "
                             "are millimetres from the outer corner of voxel [0, 0, 0]")


def _checkpointer(case, be, output_dir, every, resume):
    """A :class:`~perfusion.checkpoint.Checkpointer` when asked for (and a drug to run)."""
    if (every is None and not resume) or not case.infusion:
        return None
    from .checkpoint import Checkpointer, checkpoint_dir, fingerprint

    return Checkpointer(checkpoint_dir(output_dir), every, fingerprint(case, be), resume=resume)


@contextmanager
def naming_the_file(case: Case):
    """Errors that name a key (geometry, or a key only the solved fields can check) get the
    case file in front."""
    try:
        yield
    except GeometryError as exc:
        raise GeometryError(f"{case_source(case)}: {exc}") from None
    except KeyedCaseError as exc:
        raise CaseError(f"{case_source(case)}: {exc}") from None


def _run(case: Case, be: Backend, output_dir: Path, checkpoint=None,
         strict: bool = True, overwrite: bool = False) -> RunResult:
    """The stages of :func:`run_case` (its own frame, so an error can release the arrays)."""
    timings = {}
    start = time.perf_counter()
    with naming_the_file(case):
        domain = build_domain(case, be)
        timings["domain"] = time.perf_counter() - start
        steady = solve_steady(case, domain)
        timings["steady"] = time.perf_counter() - start - timings["domain"]
    provenance = {"version": __version__, "backend": be.name, "precision": be.precision,
                  "device": be.device, **run_provenance()}
    metrics = steady_metrics(case, domain, steady)
    metrics.update(tree_metrics(steady, domain))
    checks = steady_checks(case, domain, steady, metrics)
    failed_file = failed_checks_file(output_dir)
    if strict:  # refuse a broken steady state before the drug loop
        enforce(checks, strict, {**metrics, **provenance, "checks": checks}, failed_file)
    drug = None
    if case.infusion:
        started = time.perf_counter()
        with naming_the_file(case):
            drug = run_drug(case, domain, steady, checkpoint)
        timings["drug"] = time.perf_counter() - started
        metrics.update(drug_metrics(case, domain, drug))
        metrics.update(regional_metrics(domain, steady, drug))
        checks.update(drug_checks(metrics, be.precision))
        if drug.embolized is not None:
            metrics["embolization"] = embolization_metrics(case, domain, steady, drug.embolized)
            checks.update(embolized_checks(case, be.precision, metrics["embolization"]))
    metrics["checks"] = checks
    metrics["inputs"] = input_files(case)
    metrics.update(provenance)
    if be.name == "numpy":   # which CPU path the ops took, and why (compute/native.py)
        metrics["cpu_kernels"] = native.selection().as_dict()
    metrics["timings"] = {k: round(v, 4) for k, v in timings.items()}
    enforce(checks, strict, metrics, failed_file)  # before anything looks like a result
    directory = write_results(
        output_dir, resolved=resolved_case(case, domain, provenance),
        metrics=metrics, fields=steady_fields(domain, steady), domain=domain,
        histories=residual_histories(steady), drug=drug, trees=tree_files(steady, drug),
        overwrite=overwrite)
    failed_file.unlink(missing_ok=True)  # a previous refused run's metrics are stale now
    if checkpoint is not None:
        checkpoint.remove()
    log.info("results written to %s", directory)
    return RunResult(directory=directory, metrics=metrics)
