"""Slice planes: through the target's centre and through the catheter territory's
territory-weighted centroid of the tissue, each labelled with what it passes through."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")


def _territory(tmp_path, corner):
    """Tissue in [2, -2) on each axis; the territory is 1 in a block at ``corner`` and 0.5
    in the voxel row beyond it, so its weighted centroid is computable by hand."""
    from slice_results import fake_results

    shape = (20, 16, 12)
    territory = np.zeros(shape)
    territory[corner] = 1.0
    return fake_results(tmp_path, shape=shape, fields={"territory": territory})


def test_territory_centre_is_the_weighted_centroid(tmp_path):
    from perfusion.render.planes import territory_centre

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(2, 4)))
    assert territory_centre(data) == pytest.approx((14.0, 4.0, 2.5))
    data.fields["territory"][0, 0, 0] = 50.0           # outside the tissue: does not count
    assert territory_centre(data) == pytest.approx((14.0, 4.0, 2.5))
    data.fields["territory"][16, 5, 3] += 2.0          # weight moves the centroid
    total = 5 * 3 * 2 + 2.0
    assert territory_centre(data)[0] == pytest.approx((14.0 * 30 + 16 * 2.0) / total)


def test_planes_through_tissue_and_territory(tmp_path):
    from perfusion.render.planes import slice_planes

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(5, 7)))
    focus = data.focus()                                # tissue centre (no tumour): 10, 8, 6
    assert focus == (10, 8, 6) or focus == (10, 8, 5)
    planes = [(p.view, p.index, p.through) for p in slice_planes(data)]
    assert planes[:3] == [("axial", focus[2], "tissue centre and territory centre"),
                          ("coronal", focus[1], "tissue centre"),
                          ("sagittal", focus[0], "tissue centre")]
    assert planes[3:] == [("coronal", 4, "catheter territory centre"),
                          ("sagittal", 14, "catheter territory centre")]


def test_panels_are_titled_with_what_they_pass_through(tmp_path):
    from perfusion.render.slices import build_slice_figure
    from perfusion.library.units import KG_M3_TO_UG_ML

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(5, 7)))
    data.fields["c_t"] = np.ones((1, 20, 16, 12)) / KG_M3_TO_UG_ML
    data.fields["drug_times"] = np.array([600.0])
    _, panels = build_slice_figure(data, size=(1000, 400))
    titles = [p.ax.get_title() for p in panels]
    assert len(panels) == 5
    assert titles[3].endswith("through catheter territory centre") and "coronal, y = 9 mm" in titles[3]
