"""``report.html`` in a real headless Chromium: offline, no console errors, every image decodes,
the embedded 3D viewer draws, and unticking a layer changes the picture.

Chromium comes from the distribution (``.ci/run`` installs it); Playwright drives it through
``executable_path`` (no browser download). Skipped, with the reason, where either is missing.
"""
from __future__ import annotations

import io
import re
import shutil

import numpy as np
import pytest
from case_data import LIVER

from perfusion import run_case
from perfusion.case import case_from_dict

pytest.importorskip("pyvista")
pytest.importorskip("trame_vtk")
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
ARGUMENTS = ["--no-sandbox", "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from perfusion.render.pipeline import RenderOptions, render_results

    raw = {**LIVER, "drug": {"name": "doxorubicin"},
           "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "20 min", "dose": "20 mg"}],
           "simulation": {"duration": "1 h", "output_every": "10 min", "compare_iv": False}}
    directory = run_case(case_from_dict(raw), tmp_path_factory.mktemp("viewer") / "out",
                         backend="numpy").directory
    render_results(directory, RenderOptions(figures=("curves", "viewer"), exports=False))
    return directory


@pytest.fixture(scope="module")
def browser_page(report):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGUMENTS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        log = {"console": [], "requests": []}
        page.on("console", lambda message: log["console"].append((message.type, message.text)))
        page.on("pageerror", lambda error: log["console"].append(("error", str(error))))
        page.on("request", lambda request: log["requests"].append(request.url))
        page.goto((report / "report.html").as_uri())
        page.frame_locator("#viewer").locator("body[data-viewer-ready='1']").wait_for(
            state="attached", timeout=60_000)
        page.wait_for_timeout(1500)
        yield page, log
        browser.close()


def _picture(page) -> np.ndarray:
    from PIL import Image

    shot = page.locator("#viewer").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(float)


def test_the_viewer_file_fetches_nothing(report):
    text = (report / "figures" / "viewer.html").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)           # block comments
    code = re.sub(r"(^|\s)//[^\n]*", r"\1", code)               # line comments
    assert re.findall(r"https?://", code) == []


def test_loads_offline_without_errors(browser_page):
    page, log = browser_page
    assert [text for kind, text in log["console"] if kind == "error"] == []
    assert [url for url in log["requests"] if not url.startswith(("file:", "data:"))] == []


def test_every_image_decodes(browser_page):
    page, _ = browser_page
    widths = page.evaluate("[...document.images].map(image => image.naturalWidth)")
    assert widths and min(widths) > 0


def test_the_viewer_draws_and_a_layer_toggle_changes_it(browser_page):
    page, _ = browser_page
    before = _picture(page)
    assert before.std() > 10                                    # not a blank canvas
    page.frame_locator("#viewer").locator("input[data-layer='organ']").uncheck()
    page.wait_for_timeout(800)
    after = _picture(page)
    assert (np.abs(before - after).sum(axis=2) > 30).mean() > 0.01
