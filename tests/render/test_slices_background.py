"""The grey anatomy under the drug: the results' ``background`` drawn with a grey colormap
beneath the semi-transparent drug map in the slices, the steady figure and the animation;
a CT soft-tissue window for HU, else the 1st–99th percentile, stated in the legend; outside
the tissue only the anatomy shows."""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.library.units import KG_M3_TO_UG_ML

pytest.importorskip("matplotlib")

SHAPE = (20, 16, 12)
TISSUE_HU = 100.0   # soft tissue; in the −160…240 HU window: grey level 0.65


def _results(tmp_path, background):
    from slice_results import fake_results

    ramp = np.broadcast_to(np.linspace(1.0, 2.0, SHAPE[0])[:, None, None], SHAPE)
    c_t = np.stack([ramp, ramp / 2]) / KG_M3_TO_UG_ML
    fields = {"c_t": c_t, "drug_times": np.array([600.0, 7200.0])}
    if background is not None:
        fields["background"] = background.astype(np.float32)
    return fake_results(tmp_path, fields=fields)


def _ct() -> np.ndarray:
    """Soft tissue everywhere but an air slab at k = 0 (8 % of the grid: the 1st percentile is
    air)."""
    ct = np.full(SHAPE, TISSUE_HU)
    ct[:, :, 0] = -1000.0
    return ct


def _pixel(fig, ax, x_mm: float, y_mm: float) -> np.ndarray:
    """RGB of the rendered figure at data point (x, y) of ``ax``."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    column, row = ax.transData.transform((x_mm, y_mm))
    return rgba[int(rgba.shape[0] - row), int(column), :3].astype(int)


def test_ct_is_a_grey_image_under_the_drug_with_the_soft_tissue_window(tmp_path):
    from perfusion.render.slices import build_slice_figure
    from perfusion.render.underlay import FIELD_ALPHA

    fig, panels = build_slice_figure(_results(tmp_path, _ct()), size=(900, 600))
    for panel in panels:
        under, drug = panel.ax.images            # drawn in this order: anatomy first
        assert under.get_cmap().name == "gray" and drug.get_cmap().name == "inferno"
        assert under.get_clim() == (-160.0, 240.0)
        assert under.get_alpha() is None and drug.get_alpha() == FIELD_ALPHA
        assert under.get_zorder() <= drug.get_zorder()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "anatomy (grey): CT soft-tissue window −160…240 HU" in legend
    axial = next(p for p in panels if p.view == "axial")
    # voxel (0, 3) of the axial plane is outside the tissue (and clear of the "L" letter at
    # mid-height): the CT alone, grey 0.65
    outside = _pixel(fig, axial.ax, 1.0, 7.0)            # 2 mm voxels: centre of (0, 3)
    assert outside[0] == outside[1] == outside[2]
    assert outside[0] == pytest.approx(0.65 * 255, abs=3)
    inside = _pixel(fig, axial.ax, 20.0, 17.0)           # tissue: drug colour over grey
    assert inside[0] - inside[2] > 30


def test_without_a_ct_the_drug_is_opaque_and_alone(tmp_path):
    from perfusion.render.slices import OUTSIDE_COLOUR, build_slice_figure

    fig, panels = build_slice_figure(_results(tmp_path, None), size=(900, 600))
    axial = next(p for p in panels if p.view == "axial")
    (drug,) = axial.ax.images
    assert drug.get_alpha() is None
    assert not any("anatomy" in t.get_text() for t in fig.legends[0].get_texts())
    grey = round(float(OUTSIDE_COLOUR) * 255)
    np.testing.assert_allclose(_pixel(fig, axial.ax, 1.0, 7.0), [grey] * 3, atol=2)


def test_an_mr_gets_its_percentile_window(tmp_path):
    from perfusion.render.underlay import background_window

    mr = np.linspace(0.0, 1000.0, np.prod(SHAPE)).reshape(SHAPE)   # arbitrary units
    window = background_window(_results(tmp_path, mr))
    low, high = np.percentile(mr.astype(np.float32), [1, 99])
    assert (window.low, window.high) == pytest.approx((low, high), rel=1e-6)
    assert window.note == f"window {low:.4g}…{high:.4g} (1st–99th percentile)"


def test_steady_figure_and_animation_draw_the_anatomy(tmp_path):
    from perfusion.render.animation import render_frames
    from perfusion.render.slices import steady_figure

    grey = round(0.65 * 255)

    def grey_pixels(frame):
        return int((np.all(np.abs(frame.astype(int) - grey) <= 2, axis=-1)).sum())

    with_ct = render_frames(_results(tmp_path / "ct", _ct()), size=(480, 320))[0]
    without = render_frames(_results(tmp_path / "none", None), size=(480, 320))[0]
    assert grey_pixels(with_ct) > 10 * grey_pixels(without) > 0   # without: text edges only
    data = _results(tmp_path / "steady", _ct())
    data.fields.update(perfusion=np.full(SHAPE, 0.01), ifp=np.full(SHAPE, 500.0))
    import imageio.v2 as imageio

    image = imageio.imread(steady_figure(data, tmp_path / "steady.png", size=(900, 360)))
    assert grey_pixels(image[..., :3]) > 10 * grey_pixels(without)
