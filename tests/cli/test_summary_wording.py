"""The summary ``perfusion run`` prints names only the routes the run simulated."""
from __future__ import annotations

import json

import pytest
import tomli_w
from click.testing import CliRunner

from perfusion.cli import main


def _run_doxorubicin(liver_dict, tmp_path, **simulation):
    """Run the small liver with 20 mg doxorubicin IA over 20 min through the CLI."""
    liver_dict.update(drug={"name": "doxorubicin"},
                      infusion=[{"route": "intra-arterial", "start": "0 min",
                                 "duration": "20 min", "dose": "20 mg"}],
                      simulation={"duration": "1 h", "output_every": "30 min", **simulation})
    case = tmp_path / "liver.toml"
    case.write_text(tomli_w.dumps(liver_dict))
    done = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "out"),
                                     "--backend", "numpy"])
    assert done.exit_code == 0, done.output
    return done


def test_summary_without_iv_comparator_says_ia_only(liver_dict, tmp_path):
    done = _run_doxorubicin(liver_dict, tmp_path, compare_iv=False)
    assert "AUC µg·h/mL (IA), Cmax µg/mL (IA)" in done.output
    assert "IV" not in done.output


def test_summary_states_presets_clearance_split_and_where_sources_are(liver_dict, tmp_path):
    liver_dict.pop("systemic", None)        # the library's body: CL_rest = CL_TB − CL_organ
    liver_dict.setdefault("tissue", {}).setdefault("normal", {})["preset"] = "normal-liver"
    done = _run_doxorubicin(liver_dict, tmp_path)
    assert "tissue presets: normal normal-liver" in done.output
    assert "doxorubicin: every parameter's source in metrics.json drug.sources" in done.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    cl = metrics["systemic"]
    assert cl["organ_clearance_ml_min"] + cl["clearance_rest_ml_min"] == \
        pytest.approx(cl["total_body_clearance_ml_min"], rel=1e-12)
    assert (f"clearance mL/min: total body {cl['total_body_clearance_ml_min']:.4g} = organ "
            f"{cl['organ_clearance_ml_min']:.4g}") in done.output
    assert metrics["drug"]["sources"]["diffusivity"]
