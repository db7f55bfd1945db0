"""Supply pressure and perfusion extremes against physiological bounds (``extremes`` of
metrics.json): the numbers recomputed from fields.npz, the warning of a narrow inlet kernel,
and the shipped demo inside the bounds with its default (flow-scaled) inlet kernels."""
from __future__ import annotations

import copy
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict, load_case
from perfusion.cli.run_commands import _summary
from perfusion.compute.backend import make_backend
from perfusion.domain import build_domain
from perfusion.results.extremes import steady_extremes
from perfusion.steady.solve import solve_steady

MMHG = 133.322387415
CASES = Path(__file__).parents[2] / "cases"


def _narrow(liver: dict) -> dict:
    """The small liver with 3 mm inlet kernels (the former default: a few voxels)."""
    raw = copy.deepcopy(liver)
    for supply in raw["supplies"]:
        for inlet in supply["inlets"]:
            inlet["radius"] = "3 mm"
    return raw


@pytest.fixture(scope="module")
def narrow_run(tmp_path_factory):
    from case_data import LIVER

    return run_case(case_from_dict(_narrow(LIVER)), tmp_path_factory.mktemp("narrow") / "out",
                    backend="numpy")


def test_extremes_match_the_fields(narrow_run):
    metrics = json.loads((narrow_run.directory / "metrics.json").read_text())
    extremes = metrics["extremes"]
    with np.load(narrow_run.directory / "fields" / "fields.npz", allow_pickle=True) as npz:
        fields = dict(npz)
    labels, names = fields["labels"], [str(n) for n in fields["class_names"]]
    for name, drop_mmhg in (("hepatic_artery", 50.0), ("portal_vein", 8.0)):
        pressure = fields[f"p_{name}"]
        bound = 5.0 + 2 * drop_mmhg                      # p_ven 5 mmHg + 2 Δp_s
        record = extremes["supplies"][name]
        assert record["pressure_max_mmhg"] == pytest.approx(pressure.max() / MMHG, rel=1e-12)
        assert record["pressure_bound_mmhg"] == pytest.approx(bound, rel=1e-9)
        assert record["voxels_above_bound"] == int((pressure / MMHG > bound).sum())
    # a few voxels take each inlet's flow: both supplies above their bounds
    for name in ("hepatic_artery", "portal_vein"):
        record = extremes["supplies"][name]
        assert record["pressure_max_mmhg"] > 1.2 * record["pressure_bound_mmhg"]
        assert record["voxels_above_bound"] > 0
    targets = {"normal": 100.0, "tumor": 40.0}
    for name in ("normal", "tumor", "necrotic"):
        values = fields["perfusion"][labels == names.index(name)] * 6000
        record = extremes["classes"][name]
        assert record["perfusion_p99"] == pytest.approx(np.percentile(values, 99), rel=1e-12)
        assert record["perfusion_max"] == pytest.approx(values.max(), rel=1e-12)
        expected = 5 * targets[name] if name in targets else None
        assert record["perfusion_bound"] == (pytest.approx(expected) if expected else None)


def test_narrow_kernel_warns_with_the_fix(narrow_run, caplog):
    warnings = narrow_run.metrics["extremes"]["warnings"]
    pressure = [w for w in warnings if "supply hepatic_artery" in w]
    assert len(pressure) == 1
    top = narrow_run.metrics["extremes"]["supplies"]["hepatic_artery"]["pressure_max_mmhg"]
    assert f"reaches {top:.0f} mmHg" in pressure[0]
    assert "bound 105 mmHg" in pressure[0]
    assert "supplies.0.inlets.N.radius" in pressure[0] and "more inlets" in pressure[0]
    assert "arterial tree (supplies.0.tree)" in pressure[0]
    summary = _summary(narrow_run.metrics)
    assert "hepatic_artery {:.1f} (105)".format(top) in summary
    assert summary.count("WARNING: ") == len(warnings)


def test_perfusion_bound_follows_the_class_target(liver_dict, caplog):
    """Normal liver targeted at 20 mL/min/100 mL: bound 100, exceeded next to the 1-voxel trunk."""
    raw = _narrow(liver_dict)
    raw["tissue"]["normal"]["perfusion"] = "20 mL/min/(100 mL)"
    be = make_backend("numpy", "float64")
    case = case_from_dict(raw)
    domain = build_domain(case, be)
    steady = solve_steady(case, domain)
    with caplog.at_level(logging.WARNING, logger="perfusion.results.extremes"):
        extremes = steady_extremes(case, domain, steady)
    normal = steady.perfusion[domain.class_mask("normal")] * 6000
    assert extremes["classes"]["normal"]["perfusion_bound"] == pytest.approx(100.0)
    assert extremes["classes"]["normal"]["perfusion_max"] == pytest.approx(normal.max())
    assert normal.max() > 100
    perfusion = [w for w in extremes["warnings"] if "perfusion of normal" in w]
    assert len(perfusion) == 1
    assert f"reaches {normal.max():.0f} mL/min/100 mL" in perfusion[0]
    assert f"(99th percentile {np.percentile(normal, 99):.0f})" in perfusion[0]
    assert "5 × its target 20 = 100" in perfusion[0]
    assert "for hepatic_artery: a wider inlet kernel (supplies.0.inlets.N.radius" in perfusion[0]
    assert "for portal_vein: a wider inlet kernel (supplies.1.inlets.N.radius" in perfusion[0]
    logged = [r.getMessage() for r in caplog.records if r.name == "perfusion.results.extremes"]
    # both supplies' pressures, normal liver and (now taking more of the flow) the tumour
    assert logged == extremes["warnings"] and len(logged) == 4


def test_default_kernel_grows_with_the_flow(liver_dict):
    """An inlet without a radius spreads over the ball of radius 3Q/(8πK_sΔp_s) (≥ 3 mm)."""
    be = make_backend("numpy", "float64")
    case = case_from_dict(liver_dict)
    domain = build_domain(case, be)
    steady = solve_steady(case, domain)
    trunk = steady.supplies["portal_vein"].inlets[0]   # 190 mL/min, K_s 2e-8, Δp_s 8 mmHg
    radius = 3 * (190 / 6e7) / (8 * math.pi * 2e-8 * 8 * MMHG)
    assert radius == pytest.approx(0.01773, rel=1e-3)
    idx = np.argwhere(np.isin(domain.labels, [domain.class_names.index(c)
                                              for c in ("normal", "tumor")]))   # perfused
    centres = (idx + 0.5) * np.asarray(domain.spacing)
    inside = (((centres - np.asarray(trunk.position)) ** 2).sum(axis=1) <= radius ** 2).sum()
    assert trunk.index.size == inside and inside > 100
    portal = steady_extremes(case, domain, steady)["supplies"]["portal_vein"]
    assert portal["voxels_above_bound"] == 0      # 35 voxels with a 3 mm kernel
    assert portal["pressure_max_mmhg"] < 21


@pytest.mark.parametrize("overrides", [[], ["grid.shape=[32,28,24]", 'grid.spacing="6 mm"']],
                         ids=["demo", "sweep-grid"])
def test_shipped_demo_inside_the_bounds(overrides):
    """cases/liver_hai.toml (and catheter_sweep.toml's coarse grid) with the default kernels."""
    be = make_backend("numpy", "float64")
    case = load_case(CASES / "liver_hai.toml", overrides)
    domain = build_domain(case, be)
    steady = solve_steady(case, domain)
    extremes = steady_extremes(case, domain, steady)
    assert extremes["warnings"] == []
    arterial = extremes["supplies"]["hepatic_artery"]
    portal = extremes["supplies"]["portal_vein"]
    assert arterial["pressure_bound_mmhg"] == pytest.approx(105.0)
    assert portal["pressure_bound_mmhg"] == pytest.approx(21.0)
    # with 3 mm kernels the artery reached 441 mmHg and normal liver 896 mL/min/100 mL
    assert 90 < arterial["pressure_max_mmhg"] < 100 and portal["pressure_max_mmhg"] < 17
    assert extremes["classes"]["normal"]["perfusion_max"] < 150
    assert extremes["classes"]["tumor"]["perfusion_max"] < 60
