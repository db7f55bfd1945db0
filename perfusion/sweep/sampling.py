"""Seeded samples of the ``[samples]`` table: random, Latin hypercube, Saltelli (Sobol).

A design is drawn on the unit hypercube ``u ∈ [0, 1)^D`` (NumPy's PCG64 for ``random``,
SciPy's ``qmc.LatinHypercube`` for ``latin-hypercube``, SALib's Saltelli sequence for
``sobol``), all from ``seed``, and mapped through each parameter's inverse CDF:
uniform ``low + u (high − low)``, log-uniform ``low (high/low)^u``, normal
``mean + std Φ⁻¹(u)``. The same seed gives the same members on every machine.
"""
from __future__ import annotations

import numpy as np


def unit_design(samples) -> np.ndarray:
    """The (n, D) design on the unit hypercube."""
    dims = len(samples.parameters)
    if samples.method == "random":
        return np.random.default_rng(samples.seed).random((samples.count, dims))
    if samples.method == "latin-hypercube":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=dims, seed=np.random.default_rng(samples.seed)).random(samples.count)
    from SALib.sample import sobol

    problem = {"num_vars": dims, "names": list(samples.parameters), "bounds": [[0.0, 1.0]] * dims}
    design = sobol.sample(problem, samples.count, calc_second_order=False, scramble=True,
                          seed=samples.seed)
    return np.clip(design, 1e-12, 1 - 1e-12)  # Φ⁻¹ of exactly 0 or 1 is infinite


def transform(distribution, u: np.ndarray) -> np.ndarray:
    """Map unit samples through the inverse CDF of ``distribution``."""
    if distribution.distribution == "uniform":
        return distribution.low + u * (distribution.high - distribution.low)
    if distribution.distribution == "log-uniform":
        return distribution.low * (distribution.high / distribution.low) ** u
    from scipy.stats import norm

    return distribution.mean + distribution.std * norm.ppf(u)


def sample_values(samples) -> tuple[list[dict], np.ndarray]:
    """One ``{key: value}`` per sample (values with their unit as strings), and the design."""
    design = unit_design(samples)
    columns = {key: transform(dist, design[:, j])
               for j, (key, dist) in enumerate(samples.parameters.items())}
    rows = []
    for i in range(design.shape[0]):
        row = {}
        for key, dist in samples.parameters.items():
            value = float(columns[key][i])
            row[key] = f"{value!r} {dist.unit}" if dist.unit else value
        rows.append(row)
    return rows, design


def numeric(value) -> float | None:
    """The number in a member parameter (``"3.5 mL/min"`` → 3.5), or None if categorical."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        head = value.split(" ", 1)[0]
        try:
            return float(head)
        except ValueError:
            return None
    return None
