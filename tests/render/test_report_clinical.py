"""The report as a clinical summary: class table, parameters with sources, checks, caveats,
provenance (the small liver phantom run from a case file)."""
from __future__ import annotations

import copy
import hashlib
import html
import json
import re

import pytest

tomli_w = pytest.importorskip("tomli_w")

import perfusion  # noqa: E402
from perfusion.library.units import KG_M3_TO_UG_ML, KG_S_M3_TO_UG_H_ML  # noqa: E402
from perfusion.render.caveats import caveats  # noqa: E402
from perfusion.render.report import write_report  # noqa: E402
from perfusion.render.report_tables import checks_section, class_rows  # noqa: E402
from perfusion.results.load import load_results  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from case_data import LIVER

    raw = copy.deepcopy(LIVER)
    raw["drug"] = {"name": "doxorubicin"}
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                        "dose": "20 mg"}]
    raw["simulation"] = {"duration": "1 h", "output_every": "20 min", "compare_iv": True}
    folder = tmp_path_factory.mktemp("clinical")
    case_file = folder / "small.toml"
    case_file.write_text(tomli_w.dumps(raw), encoding="utf-8")
    perfusion.run_case(perfusion.load_case(case_file), folder / "out", backend="numpy")
    data = load_results(folder / "out")
    page = write_report(data, {}, folder / "report.html").read_text(encoding="utf-8")
    return data, page, case_file


def _rows(page: str, heading: str) -> list[list[str]]:
    """Cell texts of the first table after ``<h2>heading</h2>``."""
    section = page.split(f"<h2>{heading}</h2>", 1)[1]
    body = section.split("</table>", 1)[0]
    return [[re.sub("<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def test_class_table_equals_metrics_in_clinical_units(run):
    data, page, _ = run
    metrics = data.metrics
    table = _rows(page, "Tissue classes")
    header, body = table[0], {row[0]: row for row in table[1:]}
    assert header[4:8] == ["AUC IA [µg·h/mL]", "AUC IV [µg·h/mL]", "C_max IA [µg/mL]",
                           "C_max IV [µg/mL]"]
    column = {name: header.index(name) for name in header}
    for name in ("normal", "tumor", "necrotic"):
        row = body[name]
        target = sum(s["classes"][name]["target_ml_min_100ml"]
                     for s in metrics["calibration"].values())
        expected = {"volume [mL]": metrics["class_volume_ml"][name],
                    "perfusion target [mL/min/100 mL]": target,
                    "perfusion achieved [mL/min/100 mL]": metrics["perfusion_mean"][name],
                    "AUC IA [µg·h/mL]": metrics["auc"][name] * KG_S_M3_TO_UG_H_ML,
                    "AUC IV [µg·h/mL]": metrics["iv"]["auc"][name] * KG_S_M3_TO_UG_H_ML,
                    "C_max IA [µg/mL]": metrics["cmax"][name] * KG_M3_TO_UG_ML,
                    "C_max IV [µg/mL]": metrics["iv"]["cmax"][name] * KG_M3_TO_UG_ML,
                    "regional advantage [–]": metrics["regional_advantage_by_class"][name]}
        for heading, value in expected.items():
            assert float(row[column[heading]]) == pytest.approx(value, rel=1e-3, abs=1e-12), \
                (name, heading)
    assert float(body["tumor"][column["AUC / AUC normal (IA) [–]"]]) == pytest.approx(
        metrics["tumor_to_normal_auc"], rel=1e-3)
    assert f"IA {metrics['tumor_to_normal_auc']:.3g}" in page
    territory = metrics["regional_advantage_territory"]
    for where in ("inside", "outside"):
        assert (f'<td>{where}</td><td class="num">{territory[where]:.4g}</td>'
                f'<td class="num">{territory[where + "_voxels"]}</td>') in page
    assert class_rows(metrics)[1]["auc"] == pytest.approx(metrics["auc"]["tumor"] / 3.6)


def test_parameters_list_every_drug_source_with_its_flag(run):
    data, page, _ = run
    rows = _rows(page, "Parameters")
    assert rows[0] == ["group", "parameter", "value", "unit", "source", "flag"]
    drug = {row[1]: row for row in rows[1:] if row[0] == "drug doxorubicin"}
    sources = data.metrics["drug"]["sources"]
    assert set(drug) == set(sources)
    for key, source in sources.items():
        shown = drug[key]
        assert shown[5] == ("unconfirmed" if "(unconfirmed)" in (source or "") else ""), key
    assert any(shown[5] for shown in drug.values())
    assert float(drug["permeability"][2]) == pytest.approx(2.7e-6) and drug["permeability"][3] == "m/s"
    tissue = {(row[0], row[1]): row for row in rows[1:] if row[0].startswith("tissue")}
    assert tissue[("tissue tumor", "perfusion")][2:5] == ["40", "mL/min/100 mL", "case file"]
    assert data.metrics["tissue_sources"]["normal"]["plasma_fraction"].endswith("(unconfirmed)")
    assert tissue[("tissue normal", "plasma_fraction")][5] == "unconfirmed"
    body = {row[1]: row for row in rows[1:] if row[0].startswith("body")}
    assert float(body["clearance"][2]) == pytest.approx(
        data.metrics["drug"]["systemic"]["clearance"] * 6e7, rel=1e-3)


def test_checks_show_pass_or_fail_of_each(run):
    data, page, _ = run
    rows = {row[0]: row for row in _rows(page, "Checks")[1:]}
    checks = data.metrics["checks"]
    assert set(rows) == set(checks) and {"mass_balance", "mass_balance_iv"} <= set(rows)
    for key, check in checks.items():
        assert rows[key][5] == ("pass" if check["passed"] else "FAIL")
        if isinstance(check["value"], float):
            assert float(rows[key][2]) == pytest.approx(check["value"], rel=1e-3)
    failed = json.loads(json.dumps(data.metrics))
    failed["checks"]["mass_balance"]["passed"] = False
    assert '<tr class="failed"><td>mass_balance</td>' in checks_section(failed)
    assert "9 of 10 checks passed" in checks_section(failed)


def test_caveats_phantom_point_inlets_not_for_an_image_case(run):
    data, page, _ = run
    section = page.split("<h2>Caveats</h2>", 1)[1].split("<h2>", 1)[0]
    assert "Phantom geometry" in section and "Point inlets rather than an arterial tree" in section
    assert "v_p c_p" in section and "not confirmed for this organ" in section
    assert "tissue normal plasma_fraction" in section
    image = copy.deepcopy(data.case)
    image["geometry"] = {"kind": "image", "path": "/data/liver.nii.gz"}
    for supply in image["supplies"]:
        supply.pop("inlets")
        supply["tree"] = {"source": "cco"}
    metrics = {**data.metrics, "extremes": {"warnings": []}}
    notes = " ".join(caveats(metrics, image))
    assert "Phantom" not in notes and "Point inlets" not in notes
    assert "v_p c_p" in notes


def test_provenance_records_commit_command_line_and_input_hashes(run):
    data, page, case_file = run
    inputs = data.metrics["inputs"]
    assert inputs[0]["key"] == "case file"
    assert inputs[0]["sha256"] == hashlib.sha256(case_file.read_bytes()).hexdigest()
    section = page.split("<h2>Provenance</h2>", 1)[1]
    assert inputs[0]["sha256"] in section and str(case_file) in section
    assert data.case["provenance"]["command_line"] == data.metrics["command_line"]
    assert data.metrics["command_line"] in section.replace("&#x27;", "'").replace("&quot;", '"')
    assert ("git_commit" in data.metrics) == ("not recorded" not in section)
    if "git_commit" in data.metrics:
        assert re.match(r"[0-9a-f]{40}", data.metrics["git_commit"])


def test_raw_metrics_are_collapsed(run):
    data, page, _ = run
    details = page.split("<h2>Metrics</h2>", 1)[1]
    assert details.startswith("<details><summary>All ")
    raw = details.split("<pre>", 1)[1].split("</pre>", 1)[0]
    assert json.loads(html.unescape(raw)) == data.metrics
    assert "<h2>Tissue classes</h2>" in page.split("<h2>Parameters</h2>", 1)[0]
