"""Slice figure layout: the height follows the panels' aspect (no empty band above or below),
the colour bar labels name the quantity and fit in the figure, and the scale-bar labels sit
inside their panels, clear of the tick labels."""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.library.units import KG_M3_TO_UG_ML

pytest.importorskip("matplotlib")


@pytest.fixture
def figure(tmp_path):
    from slice_results import fake_results

    from perfusion.render.slices import build_slice_figure

    shape = (40, 30, 24)
    c_t = np.stack([np.ones(shape), 0.1 * np.ones(shape)]) / KG_M3_TO_UG_ML
    data = fake_results(tmp_path, shape=shape, spacing_mm=4.0,
                        fields={"c_t": c_t, "drug_times": np.array([600.0, 7200.0])})
    fig, panels = build_slice_figure(data, times=[600.0, 7200.0])   # 1600 wide, height fitted
    fig.canvas.draw()
    return fig, panels


def test_height_follows_the_panels(figure):
    fig, panels = figure
    width, height = fig.get_size_inches() * fig.dpi
    from perfusion.render.slices import fitted_height

    assert (width, height) == (1600, fitted_height(panels, 3, 1600))
    renderer = fig.canvas.get_renderer()
    boxes = [p.ax.get_window_extent(renderer) for p in panels]
    drawn = sum(b.height for b in boxes[::3])           # one panel per row, rows stacked
    assert drawn / height > 0.55                        # panels, not empty space, fill it
    tight = fig.get_tightbbox(renderer)                 # inches: everything drawn
    assert tight.height * fig.dpi > 0.9 * height


def test_colour_bars_are_named_and_inside_the_figure(figure):
    fig, panels = figure
    renderer = fig.canvas.get_renderer()
    bars = [ax for ax in fig.axes if ax not in [p.ax for p in panels]]
    assert len(bars) == 2
    for bar in bars:
        assert bar.get_ylabel() == "total tissue drug $C_t$ [µg/mL]"
        label = bar.yaxis.label.get_window_extent(renderer)
        assert 0 <= label.x0 and label.x1 <= fig.bbox.width


def test_scale_bar_labels_sit_inside_their_panels(figure):
    fig, panels = figure
    renderer = fig.canvas.get_renderer()
    for panel in panels:
        box = panel.ax.get_window_extent(renderer)
        (label,) = [t for t in panel.ax.texts if t.get_gid() == "scale-bar-label"]
        text = label.get_window_extent(renderer)
        assert box.x0 < text.x0 and text.x1 < box.x1 and box.y0 < text.y0 and text.y1 < box.y1
        ticks = [t.get_window_extent(renderer) for t in panel.ax.get_yticklabels()
                 if t.get_visible() and t.get_text()]
        assert all(tick.x1 < text.x0 for tick in ticks)
