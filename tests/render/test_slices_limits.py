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
    expected = np.percentile(data.fields["c_t"][1][tissue] * KG_M3_TO_UG_ML, [1.0, 99.5])
    assert late == pytest.approx(tuple(expected))
    assert early == pytest.approx(tuple(100 * expected))
    assert 1.0 < early[0] < early[1] < 2.0 and 0.01 < late[0] < late[1] < 0.02


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
        assert frames[1][1] < frames[0][0] / 10
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
