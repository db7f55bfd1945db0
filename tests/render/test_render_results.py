"""``render_results`` end to end on a small drug run: every figure, the report, the exports,
the 3D scene's content, and the clear error when rendering is impossible."""
from __future__ import annotations

import numpy as np
import pytest
from case_data import LIVER

from perfusion import run_case
from perfusion.case import case_from_dict
from perfusion.errors import RenderingError

pytest.importorskip("matplotlib")
pytest.importorskip("pyvista")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from perfusion.render.pipeline import render_results

    raw = {**LIVER, "drug": {"name": "doxorubicin"},
           "infusion": [{"route": "intra-arterial", "start": "0 min", "duration": "20 min", "dose": "20 mg"}],
           "simulation": {"duration": "1 h", "output_every": "10 min", "compare_iv": True}}
    result = run_case(case_from_dict(raw), tmp_path_factory.mktemp("render") / "out", backend="numpy")
    return result.directory, render_results(result.directory)


def test_every_figure_report_and_export(rendered):
    directory, written = rendered
    for name in ("slices", "steady", "scene", "animation", "curves", "dvh", "report"):
        assert written[name].is_file() and written[name].stat().st_size > 1000, name
    assert sorted(p.name for p in (directory / "figures").iterdir()) == sorted(
        ["slices.png", "steady.png", "scene.png", "animation.gif", "curves.png", "dvh.png",
         "viewer.html"])
    assert not (directory / "figures.partial").exists()
    assert (directory / "exports" / "auc.nii.gz").is_file()
    assert (directory / "exports" / "tissue.vtu").is_file()


def test_scene_shows_the_drug(rendered, tmp_path):
    import imageio.v3 as iio

    from perfusion.results.load import load_results
    from perfusion.render.scene import scene_figure

    directory, written = rendered
    image = iio.imread(written["scene"])[..., :3].astype(float)
    assert image.shape[:2] == (900, 1200)
    assert image.std() > 10
    data = load_results(directory)
    data.fields["c_t"] = np.zeros_like(data.fields["c_t"])  # same scene without any drug
    data.fields["auc"] = np.zeros_like(data.fields["auc"])
    empty = iio.imread(scene_figure(data, tmp_path / "empty.png"))[..., :3].astype(float)
    changed = np.abs(image - empty).sum(axis=2) > 30
    assert changed.mean() > 0.02  # the drug isosurfaces cover a visible part of the picture


def test_missing_library_is_a_clear_error(monkeypatch):
    from perfusion.render import headless

    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(headless.importlib, "import_module", missing)
    with pytest.raises(RenderingError, match=r"pip install 'perfusion-ia\[render\]'"):
        headless.require("pyvista")


def test_render_command(rendered):
    from click.testing import CliRunner

    from perfusion.cli import main

    directory, _ = rendered
    done = CliRunner().invoke(main, ["render", str(directory), "--only", "slices", "--time", "20 min",
                                     "--size", "800x500", "--no-report", "--no-export"])
    assert done.exit_code == 0, done.output
    import imageio.v3 as iio

    assert iio.imread(directory / "figures" / "slices.png").shape[:2] == (500, 800)


@pytest.mark.parametrize("args, message", [
    (["--size", "big"], "--time/--size"),
    (["--size", "10x10"], "at least 64 pixels"),
    (["--only", "movie"], "unknown figure"),
    (["--time", "soon"], "--time/--size"),
])
def test_render_command_errors(rendered, args, message):
    from click.testing import CliRunner

    from perfusion.cli import main

    done = CliRunner().invoke(main, ["render", str(rendered[0]), *args])
    assert done.exit_code == 1 and message in done.output and "Traceback" not in done.output


def test_render_of_a_folder_that_is_not_a_result(tmp_path):
    from click.testing import CliRunner

    from perfusion.cli import main

    done = CliRunner().invoke(main, ["render", str(tmp_path)])
    assert done.exit_code == 1 and "not a complete perfusion results directory" in done.output


def test_scene_draws_the_arterial_tree(tmp_path):
    """A tree supply's vessels appear as tubes: removing the tree file changes the picture."""
    import shutil

    import imageio.v3 as iio

    from perfusion.results.load import load_results
    from perfusion.render.scene import scene_figure

    raw = {**LIVER, "supplies": [{"name": "hepatic_artery", "tree": {
        "source": "generated", "root": ["48 mm", "6 mm", "40 mm"], "inflow": "65 mL/min",
        "pressure": "100 mmHg", "terminals": 40, "kernel_radius": "6 mm"}}, LIVER["supplies"][1]],
        "catheter": {"supply": "hepatic_artery", "feeds": "tumor"}}
    directory = run_case(case_from_dict(raw), tmp_path / "out", backend="numpy").directory
    with_tree = iio.imread(scene_figure(load_results(directory), tmp_path / "a.png"))[..., :3]
    bare = tmp_path / "bare"
    shutil.copytree(directory, bare)
    (bare / "fields" / "tree_hepatic_artery.vtp").unlink()
    without = iio.imread(scene_figure(load_results(bare), tmp_path / "b.png"))[..., :3]
    changed = np.abs(with_tree.astype(float) - without).sum(axis=2) > 30
    assert changed.mean() > 0.01
