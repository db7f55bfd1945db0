"""Physical invariants checked in every run (``checks`` in metrics.json), and each one broken."""
from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
import tomli_w
from click.testing import CliRunner

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.cli import main
from perfusion.errors import InvariantError
from perfusion.results.checks import failed_checks_file
from perfusion.steady import solve as steady_solve
from perfusion.transport.simulation import Budget

STEADY = ["territory_range.hepatic_artery", "territory_mean.hepatic_artery",
          "perfusion_conservation.hepatic_artery", "perfusion_conservation.portal_vein",
          "interstitial_fluid_balance", "ifp_range.normal", "ifp_range.tumor", "ifp_range.necrotic"]


def _hai_protocol() -> dict:
    """``DOXORUBICIN_HAI`` of tests/transport/hai_protocol.py (not on this folder's path)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "transport" / "hai_protocol.py"
    spec = importlib.util.spec_from_file_location("hai_protocol_for_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DOXORUBICIN_HAI


def _liver(drug: bool = False):
    from case_data import LIVER

    if not drug:
        return case_from_dict(LIVER)
    short = {**_hai_protocol(), "simulation": {"duration": "1 h", "output_every": "30 min",
                                               "compare_iv": True}}
    return case_from_dict({**LIVER, **short})


@pytest.fixture(scope="module")
def drug_run(tmp_path_factory):
    return run_case(_liver(drug=True), tmp_path_factory.mktemp("checks") / "out", backend="numpy")


def test_every_invariant_is_recorded(drug_run):
    checks = json.loads((drug_run.directory / "metrics.json").read_text())["checks"]
    assert set(checks) == {*STEADY, "mass_balance", "mass_balance_iv"}
    for name, check in checks.items():
        assert {"description", "value", "tolerance", "passed"} <= set(check), name
        assert check["passed"] is True, (name, check)
        assert check["description"] and check["tolerance"] > 0
    assert checks["territory_range.hepatic_artery"]["bounds"] == [0.0, 1.0]
    assert checks["perfusion_conservation.portal_vein"]["tolerance"] == 1e-8
    assert checks["mass_balance"]["tolerance"] == 1e-9
    low, high = checks["ifp_range.tumor"]["bounds"]
    assert low == 0.0 and high == pytest.approx(11.5 * 133.322387415)  # p_c − σ_T(π_v − π_i)


def _broken_territory(monkeypatch):
    original = steady_solve.solve_territory

    def broken(*args, **kwargs):
        territory = original(*args, **kwargs)
        w = territory.fraction.copy()
        w.flat[w.argmax()] = 1.5
        return replace(territory, fraction=w, bounds=(float(w.min()), 1.5))

    monkeypatch.setattr(steady_solve, "solve_territory", broken)


def _broken_conservation(monkeypatch):
    original = steady_solve.solve_supply

    def broken(case, domain, index, venous):
        supply = original(case, domain, index, venous)
        if supply.name != "portal_vein":
            return supply
        perfusion = supply.perfusion * 1.01
        delivered = float(perfusion.sum()) * domain.voxel_volume
        return replace(supply, perfusion=perfusion,
                       conservation_error=abs(delivered - supply.inflow) / supply.inflow)

    monkeypatch.setattr(steady_solve, "solve_supply", broken)


def _broken_ifp(monkeypatch):
    original = steady_solve.solve_interstitial

    def broken(case, domain):
        field = original(case, domain)
        return replace(field, pressure=field.pressure + 100.0 * domain.class_mask("tumor"))

    monkeypatch.setattr(steady_solve, "solve_interstitial", broken)


def _broken_tree(monkeypatch):
    import perfusion.pipeline as pipeline

    monkeypatch.setattr(pipeline, "tree_metrics", lambda steady, domain: {
        "trees": {"hepatic_artery": {"conservation_relative_error": 0.01}}})


BREAKS = {"territory_range.hepatic_artery": _broken_territory,
          "perfusion_conservation.portal_vein": _broken_conservation,
          "ifp_range.tumor": _broken_ifp,
          "tree_conservation.hepatic_artery": _broken_tree}


@pytest.mark.parametrize("invariant", list(BREAKS))
def test_a_broken_steady_invariant_is_an_error(invariant, monkeypatch, tmp_path):
    BREAKS[invariant](monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(InvariantError, match=f"invariant {invariant} violated") as error:
        run_case(_liver(), out, backend="numpy")
    assert invariant in error.value.checks
    assert "Likely cause" in str(error.value) and "tolerance" in str(error.value)
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))
    saved = json.loads(failed_checks_file(out.resolve()).read_text())
    assert saved["checks"][invariant]["passed"] is False


@pytest.mark.parametrize("invariant", list(BREAKS))
def test_not_strict_keeps_the_results_with_passed_false(invariant, monkeypatch, tmp_path, caplog):
    BREAKS[invariant](monkeypatch)
    with caplog.at_level(logging.WARNING, logger="perfusion"):
        result = run_case(_liver(), tmp_path / "out", backend="numpy", strict=False)
    metrics = json.loads((result.directory / "metrics.json").read_text())
    assert metrics["checks"][invariant]["passed"] is False
    assert [n for n, c in metrics["checks"].items() if not c["passed"]] == [invariant]
    assert any(invariant in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_steady_failure_stops_before_the_drug_loop(monkeypatch, tmp_path):
    import perfusion.pipeline as pipeline

    _broken_ifp(monkeypatch)
    monkeypatch.setattr(pipeline, "run_drug", lambda *a: pytest.fail("drug loop ran"))
    with pytest.raises(InvariantError, match="ifp_range.tumor"):
        run_case(_liver(drug=True), tmp_path / "out", backend="numpy")


def _unbalanced(monkeypatch):
    original = Budget.error

    def error(self, tissue, body):  # a phantom sink of 1e-6 of the dose
        return original(self, tissue, body) + 1e-6

    monkeypatch.setattr(Budget, "error", error)


def test_a_broken_mass_balance_is_an_error(monkeypatch, tmp_path):
    _unbalanced(monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(InvariantError, match="invariant mass_balance violated") as error:
        run_case(_liver(drug=True), out, backend="numpy")
    assert set(error.value.checks) == {"mass_balance", "mass_balance_iv"}
    assert not out.exists()


def test_a_broken_mass_balance_not_strict(monkeypatch, tmp_path, caplog):
    _unbalanced(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="perfusion"):
        result = run_case(_liver(drug=True), tmp_path / "out", backend="numpy", strict=False)
    checks = result.metrics["checks"]
    assert not checks["mass_balance"]["passed"] and not checks["mass_balance_iv"]["passed"]
    assert checks["mass_balance"]["value"] == pytest.approx(1e-6, rel=1e-3)
    assert "mass_balance" in caplog.text


def test_a_good_run_removes_a_stale_failed_checks_file(tmp_path):
    out = tmp_path / "out"
    stale = failed_checks_file(out.resolve())
    stale.write_text("{}")
    run_case(_liver(), out, backend="numpy")
    assert not stale.exists()


def test_cli_no_strict(liver_dict, monkeypatch, tmp_path):
    case = tmp_path / "liver.toml"
    case.write_text(tomli_w.dumps(liver_dict))
    good = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "good"),
                                     "--backend", "numpy", "--no-strict"])
    assert good.exit_code == 0, good.output
    assert "checks: 8 passed" in good.output
    _broken_ifp(monkeypatch)
    strict = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "strict"),
                                       "--backend", "numpy"])
    assert strict.exit_code == 1 and "ifp_range.tumor" in strict.output
    loose = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "loose"),
                                      "--backend", "numpy", "--no-strict"])
    assert loose.exit_code == 0, loose.output
    assert "checks: 1 of 8 FAILED: ifp_range.tumor" in loose.output
