"""The real-anatomy case: LiTS volume 117 (liver with several tumours), downloaded at test time.

Skipped only when the package registry cannot be reached. Expectations: the interstitial
pressure is higher in the tumours than in the liver (Baxter & Jain: leaky vessels, no
lymphatics), class perfusion means are within 5% of their targets (calibration matches the
pattern; the case's inlet flows equal the targets' total within a few percent), and blood
and fluid are conserved.
"""
from __future__ import annotations

import pytest

from perfusion import load_case, run_case
from perfusion.library.cases import builtin_cases
from perfusion.library.datasets import DatasetUnreachableError, fetch_lits117


@pytest.fixture(scope="module")
def lits(tmp_path_factory):
    try:
        fetch_lits117()
    except DatasetUnreachableError as exc:  # a changed package (GeometryError) fails the test
        pytest.skip(f"LiTS data unavailable, the package registry cannot be reached: {exc}")
    case = load_case(builtin_cases()["liver_lits"])
    return run_case(case, tmp_path_factory.mktemp("lits") / "out", backend="numpy").metrics


@pytest.mark.network
@pytest.mark.slow
def test_lits_tumour_pressure_and_perfusion(lits):
    assert lits["grid"]["shape"] == [64, 64, 64]
    assert lits["ifp_mean"]["tumor"] > 5 * lits["ifp_mean"]["normal"]
    assert lits["perfusion_mean"]["normal"] == pytest.approx(100, rel=0.05)
    assert lits["perfusion_mean"]["tumor"] == pytest.approx(40, rel=0.05)
    assert max(lits["conservation"]["perfusion_relative_error"].values()) < 1e-8
    assert lits["conservation"]["interstitial_fluid_relative_error"] < 1e-8
    territory = lits["territory"]
    assert territory["flow_weighted_mean"] == pytest.approx(territory["expected_flow_weighted_mean"],
                                                            rel=1e-8)
    assert 1.5e3 < sum(lits["class_volume_ml"].values()) < 1.9e3
