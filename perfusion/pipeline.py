"""``run_case``: case → domain → steady fields → metrics and checks → results directory.

Every entry point (the CLI's ``run``, scripts, sweeps) calls :func:`run_case`; each stage
takes the previous stage's result and returns its own (docs/architecture.md). Before anything is
allocated the run's memory estimate (``perfusion.compute.memory``) is compared with the free
device and host memory; an allocation that fails anyway (NumPy ``MemoryError``, CuPy
``OutOfMemoryError``) becomes the same message, with CuPy's pools released first.
"""
from __future__ import annotations

import logging
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .compute.backend import Backend, is_out_of_memory, make_backend
from .case import Case, case_source, load_case
from .case.resolved import resolved_case
from .domain import build_domain
from .case.checks import KeyedCaseError
from .errors import BackendUnavailableError, CaseError, GeometryError
from .results.exposure import drug_metrics
from .results.write import check_output_dir, steady_fields, write_results
from .compute.memory import GIB, MemoryEstimate, check_fits, estimate, remedies
from .results.checks import drug_checks, enforce, failed_checks_file, steady_checks
from .results.metrics import residual_histories, steady_metrics
from .steady.solve import solve_steady
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
             resume: bool = False, strict: bool = True) -> RunResult:
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

    Examples
    --------
    >>> from perfusion import load_case, run_case                        # doctest: +SKIP
    >>> case = load_case("cases/liver_hai.toml", ["grid.shape=[32,32,28]"])  # doctest: +SKIP
    >>> result = run_case(case, "results/small", backend="numpy")        # doctest: +SKIP
    >>> result.metrics["perfusion_mean"]["tumor"]                        # doctest: +SKIP
    """
    if not isinstance(case, Case):
        case = load_case(case)
    output_dir = check_output_dir(output_dir or default_output_dir(case))
    be = make_backend(backend or case.simulation.backend, precision or case.simulation.precision)
    try:
        memory = estimate(case)
    except GeometryError:  # an unreadable image: build_domain reports it with the case
        memory = None
    if memory is not None and check_memory:
        check_fits(memory, be)
    try:
        return _run(case, be, output_dir, _checkpointer(case, be, output_dir,
                                                        checkpoint_every, resume), strict)
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


def _checkpointer(case, be, output_dir, every, resume):
    """A :class:`~perfusion.checkpoint.Checkpointer` when asked for (and a drug to run)."""
    if (every is None and not resume) or not case.infusion:
        return None
    from .checkpoint import Checkpointer, checkpoint_dir, fingerprint

    return Checkpointer(checkpoint_dir(output_dir), every, fingerprint(case, be), resume=resume)


@contextmanager
def _naming_the_file(case: Case):
    """Errors that name a key (geometry, or a key only the solved fields can check) get the
    case file in front."""
    try:
        yield
    except GeometryError as exc:
        raise GeometryError(f"{case_source(case)}: {exc}") from None
    except KeyedCaseError as exc:
        raise CaseError(f"{case_source(case)}: {exc}") from None


def _run(case: Case, be: Backend, output_dir: Path, checkpoint=None,
         strict: bool = True) -> RunResult:
    """The stages of :func:`run_case` (its own frame, so an error can release the arrays)."""
    timings = {}
    start = time.perf_counter()
    with _naming_the_file(case):
        domain = build_domain(case, be)
        timings["domain"] = time.perf_counter() - start
        steady = solve_steady(case, domain)
        timings["steady"] = time.perf_counter() - start - timings["domain"]
    provenance = {"version": __version__, "backend": be.name, "precision": be.precision,
                  "device": be.device}
    metrics = steady_metrics(case, domain, steady)
    metrics.update(tree_metrics(steady, domain))
    checks = steady_checks(case, domain, steady, metrics)
    failed_file = failed_checks_file(output_dir)
    if strict:  # refuse a broken steady state before the drug loop
        enforce(checks, strict, {**metrics, **provenance, "checks": checks}, failed_file)
    drug = None
    if case.infusion:
        started = time.perf_counter()
        with _naming_the_file(case):
            drug = run_drug(case, domain, steady, checkpoint)
        timings["drug"] = time.perf_counter() - started
        metrics.update(drug_metrics(case, domain, drug))
        checks.update(drug_checks(metrics, be.precision))
    metrics["checks"] = checks
    metrics.update(provenance)
    metrics["timings"] = {k: round(v, 4) for k, v in timings.items()}
    enforce(checks, strict, metrics, failed_file)  # before anything looks like a result
    directory = write_results(
        output_dir, resolved=resolved_case(case, domain, provenance),
        metrics=metrics, fields=steady_fields(domain, steady), domain=domain,
        histories=residual_histories(steady), drug=drug, trees=tree_files(steady, drug))
    failed_file.unlink(missing_ok=True)  # a previous refused run's metrics are stale now
    if checkpoint is not None:
        checkpoint.remove()
    log.info("results written to %s", directory)
    return RunResult(directory=directory, metrics=metrics)
