"""Slice, steady, curve, exposure–volume figures and the animation of a small drug run.

Each PNG must have the pixel size asked for, not be blank, and show the drug where it is:
the tumour, which the catheter feeds, is hotter than normal tissue at the end of the infusion,
both in the arrays the slice figure plots and in the saved pixels (decoded back through the
colour map at voxel centres placed with the panel's own data → pixel transform).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import perfusion  # noqa: E402
from perfusion.case import case_from_dict  # noqa: E402
from perfusion.errors import ResultsError  # noqa: E402
from perfusion.library.units import KG_M3_TO_UG_ML  # noqa: E402
from perfusion.results.load import load_results  # noqa: E402


def _drug_case() -> dict:
    from case_data import LIVER

    raw = copy.deepcopy(LIVER)
    raw["drug"] = {"name": "doxorubicin"}
    raw["infusion"] = [{"route": "intra-arterial", "start": "0 min", "duration": "20 min",
                        "dose": "20 mg"}]
    raw["simulation"] = {"duration": "1 h", "output_every": "10 min", "compare_iv": True}
    return raw


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("render") / "drug"
    perfusion.run_case(case_from_dict(_drug_case()), directory, backend="numpy")
    return load_results(directory)


@pytest.fixture(scope="module")
def steady_data(tmp_path_factory):
    from case_data import LIVER

    directory = tmp_path_factory.mktemp("render") / "steady"
    perfusion.run_case(case_from_dict(copy.deepcopy(LIVER)), directory, backend="numpy")
    return load_results(directory)


def _read_png(path, size):
    """RGB floats in [0, 1]; checks the file is ``size`` = (width, height) and not blank."""
    from matplotlib.image import imread

    assert path.is_file(), path
    pixels = imread(path)[..., :3]
    assert pixels.shape[:2] == (size[1], size[0]), path
    assert pixels.std() > 0.05, f"{path.name} looks blank"
    return pixels


def test_slice_panels_hold_the_drug_in_the_tumour(data):
    from perfusion.render.slices import robust_limits, slice_panels

    panels = slice_panels(data)
    times = sorted({p.time_s for p in panels})
    assert times == [1200.0, 3600.0]          # end of infusion, end of run
    assert [p.view for p in panels[:3]] == ["axial", "coronal", "sagittal"]
    names = data.class_names
    vmin, vmax = robust_limits(data.fields["c_t"][[1, 5]][:, data.labels > 0] * KG_M3_TO_UG_ML)
    for panel in panels[:3]:                  # end of infusion
        tumour, normal = panel.labels == names.index("tumor"), panel.labels == names.index("normal")
        assert tumour.any() and normal.any()
        assert np.isnan(panel.image[panel.labels == 0]).all()
        heat = np.clip((panel.image - vmin) / (vmax - vmin), 0, 1)
        assert heat[tumour].mean() > heat[normal].mean() + 0.1, panel.view


def test_slice_figure_pixels_show_the_tumour_hot(data, tmp_path):
    from matplotlib import colormaps

    from perfusion.render.slices import build_slice_figure, save_figure

    size = (1200, 760)
    fig, panels = build_slice_figure(data, size=size)
    path = save_figure(fig, tmp_path / "slices.png")
    pixels = _read_png(path, size)
    panel = panels[0]                                  # axial, end of infusion
    image = panel.ax.get_images()[0]
    vmin, vmax = image.get_clim()
    lut = colormaps["inferno"](np.linspace(0, 1, 256))[:, :3]
    a, b = panel.image.shape
    x0, x1, y0, y1 = panel.extent
    heats = {}
    for name in ("tumor", "normal"):
        # every voxel of the class: outlines run along voxel faces, half a voxel from centres
        cells = np.argwhere(panel.labels == data.class_names.index(name))
        centres = np.column_stack([x0 + (cells[:, 0] + 0.5) * (x1 - x0) / a,
                                   y0 + (cells[:, 1] + 0.5) * (y1 - y0) / b])
        display = panel.ax.transData.transform(centres)
        rows = (size[1] - display[:, 1]).astype(int)
        cols = display[:, 0].astype(int)
        colours = pixels[rows, cols]
        decoded = np.argmin(((colours[:, None, :] - lut[None]) ** 2).sum(-1), axis=1) / 255
        expected = np.clip((panel.image[cells[:, 0], cells[:, 1]] - vmin) / (vmax - vmin), 0, 1)
        assert np.mean(np.abs(decoded - expected) < 0.02) > 0.95, name
        heats[name] = decoded.mean()
    assert heats["tumor"] > heats["normal"] + 0.1


def test_slice_figure_default_size_and_errors(data, steady_data, tmp_path):
    from perfusion.render.slices import slice_figure

    from perfusion.render.slices import fitted_height, slice_panels, slice_planes

    path = slice_figure(data, tmp_path / "s.png", times=[600.0])
    assert path == tmp_path / "s.png"
    height = fitted_height(slice_panels(data, [600.0]), len(slice_planes(data)), 1600)
    assert 300 < height < 1000                 # one row: no empty band above or below it
    _read_png(path, (1600, height))
    with pytest.raises(ResultsError, match="no drug field"):
        slice_figure(steady_data, tmp_path / "none.png")


@pytest.mark.parametrize("which", ["drug", "steady"])
def test_steady_figure(which, data, steady_data, tmp_path):
    from perfusion.render.slices import steady_figure

    result = data if which == "drug" else steady_data
    _read_png(steady_figure(result, tmp_path / "steady.png", size=(1200, 420)), (1200, 420))


def test_curves_and_exposure_volume_figures(data, steady_data, tmp_path):
    from perfusion.render.plots import curves_figure, dvh_figure

    _read_png(curves_figure(data, tmp_path / "curves.png", size=(900, 520)), (900, 520))
    _read_png(dvh_figure(data, tmp_path / "dvh.png"), (1000, 700))
    with pytest.raises(ResultsError, match="no drug run"):
        curves_figure(steady_data, tmp_path / "no.png")


def test_curve_and_dvh_colours_are_the_scene_palette_and_dvh_shows_every_curve(data):
    from matplotlib.colors import to_hex

    from perfusion.library.units import KG_S_M3_TO_UG_H_ML
    from perfusion.render.palette import PALETTE
    from perfusion.render.plots import build_curves_figure, build_dvh_figure

    meaning = {"tumor": "tumour", "normal": "organ", "necrotic": "necrotic core"}
    curves = build_curves_figure(data).axes[0].lines
    dvh = build_dvh_figure(data).axes[0]
    for lines in (curves, dvh.lines):
        drawn = {line.get_label().split(" (")[0]: to_hex(line.get_color()) for line in lines
                 if " (" in line.get_label() and not line.get_label().startswith("threshold")}
        assert drawn and all(drawn[name] == PALETTE[meaning[name]] for name in drawn), drawn
    left = dvh.get_xlim()[0]
    for name in data.class_names[1:]:
        for field in ("auc", "auc_iv"):
            auc = data.fields[field][data.class_mask(name)] * KG_S_M3_TO_UG_H_ML
            if (auc > 0).any():
                assert left < auc[auc > 0].min(), (name, field)   # every curve starts at 100 %


def test_exposure_volume_fractions():
    from perfusion.render.plots import exposure_volume

    fractions = exposure_volume(np.array([4.0, 1.0, 3.0, 2.0]), np.array([0.0, 2.0, 2.5, 4.0, 5.0]))
    assert fractions == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


def test_infusion_windows(data):
    from perfusion.render.plots import infusion_windows

    assert infusion_windows(data) == [(0.0, 1200.0, "intra-arterial")]


def test_gif_has_one_frame_per_output(data, tmp_path):
    iio = pytest.importorskip("imageio.v3")
    from perfusion.render.animation import animate, frame_size

    assert frame_size((500, 300)) == (512, 304)
    path, count = animate(data, tmp_path / "drug.gif", size=(500, 300))
    frames = iio.imread(path, index=None)
    assert count == len(data.fields["drug_times"]) == 6
    assert frames.shape[:3] == (6, 304, 512)
    assert frames[0].std() > 10
    assert not np.array_equal(frames[0], frames[-1])   # the drug (and the clock) move


def test_mp4_when_ffmpeg_is_there(data, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    imageio = pytest.importorskip("imageio.v2")
    from perfusion.render.animation import animate

    path, count = animate(data, tmp_path / "drug.mp4", size=(470, 270), fps=2)
    assert path.suffix == ".mp4"
    with imageio.get_reader(path) as reader:
        assert reader.count_frames() == count == 6
        assert reader.get_meta_data()["size"] == (480, 272)


def test_format_time():
    from perfusion.render.slices import format_time

    assert [format_time(t) for t in (0, 30, 600, 3600, 4800, 14400)] == \
        ["0", "30 s", "10 min", "1 h", "1 h 20 min", "4 h"]
