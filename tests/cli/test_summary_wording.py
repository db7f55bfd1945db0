"""The summary ``perfusion run`` prints names only the routes the run simulated."""
from __future__ import annotations

import tomli_w
from click.testing import CliRunner

from perfusion.cli import main


def test_summary_without_iv_comparator_says_ia_only(liver_dict, tmp_path):
    liver_dict.update(drug={"name": "doxorubicin"},
                      infusion=[{"route": "intra-arterial", "start": "0 min",
                                 "duration": "20 min", "dose": "20 mg"}],
                      simulation={"duration": "1 h", "output_every": "30 min",
                                  "compare_iv": False})
    case = tmp_path / "liver.toml"
    case.write_text(tomli_w.dumps(liver_dict))
    done = CliRunner().invoke(main, ["run", str(case), "-o", str(tmp_path / "out"),
                                     "--backend", "numpy"])
    assert done.exit_code == 0, done.output
    assert "AUC µg·h/mL (IA), Cmax µg/mL (IA)" in done.output
    assert "IV" not in done.output
