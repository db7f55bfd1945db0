"""Orientation letters of slice panels from the results' affine, in both display conventions.

The affines are built by hand with flipped and permuted axes, so the letters each edge must
face are known without nibabel; the figure must then carry those letters as text.
"""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.render.orientation import panel_orientation, scale_bar_mm

# a permuted, flipped affine: i runs towards P, j towards L, k towards I
PERMUTED = np.array([[0.0, -2.0, 0.0, 10.0],     # x (R+) decreases with j: j runs towards L
                     [-3.0, 0.0, 0.0, 20.0],     # y (A+) decreases with i: i runs towards P
                     [0.0, 0.0, -4.0, 30.0],     # z (S+) decreases with k: k runs towards I
                     [0.0, 0.0, 0.0, 1.0]])


def test_axis_codes_of_the_permuted_affine():
    from perfusion.render.orientation import axis_codes

    assert axis_codes(PERMUTED) == ("P", "L", "I")


@pytest.mark.parametrize("convention, axial", [
    # axial shows (i, j) = (P, L) horizontally, vertically; L/R is vertical here, A/P horizontal
    ("radiological", dict(left="A", right="P", bottom="L", top="R", flip_x=False, flip_y=True)),
    ("neurological", dict(left="A", right="P", bottom="R", top="L", flip_x=False, flip_y=False)),
])
def test_permuted_flipped_axial_panel(convention, axial):
    assert panel_orientation(PERMUTED, (0, 1), convention).__dict__ == axial


@pytest.mark.parametrize("convention, right, flip_x", [("radiological", "L", False),
                                                        ("neurological", "R", True)])
def test_permuted_flipped_coronal_and_sagittal(convention, right, flip_x):
    # coronal-like (j, k) = (L, I): L/R horizontal by convention, superior up (k flipped)
    coronal = panel_orientation(PERMUTED, (1, 2), convention)
    assert (coronal.right, coronal.left, coronal.top, coronal.bottom) == (
        right, "R" if right == "L" else "L", "S", "I")
    assert (coronal.flip_x, coronal.flip_y) == (flip_x, True)
    # (i, k) = (P, I): anterior on the left, superior up, whatever the convention
    sagittal = panel_orientation(PERMUTED, (0, 2), convention)
    assert (sagittal.left, sagittal.right, sagittal.top, sagittal.bottom) == ("A", "P", "S", "I")
    assert (sagittal.flip_x, sagittal.flip_y) == (False, True)


def test_ras_grid_radiological_puts_left_on_the_right():
    ras = np.diag([2.0, 2.0, 2.0, 1.0])
    axial = panel_orientation(ras, (0, 1), "radiological")
    assert (axial.left, axial.right, axial.top, axial.flip_x) == ("R", "L", "A", True)
    assert panel_orientation(ras, (0, 1), "neurological").flip_x is False
    with pytest.raises(ValueError, match="convention"):
        panel_orientation(ras, (0, 1), "sideways")


def test_figure_text_carries_the_letters(tmp_path):
    from perfusion.render.orientation import CONVENTION_NOTES
    from perfusion.render.slices import SlicePanel, draw_panel, new_figure
    from slice_results import fake_results

    data = fake_results(tmp_path, affine=PERMUTED)
    panel = SlicePanel("axial", 2, None, np.ones((6, 5)), np.ones((6, 5), int),
                       (0.0, 12.0, 0.0, 15.0))
    fig = new_figure((400, 400))
    ax = fig.subplots()
    draw_panel(ax, data, panel, "inferno", 0.0, 2.0, convention="radiological")
    letters = {t.get_text(): t.get_position() for t in ax.texts if t.get_gid() == "orientation"}
    assert letters == {"A": (0.015, 0.5), "P": (0.985, 0.5), "L": (0.5, 0.015),
                       "R": (0.5, 0.985)}
    assert ax.get_ylim() == (15.0, 0.0) and ax.get_xlim() == (0.0, 12.0)   # j drawn downwards
    assert "radiological" in CONVENTION_NOTES["radiological"]


def test_scale_bar_length_in_pixels_matches_its_label(tmp_path):
    from perfusion.render.slices import SlicePanel, draw_panel, new_figure
    from slice_results import fake_results

    data = fake_results(tmp_path, spacing_mm=2.5)
    voxels = 40                                            # 100 mm wide → a 20 mm bar
    panel = SlicePanel("axial", 2, None, np.ones((voxels, 30)), np.ones((voxels, 30), int),
                       (0.0, voxels * 2.5, 0.0, 30 * 2.5))
    fig = new_figure((600, 500))
    ax = fig.subplots()
    draw_panel(ax, data, panel, "inferno", 0.0, 2.0)
    fig.canvas.draw()
    (bar,) = [line for line in ax.lines if line.get_gid() == "scale-bar"]
    (label,) = [t.get_text() for t in ax.texts if t.get_gid() == "scale-bar-label"]
    assert label == "20 mm" and scale_bar_mm(100.0) == 20.0
    ends = ax.transData.transform(np.column_stack([bar.get_xdata(), bar.get_ydata()]))
    bar_pixels = abs(ends[1, 0] - ends[0, 0])
    bbox = ax.get_images()[0].get_window_extent()
    pixels_per_voxel = abs(bbox.width) / voxels           # negative: x drawn reversed
    assert bar_pixels / pixels_per_voxel * 2.5 == pytest.approx(20.0, rel=1e-6)
    assert bar_pixels > 50
