"""The drug run end to end on the small two-supply liver: budget, outputs, protocols."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.io.vti import read_vti
from perfusion.case.protocol import output_times
from perfusion.transport.body.schedule import Schedule, time_grid

DOXORUBICIN_HAI = {
    "drug": {"name": "doxorubicin"},
    "infusion": [{"route": "intra-arterial", "start": "10 min", "duration": "30 min", "dose": "50 mg"}],
    "simulation": {"duration": "2 h", "output_every": "20 min", "compare_iv": True},
}


@pytest.fixture(scope="module")
def hai(tmp_path_factory):
    from case_data import LIVER

    raw = {**LIVER, **DOXORUBICIN_HAI}
    return run_case(case_from_dict(raw), tmp_path_factory.mktemp("hai") / "out", backend="numpy")


def _series(path):
    rows = list(csv.DictReader(open(path)))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def test_mass_balance_every_step(hai):
    series = _series(hai.directory / "timeseries.csv")
    assert series["mass_balance_error"].max() < 1e-10
    infused = series["infused_ia_kg"] + series["infused_iv_kg"]
    held = (series["tissue_free_kg"] + series["tissue_bound_kg"] + series["body_central_kg"]
            + series["body_peripheral_kg"] + series["eliminated_tissue_kg"] + series["eliminated_body_kg"])
    assert np.allclose(held, infused, rtol=0, atol=1e-10 * infused[-1])
    assert infused[-1] == pytest.approx(50e-6, rel=1e-12)
    assert hai.metrics["mass_balance_error"] < 1e-10
    assert hai.metrics["iv"]["mass_balance_error"] < 1e-10


def test_intra_arterial_beats_intravenous_in_the_tumour(hai):
    m = hai.metrics
    assert m["auc"]["tumor"] > m["iv"]["auc"]["tumor"]
    assert m["regional_advantage"] > 1
    assert m["tumor_to_normal_auc"] > 1
    assert m["auc"]["necrotic"] < m["auc"]["tumor"]
    for key in ["auc", "cmax", "auc_systemic", "tumor_to_systemic_auc", "time_above_threshold",
                "target_auc_fraction_above_threshold", "dose_fraction_in_target", "time_step"]:
        assert key in m, key
    assert 0 < m["dose_fraction_in_target"]["peak"] < 1


def test_outputs_at_exact_times(hai):
    fields = np.load(hai.directory / "fields" / "fields.npz")
    expected = np.arange(1, 7) * 1200.0
    assert np.array_equal(fields["drug_times"], expected)
    assert fields["c_t"].shape == (6, *fields["labels"].shape)
    assert fields["auc"].shape == fields["labels"].shape == fields["auc_iv"].shape
    assert fields["auc"][fields["labels"] == 2].mean() > fields["auc_iv"][fields["labels"] == 2].mean()
    pvd = (hai.directory / "fields" / "drug.pvd").read_text()
    assert pvd.count("<DataSet") == 6 and 'timestep="7200' in pvd
    snapshot = read_vti(hai.directory / "fields" / "drug_0005.vti")
    assert np.allclose(snapshot.cell_data["c_t"], fields["c_t"][5])
    series = _series(hai.directory / "timeseries.csv")
    for t in [600.0, 2400.0, *expected]:
        assert t in series["time_s"]
    assert (hai.directory / "timeseries_iv.csv").exists()


def test_reverse_exchange_after_the_infusion_stops(hai):
    series = _series(hai.directory / "timeseries.csv")
    t = series["time_s"]
    into_tissue = series["plasma_to_tissue_kg"]
    stop = np.searchsorted(t, 2400.0)
    assert into_tissue[stop] > into_tissue[-1]  # net flow back to the blood after the stop
    free = series["tissue_free_kg"]
    assert free[-1] < free[stop]


def test_time_grid_hits_every_event():
    schedule = Schedule.from_case(case_from_dict({**__import__("case_data").LIVER, **DOXORUBICIN_HAI}).infusion)
    outputs = output_times(7200.0, 1200.0)
    ends = time_grid(7200.0, outputs, schedule.breakpoints(), 60.0)
    for t in [600.0, 2400.0, *outputs]:
        assert np.any(ends == t)
    assert np.diff(np.concatenate([[0.0], ends])).max() <= 60.0 + 1e-9


def test_repeated_cycles_give_the_total_dose(liver_dict, tmp_path):
    liver_dict.update(drug={"name": "cisplatin"}, simulation={"duration": "3 h", "max_step": "2 min"},
                      infusion=[{"route": "intravenous", "start": "0 h", "duration": "10 min",
                                 "rate": "1 mg/min", "repeat": 3, "every": "1 h"}])
    result = run_case(case_from_dict(liver_dict), tmp_path / "cycles", backend="numpy")
    assert result.metrics["dose_kg"]["total"] == pytest.approx(30e-6)
    assert result.metrics["mass_balance_error"] < 1e-10


def test_embolisation_cuts_the_catheter_flow(liver_dict, tmp_path):
    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["simulation"] = {"duration": "2 h", "output_every": "1 h"}
    liver_dict["embolization"] = {"time": "40 min", "factor": 0.05}
    result = run_case(case_from_dict(liver_dict), tmp_path / "embo", backend="numpy")
    plain = run_case(case_from_dict({**liver_dict, "embolization": None} if False else
                                    {k: v for k, v in liver_dict.items() if k != "embolization"}),
                     tmp_path / "plain", backend="numpy")
    assert result.metrics["mass_balance_error"] < 1e-10
    # after the territory is occluded, less drug washes out of it: more stays in the tumour
    assert result.metrics["dose_fraction_in_target"]["final"] > plain.metrics["dose_fraction_in_target"]["final"]


def test_embolised_supply_conserves_and_reduces_flow(liver_dict):
    from perfusion.compute.backend import make_backend
    from perfusion.domain import build_domain
    from perfusion.steady.embolization import embolized_steady
    from perfusion.steady.solve import solve_steady

    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["embolization"] = {"time": "40 min", "factor": 0.1}
    case = case_from_dict(liver_dict)
    domain = build_domain(case, make_backend("numpy"))
    steady = solve_steady(case, domain)
    occluded = embolized_steady(case, domain, steady)
    before = steady.supplies["hepatic_artery"]
    after = occluded.supplies["hepatic_artery"]
    assert after.inflow == pytest.approx(before.inflow - 0.9 * 30e-6 / 60)
    assert after.conservation_error < 1e-8
    territory = domain.backend.to_host(steady.catheter_territory.fraction) > 0.5
    assert after.perfusion[territory].mean() < 0.2 * before.perfusion[territory].mean()
    assert occluded.catheter_territory.flow_weighted_mean == pytest.approx(
        occluded.catheter_territory.expected_mean, rel=1e-8)


def test_metrics_json_is_valid(hai):
    metrics = json.loads((hai.directory / "metrics.json").read_text())
    assert metrics["drug"]["name"] == "doxorubicin"
    assert metrics["time_step"]["max_step_s"] == 60.0


def test_float32_drug_run_matches_float64(liver_dict, tmp_path):
    """float32 state with float64 reductions: budget ≤ 1e-5, exposure within 1e-3 of float64."""
    liver_dict.update(DOXORUBICIN_HAI)
    liver_dict["simulation"] = {"duration": "1 h", "output_every": "30 min"}
    case = case_from_dict(liver_dict)
    single = run_case(case, tmp_path / "f32", backend="numpy", precision="float32").metrics
    double = run_case(case, tmp_path / "f64", backend="numpy", precision="float64").metrics
    assert single["precision"] == "float32"
    assert single["mass_balance_error"] < 1e-5
    for name, value in double["auc"].items():
        assert single["auc"][name] == pytest.approx(value, rel=1e-3)


@pytest.mark.slow
def test_demo_case_end_to_end(tmp_path):
    """The demo itself: 4 h of doxorubicin HAI with its IV comparator, budget to round-off."""
    from perfusion import load_case
    from perfusion.library.cases import builtin_cases

    metrics = run_case(load_case(builtin_cases()["liver_hai"]), tmp_path / "demo",
                       backend="numpy").metrics
    assert metrics["mass_balance_error"] < 1e-10
    assert metrics["iv"]["mass_balance_error"] < 1e-10
    assert metrics["regional_advantage"] > 2
    assert metrics["auc"]["tumor"] > metrics["iv"]["auc"]["tumor"]
    assert metrics["time_step"]["steps"] == 240


# --- NumPy fast paths of the time loop: the reference's bits, the loop's numbers --------------

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
