"""``run_case``: case → domain → steady fields → metrics → results directory.

Every entry point (the CLI's ``run``, scripts, sweeps) calls :func:`run_case`; each stage
takes the previous stage's result and returns its own (DESIGN §4).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .backend import make_backend
from .case import Case, case_source, load_case
from .case.resolved import resolved_case
from .domain import build_domain
from .errors import GeometryError
from .exposure import drug_metrics
from .io.results import check_output_dir, steady_fields, write_results
from .metrics import residual_histories, steady_metrics
from .steady import solve_steady
from .transport.run import run_drug

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
             backend: str | None = None, precision: str | None = None) -> RunResult:
    """Run a case end to end and write its results directory.

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
    timings = {}
    start = time.perf_counter()
    be = make_backend(backend or case.simulation.backend, precision or case.simulation.precision)
    try:
        domain = build_domain(case, be)
        timings["domain"] = time.perf_counter() - start
        steady = solve_steady(case, domain)
        timings["steady"] = time.perf_counter() - start - sum(timings.values())
    except GeometryError as exc:  # these name the key; add the file
        raise GeometryError(f"{case_source(case)}: {exc}") from None
    drug = None
    if case.infusion:
        drug = run_drug(case, domain, steady)
        timings["drug"] = time.perf_counter() - start - sum(timings.values())
    provenance = {"version": __version__, "backend": be.name, "precision": be.precision,
                  "device": be.device}
    metrics = steady_metrics(case, domain, steady)
    if drug is not None:
        metrics.update(drug_metrics(case, domain, drug))
    metrics.update(provenance)
    metrics["timings"] = {k: round(v, 4) for k, v in timings.items()}
    directory = write_results(
        output_dir, resolved=resolved_case(case, domain, provenance),
        metrics=metrics, fields=steady_fields(domain, steady), domain=domain,
        histories=residual_histories(steady), drug=drug)
    log.info("results written to %s", directory)
    return RunResult(directory=directory, metrics=metrics)
