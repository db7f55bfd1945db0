"""NumPy fast paths of the time loop: the reference's bits, the loop's numbers.

``TissuePointwise`` and ``BoxTransport`` against ``pointwise_step`` and
``TransportOperator.advance``, the whole loop on them against the reference loop, and the
exposure maps kept on the tissue voxels.
"""
from __future__ import annotations

import numpy as np
import pytest
from hai_protocol import DOXORUBICIN_HAI

from perfusion.case import case_from_dict
from perfusion.case.protocol import output_times
from perfusion.transport.body.schedule import Schedule, time_grid


@pytest.fixture(scope="module", autouse=True)
def numpy_reference():
    """The fast paths stand in for the NumPy reference, not for the compiled kernels."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERFUSION_CPU_KERNELS", "0")
        yield


@pytest.fixture(scope="module")
def small_problem():
    from perfusion.compute.backend import make_backend
    from perfusion.domain import build_domain
    from perfusion.steady.solve import solve_steady
    from perfusion.transport.parameters import resolve_drug
    from perfusion.transport.problem import build_problem
    from case_data import LIVER

    case = case_from_dict({**LIVER, **DOXORUBICIN_HAI})
    domain = build_domain(case, make_backend("numpy"))
    steady = solve_steady(case, domain)
    return case, domain, build_problem(domain, steady, resolve_drug(case), steady.hematocrit)


def _tissue_state(problem, seed):
    rng = np.random.default_rng(seed)
    inside = problem.exchange.inverse_ve > 0
    free = np.where(inside, rng.random(inside.shape) * 1e-3, 0)
    bound = np.where(problem.uptake.active, rng.random(inside.shape) * 1e-3, 0)
    return free, bound


@pytest.mark.parametrize("kind", ["saturable", "linear", "none"])
@pytest.mark.parametrize("cell_elimination", [0.0, 2e-4])
def test_tissue_pointwise_gives_the_reference_bits(small_problem, kind, cell_elimination):
    """``TissuePointwise`` (tissue voxels, cached φ per Δt) = ``ops.pointwise.step_reference``."""
    from dataclasses import replace

    from perfusion.transport.exchange import TissuePointwise, pointwise_step

    _, _, problem = small_problem
    uptake = replace(problem.uptake, kind=kind, cell_elimination=cell_elimination,
                     uptake_rate=2e-3, release_rate=5e-4)
    fast = TissuePointwise(problem.exchange, uptake)
    free, bound = _tissue_state(problem, 1)
    plasma = problem.plasma_concentration(np, 2e-3, 1e-8)
    for dt in (60.0, 7.5, 60.0):   # the repeated Δt takes the cached factors
        reference_free, reference_bound, moved = pointwise_step(problem.exchange, uptake, free,
                                                                bound, plasma, dt)
        out = (np.full_like(free, np.nan), np.full_like(bound, np.nan))
        amounts = fast.step(free, bound, plasma, dt, out)
        assert np.array_equal(out[0], reference_free)
        assert np.array_equal(out[1], reference_bound)
        for total, field in zip(amounts, (moved.from_plasma, moved.lymph, moved.eliminated)):
            assert total == pytest.approx(float(field.sum()), rel=1e-13, abs=1e-300)
        free, bound = reference_free, reference_bound


def test_box_transport_gives_the_reference_bits(small_problem):
    """``BoxTransport`` (tissue box, flat offsets) = ``TransportOperator.advance``, sub-steps."""
    _, _, problem = small_problem
    free, _ = _tissue_state(problem, 2)
    for dt in (60.0, 3.5 * problem.stable_step):
        reference, lost = problem.operator.advance(free, dt, np, problem.stable_step)
        fast = free.copy()
        through = problem.fast_transport.advance(fast, dt, problem.stable_step)
        assert np.array_equal(fast, reference)
        assert through == pytest.approx(float(lost.sum()), rel=1e-13)


def test_box_transport_with_strong_convection_at_the_grid_edge():
    """Upwind faces, a box that reaches the grid's faces, an uneven shape: the same bits."""
    from perfusion.transport.operator import BoxTransport, TransportOperator

    rng = np.random.default_rng(3)
    shape = (11, 9, 7)
    index = np.indices(shape)
    radius2 = (index[0] - 7.0) ** 2 / 25 + (index[1] - 4.0) ** 2 / 16 + (index[2] - 3.0) ** 2 / 9
    mask = radius2 <= 1.2
    assert mask[-1].any()
    spacing = (1e-3, 1.2e-3, 0.9e-3)
    diffusivity = np.where(mask, rng.uniform(0.5, 2, shape) * 1e-10, 0)
    velocity = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        both = mask[tuple(lo)] & mask[tuple(hi)]
        velocity.append(np.where(both, rng.normal(0, 3e-7, both.shape), 0))
    outflow = np.where(mask, rng.random(shape) * 1e-4, 0) * (rng.random(shape) < 0.3)
    v_e = np.where(mask, rng.uniform(0.2, 0.4, shape), 1)
    operator = TransportOperator.build(np, diffusivity * v_e, mask, spacing, velocity, outflow, v_e)
    fast_path = BoxTransport(operator)
    stable = operator.stable_step(np)
    m = np.where(mask, rng.random(shape), 0)
    reference, lost = operator.advance(m, 2.5 * stable, np, stable)
    through = fast_path.advance(m, 2.5 * stable, stable)
    assert np.array_equal(m, reference)
    assert through == pytest.approx(float(lost.sum()), rel=1e-13)


def test_loop_on_the_fast_paths_matches_the_reference_loop(small_problem):
    """The whole loop, fast paths against references: equal to round-off, budget closed."""
    from dataclasses import replace

    from perfusion.transport.observers import Exposure, TimeSeries
    from perfusion.transport.parameters import resolve_systemic
    from perfusion.transport.simulation import simulate

    case, domain, problem = small_problem
    schedule = Schedule.from_case(case.infusion)
    pk, _ = resolve_systemic(case)
    ends = time_grid(3600.0, output_times(3600.0, 1200.0), schedule.breakpoints(), 60.0)
    runs = []
    for variant in (problem, replace(problem, fast_pointwise=None, fast_transport=None)):
        exposure, series = Exposure(domain, "tumor", 1e-3), TimeSeries(domain, pk)
        free, bound, body, budget = simulate(domain, variant, schedule, pk, ends,
                                             [exposure, series])
        runs.append((free, bound, body, budget, exposure, series))
    (free, bound, body, budget, exposure, series), reference = runs[0], runs[1]
    scale = reference[0].max()
    assert np.allclose(free, reference[0], rtol=1e-12, atol=1e-14 * scale)
    assert np.allclose(bound, reference[1], rtol=1e-12, atol=1e-14 * bound.max())
    assert body.central == pytest.approx(reference[2].central, rel=1e-12)
    assert np.allclose(exposure.auc, reference[4].auc, rtol=1e-12, atol=0)
    assert exposure.cmax_class == pytest.approx(reference[4].cmax_class, rel=1e-12)
    last, last_reference = series.rows[-1], reference[5].rows[-1]
    assert last["c_t_tumor"] == pytest.approx(last_reference["c_t_tumor"], rel=1e-12)
    tissue = float((free + bound).sum()) * domain.voxel_volume
    assert budget.error(tissue, body) < 1e-13


def test_exposure_maps_and_class_means_on_the_tissue_voxels(small_problem):
    """Maps kept on the tissue voxels read and restore as full arrays; class means as masked."""
    from perfusion.transport.observers import ClassMeans, Exposure

    _, domain, _ = small_problem
    rng = np.random.default_rng(4)
    values = np.where(domain.labels > 0, rng.random(domain.shape), 0)
    means = ClassMeans(domain)
    for name, mean in means(values).items():
        assert mean == pytest.approx(values[domain.labels == domain.class_names.index(name)].mean(),
                                     rel=1e-13)
    exposure = Exposure(domain, "tumor", 1e-3)
    exposure.auc, exposure.previous = values, 2 * values
    assert np.array_equal(exposure.auc, values)
    assert np.array_equal(exposure.previous, 2 * values)
    assert np.array_equal(exposure.cmax, np.zeros(domain.shape))
