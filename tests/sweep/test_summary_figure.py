"""The sweep summary figure: labels in words with units, the central line named in a legend,
constant parameters left out (the figure's text objects, read before it is saved)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.figure  # noqa: E402
import matplotlib.text  # noqa: E402

from perfusion.sweep.labels import parameter_label, varied_parameters  # noqa: E402
from perfusion.sweep.summary import write_figure  # noqa: E402


def _rows():
    rows = []
    for index, (perfusion, dose) in enumerate([(p, d) for p in ("20 mL/min/(100 mL)",
                                                                 "40 mL/min/(100 mL)")
                                               for d in ("20 mg", "40 mg")]):
        rows.append({"index": index, "tissue.tumor.perfusion": perfusion,
                     "infusion.0.dose": dose, "catheter.inlets": '["right"]', "status": "done",
                     "auc_tumor": 3.6 * (index + 1), "auc_normal": 1.0,
                     "tumor_to_normal_auc": 2.0 + index, "regional_advantage": 5.0 + index,
                     "perfusion_mean_tumor": float(perfusion.split()[0]),
                     "mass_balance_error": 0.0, "seconds": 1.0, "error": ""})
    rows.append({**rows[0], "index": 4, "status": "failed", "catheter.inlets": '["left"]',
                 **{k: math.nan for k in ("tumor_to_normal_auc", "regional_advantage")}})
    return rows


def test_labels_have_words_and_units_no_dotted_keys(tmp_path, monkeypatch):
    texts = []
    original = matplotlib.figure.Figure.savefig

    def recording(fig, *args, **kwargs):
        texts.extend(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording)
    sweep = SimpleNamespace(varied=["tissue.tumor.perfusion", "infusion.0.dose", "catheter.inlets"],
                            sampled=[], spec=SimpleNamespace(sweep=SimpleNamespace(name="small")))
    path = write_figure(sweep, _rows(), tmp_path)
    assert path.is_file()
    joined = "\n".join(texts)
    assert "tumour perfusion [mL/min/100 mL]" in texts and "infusion 1 dose [mg]" in texts
    assert "regional advantage, IA over IV [–]" in texts
    assert "tumour-to-normal AUC [–]" in texts and "tumour perfusion [mL/min/100 mL]" in texts
    assert "mean of the members at each value" in texts
    # no raw dotted keys or column names, and the catheter (the same in every finished member) is left out
    for raw in ("tissue.tumor.perfusion", "infusion.0.dose", "catheter", "tumor_to_normal_auc",
                "regional_advantage\n", "perfusion_mean_tumor"):
        assert raw not in joined + "\n", raw


def test_constant_parameters_are_left_out():
    rows = [{"a.b": "1 mm", "c": 2}, {"a.b": "1 mm", "c": 3}]
    assert varied_parameters(["a.b", "c"], rows) == ["c"]
    assert parameter_label("supplies.0.inlets.2.flow", ["30 mL/min"]) == "supply 1 inlet 3 flow [mL/min]"
    assert parameter_label("tissue.normal.plasma_fraction", [0.05]) == "normal plasma fraction"
