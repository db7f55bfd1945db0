"""The self-contained HTML report: parses, embeds every figure, shows every metric by name with
its unit (and its key)."""
from __future__ import annotations

import base64
import copy
from html.parser import HTMLParser

import pytest

pytest.importorskip("matplotlib")

import perfusion  # noqa: E402
from perfusion.case import case_from_dict  # noqa: E402
from perfusion.library.units import KG_S_M3_TO_UG_H_ML  # noqa: E402
from perfusion.results.load import load_results  # noqa: E402
from perfusion.render.report import flatten_metrics, metric_unit, write_report  # noqa: E402


class _Page(HTMLParser):
    """Collects tags, attributes, the text of each table row and the whole text."""

    def __init__(self):
        super().__init__()
        self.tags, self.images, self.rows, self.text, self._row = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "img":
            self.images.append(attrs)
        if tag == "tr":
            self._row = {"class": attrs.get("class"), "cells": []}
        if tag in ("td", "th") and self._row is not None:
            self._row["cells"].append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._row is not None and self._row["cells"]:
            self._row["cells"][-1] += data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from case_data import LIVER

    raw = copy.deepcopy(LIVER)
    raw["case"]["description"] = "Small liver <b>phantom</b> & two tumours"
    raw["drug"] = {"name": "doxorubicin"}
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                        "dose": "20 mg"}]
    raw["simulation"] = {"duration": "1 h", "output_every": "10 min", "compare_iv": True}
    directory = tmp_path_factory.mktemp("report") / "drug"
    perfusion.run_case(case_from_dict(raw), directory, backend="numpy")
    return load_results(directory)


@pytest.fixture(scope="module")
def figures(data, tmp_path_factory):
    from perfusion.render.animation import animate
    from perfusion.render.plots import curves_figure, dvh_figure
    from perfusion.render.slices import slice_figure

    folder = tmp_path_factory.mktemp("figures")
    drawn = {"slices": slice_figure(data, folder / "slices.png", size=(900, 600)),
             "curves": curves_figure(data, folder / "curves.png", size=(700, 420)),
             "dvh": dvh_figure(data, folder / "dvh.png", size=(600, 420))}
    try:
        import imageio  # noqa: F401
    except ImportError:   # the report still works; it just has no animation to embed
        return drawn
    drawn["animation"] = animate(data, folder / "animation.gif", size=(480, 272))[0]
    return drawn


@pytest.fixture(scope="module")
def page(data, figures, tmp_path_factory):
    path = write_report(data, figures, tmp_path_factory.mktemp("out") / "report.html")
    assert path.name == "report.html"
    parser = _Page()
    parser.source = path.read_text(encoding="utf-8")
    parser.feed(parser.source)
    parser.close()
    return parser


def test_every_figure_is_embedded(page, figures):
    assert len(page.images) == len(figures)
    by_name = {image["alt"]: image["src"] for image in page.images}
    for name, path in figures.items():
        mime = "image/gif" if path.suffix == ".gif" else "image/png"
        prefix = f"data:{mime};base64,"
        assert by_name[name].startswith(prefix), name
        assert base64.b64decode(by_name[name][len(prefix):]) == path.read_bytes(), name


def test_every_metric_is_shown_with_its_unit(page, data):
    shown = {row["cells"][3]: row for row in page.rows if len(row["cells"]) == 4}
    flat = flatten_metrics(data.metrics)
    assert {"auc.tumor", "regional_advantage", "mass_balance_error", "iv.auc.tumor",
            "thresholds.auc_kg_s_m3"} <= set(flat)
    for key in flat:
        assert key in shown, key
    name, value, unit, _ = shown["auc.tumor"]["cells"]
    assert (name, unit) == ("AUC of C_t, tumour", "µg·h/mL")
    assert shown["iv.auc.tumor"]["cells"][0] == "AUC of C_t, tumour (IV comparator)"
    assert float(value) == pytest.approx(data.metrics["auc"]["tumor"] * KG_S_M3_TO_UG_H_ML, rel=1e-3)
    assert shown["regional_advantage"]["class"] == "highlight"
    assert float(shown["cmax.tumor"]["cells"][1]) == pytest.approx(
        data.metrics["cmax"]["tumor"] * 1e3, rel=1e-3)


def test_summary_and_provenance(page, data):
    text = " ".join(page.text)
    for words in ("small-liver", "doxorubicin", "24 × 22 × 20 voxels of 4 × 4 × 4 mm",
                  "intra-arterial: 20 mg from t = 0 over 20 min", "Regional advantage",
                  data.metrics["backend"], data.metrics["device"], data.metrics["precision"]):
        assert words in text, words
    assert "Small liver <b>phantom</b> & two tumours" in text      # escaped, so shown as text
    assert "&lt;b&gt;phantom&lt;/b&gt; &amp; two" in page.source


def test_self_contained(page):
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe"), tag
        for name in ("src", "href"):
            assert not attrs.get(name, "data:").startswith(("http", "//", "file:")), attrs


def test_units_from_metric_names():
    assert metric_unit("auc.normal") == ("µg·h/mL", KG_S_M3_TO_UG_H_ML)
    assert metric_unit("iv.auc_systemic")[0] == "µg·h/mL"
    assert metric_unit("cmax.tumor") == ("µg/mL", 1e3)
    assert metric_unit("ifp_mean.tumor")[0] == "mmHg"
    assert metric_unit("perfusion_mean_by_supply.portal_vein.normal")[0] == "mL/min/100 mL"
    assert metric_unit("dose_kg.total") == ("mg", 1e6)
    assert metric_unit("timings.drug") == ("s", 1.0)
    assert metric_unit("calibration.portal_vein.conductivity_m2_per_pa_s")[0] == "m²/(Pa·s)"
    assert metric_unit("tumor_to_normal_auc")[0] == "–"
    assert metric_unit("target_auc_fraction_above_threshold")[0] == "–"


def test_flatten_keeps_numbers_only():
    flat = flatten_metrics({"a": 1, "b": {"c": 2.5, "d": "text", "e": [1, 2], "f": True},
                            "g": {"h": {"i": 3}}})
    assert flat == {"a": 1.0, "b.c": 2.5, "g.h.i": 3.0}
