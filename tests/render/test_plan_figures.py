"""The figures of ``perfusion plan``: ``pareto.png`` and the offline page ``plan.html``, on a
hand-made plan directory (:func:`fake_plan`: a 12×10×8 grid, a seven-segment tree written by
the project's own tree writer, five candidates whose numbers put a known set on the front).

The browser tests drive headless Chromium through Playwright as tests/render/test_viewer_browser.py
does, and are skipped, with the reason, where Chromium or Playwright is missing.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import zlib

import numpy as np
import pytest

from perfusion.errors import RenderingError, ResultsError
from perfusion.render import plan_page as plan_page_module
from perfusion.render.plan_figure import build_pareto_figure, pareto_figure, pareto_front
from perfusion.render.plan_files import COLUMNS, load_plan_maps, load_plan_table
from perfusion.render.plan_page import focus_voxel, map_data, plan_page, quantise
from perfusion.vascular.tree import VascularTree
from perfusion.vascular.tree_file import write_tree_vtp

SHAPE, SPACING_MM = (12, 10, 8), 2.0
#: five candidates: (vessel, normal_volume_above_ml, tumor_coverage, score); front = 1, 2, 4
CANDIDATES = [(3, 4.0, 0.95, 0.9), (1, 1.0, 0.60, 0.7), (2, 2.0, 0.80, 0.6), (5, 3.0, 0.70, 0.4),
              (4, 0.5, 0.20, 0.1)]
FRONT_VESSELS = {3, 1, 2, 4}


def _tree() -> VascularTree:
    """Seven segments [m] in the grid (24×20×16 mm): a root, two branches, four leaves."""
    mm = 1e-3
    points = np.array([[1, 10, 8], [6, 10, 8], [12, 5, 8], [12, 15, 8], [20, 3, 6], [20, 8, 10],
                       [20, 13, 6], [20, 18, 10]], dtype=float) * mm
    segments = np.array([[0, 1], [1, 2], [1, 3], [2, 4], [2, 5], [3, 6], [3, 7]])
    return VascularTree(points, segments, np.array([1.2, 0.9, 0.9, 0.6, 0.6, 0.6, 0.6]) * mm)


def fake_plan(directory, candidates=CANDIDATES, case_vessel=2):
    """Write a plan directory (plan.csv, plan.json, plan_maps.npz, fields/tree_artery.vtp)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fields").mkdir(exist_ok=True)
    tree = _tree()
    write_tree_vtp(directory / "fields" / "tree_artery.vtp", tree,
                   cell_data={"segment_id": np.arange(7, dtype=np.int64),
                              "flow": np.linspace(5e-8, 1e-8, 7)})
    ranked = sorted(candidates, key=lambda row: -row[3])
    with (directory / "plan.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(list(COLUMNS) + ["future_column"])
        for rank, (vessel, exposure, coverage, score) in enumerate(ranked, start=1):
            writer.writerow([rank, vessel, 0.6, 0.1 * vessel, 2, 0.5, coverage, 3.0, 30.0 * coverage,
                             2.0, exposure, 1.5, score, "ignored"])
    (directory / "plan.json").write_text(json.dumps({
        "case": "fake liver", "supply": "artery", "target": "tumor",
        "auc_threshold_ug_h_ml": 10.0, "score": "score = coverage − 0.1 × normal volume",
        "min_radius_mm": 0.5, "candidates": len(ranked), "case_vessel": case_vessel}))
    grid = np.indices(SHAPE).transpose(1, 2, 3, 0).astype(float)
    labels = np.zeros(SHAPE, np.uint8)
    labels[1:-1, 1:-1, 1:-1] = 1
    labels[np.linalg.norm(grid - [7, 5, 4], axis=-1) <= 2.2] = 2
    tissue = np.flatnonzero(labels.ravel() > 0)
    voxels = grid.reshape(-1, 3)[tissue]
    vessels = np.array([row[0] for row in ranked], dtype=np.int64)
    centres = np.array([[3 + 1.5 * v, 2 * v - 1, 4] for v in vessels])     # one place per vessel
    distance = np.linalg.norm(voxels[None] - centres[:, None], axis=-1)
    territory = np.exp(-(distance / 3.0) ** 2).astype(np.float32)
    auc = (5.0 + 25.0 * territory * vessels[:, None] / 5).astype(np.float32)
    np.savez(directory / "plan_maps.npz", vessel=vessels, tissue_index=tissue,
             shape=np.array(SHAPE), spacing_mm=np.full(3, SPACING_MM), labels=labels,
             class_names=np.array(["outside", "normal", "tumor"]), auc=auc, territory=territory)
    return directory


@pytest.fixture
def plan_dir(tmp_path):
    return fake_plan(tmp_path / "plan")


def test_pareto_front_of_a_hand_made_table():
    exposure = np.array([1, 2, 3, 2, 5, 1, 4, np.nan])
    coverage = np.array([50, 60, 55, 60, 90, 40, 90, 99])
    # (1, 40) loses to (1, 50); (3, 55) to (2, 60); (5, 90) to (4, 90); the twins (2, 60) stay
    assert pareto_front(exposure, coverage).tolist() == [True, True, False, True, False, False,
                                                         True, False]


def test_pareto_front_agrees_with_the_definition_on_random_tables():
    generator = np.random.default_rng(7)
    for _ in range(20):
        exposure = generator.integers(0, 6, 40).astype(float)
        coverage = generator.integers(0, 6, 40).astype(float)
        dominated = [((exposure <= e) & (coverage >= c) & ((exposure < e) | (coverage > c))).any()
                     for e, c in zip(exposure, coverage)]
        assert pareto_front(exposure, coverage).tolist() == [not d for d in dominated]


def test_the_pareto_png_has_its_size_and_draws_the_known_front(plan_dir):
    from PIL import Image

    path = pareto_figure(plan_dir)
    assert path == plan_dir / "pareto.png"
    picture = np.asarray(Image.open(path).convert("RGB")).astype(float)
    assert picture.shape == (780, 1100, 3) and picture.std() > 20
    ax = build_pareto_figure(load_plan_table(plan_dir)).axes[0]
    front = ax.lines[0]                                      # the staircase
    assert front.get_xdata().tolist() == [0.5, 1.0, 2.0, 4.0]
    assert front.get_ydata().tolist() == pytest.approx([20.0, 60.0, 80.0, 95.0])
    labels = {text.get_text() for text in ax.texts}
    assert {"3 (#1)", "1 (#2)", "2 (#3)", "5 (#4)", "4 (#5)"} == labels
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "case catheter: vessel 2 (#3)" in legend and "Pareto front (4 vessels)" in legend
    assert "threshold 10 µg·h/mL" in ax.figure.texts[0].get_text()


def test_a_missing_column_names_the_file_and_the_fix(plan_dir):
    text = (plan_dir / "plan.csv").read_text(encoding="utf-8").replace("tumor_coverage", "cover")
    (plan_dir / "plan.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError, match=r"plan\.csv: column tumor_coverage missing; .*perfusion plan"):
        load_plan_table(plan_dir)


def test_embedded_maps_decode_to_the_quantised_planes(plan_dir):
    table, maps = load_plan_table(plan_dir), load_plan_maps(plan_dir)
    assert quantise(np.array([0.0, 0.5, 1.0, 2.0, np.nan]), 1.0).tolist() == [0, 127, 254, 254, 255]
    assert focus_voxel(maps, "tumor") == (7, 5, 4)
    data = map_data(table, maps)
    assert data["vessels"] == [3, 1, 2, 5, 4]
    blob = np.frombuffer(zlib.decompress(base64.b64decode(data["maps"])), np.uint8)
    sizes = [view["width"] * view["height"] for view in data["views"]]
    assert [view["name"] for view in data["views"]] == ["axial", "coronal", "sagittal"]
    assert blob.size == 5 * 2 * sum(sizes)
    axial = data["views"][0]                                  # k = 4, tissue box: the grid
    assert (axial["width"], axial["height"]) == (12, 10)
    second = blob[2 * sum(sizes): 2 * sum(sizes) + sizes[0]].reshape(10, 12)   # vessel 1
    territory = maps.volume(maps.territory[1])[:, :, 4]
    # row 0 is the top (largest j); code = round(254 × share), 255 outside the tissue
    assert second[10 - 1 - 5, 7] == round(254 * float(territory[7, 5]))
    assert second[0, 0] == 255
    auc_first = blob[sum(sizes): sum(sizes) + sizes[0]].reshape(10, 12)       # vessel 3's AUC
    auc = maps.volume(maps.auc[0])[:, :, 4]
    assert auc_first[10 - 1 - 5, 7] == round(254 * min(float(auc[7, 5]) / data["auc_max"], 1))


def test_the_page_is_offline_and_bounded(plan_dir, monkeypatch):
    monkeypatch.setattr(plan_page_module, "MAP_CANDIDATES", 3)
    monkeypatch.setattr(plan_page_module, "plan_scene_page", _no_opengl)
    path = plan_page(plan_dir)
    text = path.read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    code = re.sub(r"(^|\s)//[^\n]*", r"\1", code)
    assert re.findall(r"https?://", code) == []
    assert "best 3 of 5 candidates" in text and "3D tree is left out" in text
    payload = json.loads(re.search(r'id="plan-data" type="application/json">(.*?)</script>',
                                   text, re.S).group(1))
    assert payload["vessels"] == [3, 1, 2]
    assert text.count('tabindex="0" data-vessel') == 3 and text.count('class="nomaps"') == 2


def _no_opengl(*_):
    raise RenderingError("no OpenGL here")


# ---- in a browser ---------------------------------------------------------------------------

ARGUMENTS = ["--no-sandbox", "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run"]


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    pytest.importorskip("pyvista")
    pytest.importorskip("trame_vtk")
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    path = plan_page(fake_plan(tmp_path_factory.mktemp("plan") / "plan"))
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=ARGUMENTS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        log = {"console": [], "requests": []}
        page.on("console", lambda message: log["console"].append((message.type, message.text)))
        page.on("pageerror", lambda error: log["console"].append(("error", str(error))))
        page.on("request", lambda request: log["requests"].append(request.url))
        page.goto(path.as_uri())
        page.locator("body[data-plan-ready='1']").wait_for(state="attached", timeout=30_000)
        page.frame_locator("#tree3d").locator("body[data-viewer-ready='1']").wait_for(
            state="attached", timeout=60_000)
        yield page, log
        browser.close()


def _pixels(page, view="axial", kind="auc") -> np.ndarray:
    from PIL import Image

    shot = page.locator(f"canvas[data-map='{kind}'][data-view='{view}']").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(float)


def test_the_page_loads_offline_without_errors(browser_page):
    page, log = browser_page
    assert [text for kind, text in log["console"] if kind == "error"] == []
    assert [url for url in log["requests"] if not url.startswith(("file:", "data:", "about:"))] == []
    assert page.locator("body").get_attribute("data-chosen") == "3"     # rank 1 first


def test_choosing_a_vessel_changes_its_numbers_and_maps(browser_page):
    page, _ = browser_page
    page.locator("#vessel").select_option("3")
    before_text, before = page.locator("#numbers").inner_text(), _pixels(page)
    assert "80.0" not in before_text and "95.0" in before_text          # vessel 3's coverage
    page.locator("#vessel").select_option("2")
    after_text, after = page.locator("#numbers").inner_text(), _pixels(page)
    assert "80.0" in after_text and "95.0" not in after_text
    assert (np.abs(before - after).sum(axis=2) > 30).mean() > 0.05
    page.locator("#candidates tr[data-vessel='5']").click()
    assert page.locator("body").get_attribute("data-chosen") == "5"
    assert page.locator("#vessel").input_value() == "5"
    assert page.locator("#candidates tr[data-vessel='5']").get_attribute("aria-selected") == "true"
    label = page.locator("canvas[data-map='territory'][data-view='axial']").get_attribute("aria-label")
    assert label.startswith("territory of vessel 5, axial plane k = 4")
