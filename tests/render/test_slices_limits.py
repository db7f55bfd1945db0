"""Drug colour limits: each time row gets its own, a log scale spans the run, and the
animation's frames use exactly the limits of the slice figure's rows."""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.library.units import KG_M3_TO_UG_ML

pytest.importorskip("matplotlib")


def _washout(tmp_path):
    """A drug field whose late output is 100× fainter than its early one, with a gradient."""
    from slice_results import fake_results

    shape = (20, 16, 12)
    ramp = np.broadcast_to(np.linspace(1.0, 2.0, shape[0])[:, None, None], shape)
    c_t = np.stack([ramp, ramp / 100]) / KG_M3_TO_UG_ML          # µg/mL: 1–2, then 0.01–0.02
    return fake_results(tmp_path, fields={"c_t": c_t, "drug_times": np.array([600.0, 7200.0])})


def test_late_row_gets_its_own_limits(tmp_path):
    from perfusion.render.limits import drug_limits

    data = _washout(tmp_path)
    tissue = data.labels > 0
    early, late = drug_limits(data, "c_t", 0), drug_limits(data, "c_t", 1)
    top = np.percentile(data.fields["c_t"][1][tissue] * KG_M3_TO_UG_ML, 99.5)
    assert late == pytest.approx((0.0, top))                     # from 0: the level shows
    assert early == pytest.approx((0.0, 100 * top))
    assert 1.8 < early[1] < 2.0 and 0.018 < late[1] < 0.02


def test_log_scale_spans_the_run(tmp_path):
    from perfusion.render.limits import drug_limits, drug_norm

    data = _washout(tmp_path)
    limits = drug_limits(data, "c_t", 0, "log")
    assert limits == drug_limits(data, "c_t", 1, "log")          # one range for every time
    every = data.fields["c_t"][:, data.labels > 0] * KG_M3_TO_UG_ML
    top = np.percentile(every, 99.5)
    assert limits == pytest.approx((np.percentile(every, 1.0), top))   # lowest 1 % clipped
    assert 1.5 < top < 2.0 and limits[0] > top / 1000
    data.fields["c_t"][1] /= 1e4                                 # 1e-6: beyond three decades
    assert drug_limits(data, "c_t", 1, "log")[0] == pytest.approx(top / 1000)
    assert type(drug_norm(limits, "log")).__name__ == "LogNorm"
    with pytest.raises(ValueError, match="colour scale"):
        drug_limits(data, "c_t", 0, "cubic")


@pytest.mark.parametrize("scale", ["per-row", "log"])
def test_animation_and_slices_use_the_same_limits(tmp_path, scale):
    from perfusion.render.animation import frame_limits
    from perfusion.render.slices import build_slice_figure

    data = _washout(tmp_path)
    fig, panels = build_slice_figure(data, times=[600.0, 7200.0], size=(900, 600), scale=scale)
    frames = frame_limits(data, "c_t", scale)
    for panel in panels:
        norm = panel.ax.get_images()[0].norm
        assert (norm.vmin, norm.vmax) == pytest.approx(frames[data.nearest_output(panel.time_s)])
    if scale == "per-row":
        assert frames[1][1] < frames[0][1] / 10
    text = fig._suptitle.get_text()
    assert ("per-row limits" if scale == "per-row" else "log scale") in text
    assert "radiological convention" in text


def test_animation_frames_carry_the_row_limits(tmp_path):
    """The animation's colour bar follows its frames: a 100× fainter frame is not black."""
    from perfusion.render.animation import render_frames

    frames = render_frames(_washout(tmp_path), size=(480, 320))
    assert len(frames) == 2
    tissue_early, tissue_late = (frame[100:250, 100:300].mean() for frame in frames)
    assert abs(tissue_early - tissue_late) < 10     # same brightness: limits rescaled per frame


def test_a_near_uniform_row_is_drawn_near_uniform(tmp_path):
    """1.465–1.485 µg/mL (the brain's 2 h row) sits at the top of a 0-based colour bar, not
    stretched over the whole map; the figure and the bar say so."""
    from slice_results import fake_results

    from perfusion.render.slices import build_slice_figure

    shape = (20, 16, 12)
    ramp = np.broadcast_to(np.linspace(1.465, 1.485, shape[0])[:, None, None], shape)
    data = fake_results(tmp_path, fields={"c_t": ramp[None] / KG_M3_TO_UG_ML,
                                          "drug_times": np.array([7200.0])})
    fig, panels = build_slice_figure(data, size=(900, 400))
    norm = panels[0].ax.get_images()[0].norm
    assert norm.vmin == 0.0 and 1.48 < norm.vmax < 1.485
    shades = norm(panels[0].image[np.isfinite(panels[0].image)])
    assert shades.min() > 0.98                                   # one colour, near the top
    assert "0 to the 99.5th percentile" in fig._suptitle.get_text()
    assert fig.axes[-1].get_ylabel() == "total tissue drug $C_t$ [µg/mL]"


def test_near_uniform_ifp_starts_at_zero_and_states_its_range(tmp_path):
    from slice_results import fake_results

    from perfusion.render.limits import NEAR_UNIFORM, spread_limits
    from perfusion.render.slices import build_steady_figure

    values = np.linspace(0.92, 1.02, 101)                        # mmHg: 10 % of the level
    assert spread_limits(values, "mmHg")[:2] == pytest.approx((0.0, np.percentile(values, 99)))
    assert NEAR_UNIFORM == 0.10
    wide = np.linspace(1.0, 11.5, 101)                           # a tumour's IFP: percentiles
    assert spread_limits(wide, "mmHg")[:2] == pytest.approx(tuple(np.percentile(wide, [1, 99])))
    shape = (20, 16, 12)
    ifp = np.broadcast_to(np.linspace(0.92, 1.02, shape[0])[:, None, None], shape) * 133.32
    data = fake_results(tmp_path, fields={"ifp": ifp, "perfusion": np.full(shape, 0.01)})
    fig = build_steady_figure(data, size=(900, 360))
    ifp_panel = [ax for ax in fig.axes if ax.get_title() == "Interstitial fluid pressure"][0]
    from perfusion.library.units import PA_TO_MMHG

    tissue = ifp[data.labels > 0] * PA_TO_MMHG
    assert ifp_panel.get_images()[0].get_clim() == pytest.approx((0.0, np.percentile(tissue, 99)))
    bar = fig.axes[-1].get_xlabel()
    assert bar.startswith(f"interstitial fluid pressure (mmHg)\ntissue {tissue.min():.3g}–"
                          f"{tissue.max():.3g} mmHg; 10th–90th percentile")
    assert bar.endswith("(within 10%: near-uniform): colour from 0")
