"""Slice planes: through the target's centre and through the catheter territory's
territory-weighted centroid of the tissue; without a target through the territory only; with
neither through the tissue's centre of mass; each labelled with what it passes through."""
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


def test_without_a_tumour_the_planes_go_through_the_territory_only(tmp_path):
    """No target (a brain): the tissue's centre is the midline, so every plane passes through
    the catheter territory's centre of mass instead."""
    from perfusion.render.planes import picture_centre, slice_planes

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(5, 7)))
    assert data.target is None
    planes = [(p.view, p.index, p.through) for p in slice_planes(data)]
    assert planes == [("axial", 6, "catheter territory centre"),
                      ("coronal", 4, "catheter territory centre"),
                      ("sagittal", 14, "catheter territory centre")]
    assert picture_centre(data) == ((14, 4, 6), "catheter territory centre")


def test_without_tumour_or_territory_the_planes_go_through_the_tissue_centre_of_mass(tmp_path):
    """The mean tissue voxel, not the middle of the tissue's bounding box."""
    from slice_results import fake_results

    from perfusion.render.planes import slice_planes

    labels = np.zeros((20, 16, 12), dtype=np.int8)
    labels[2:8, 2:14, 2:10] = 1                         # a block, and a thin arm along i:
    labels[8:18, 2:4, 2:4] = 1                          # an L whose centroid is off its box's middle
    data = fake_results(tmp_path, fields={"labels": labels})
    centre = np.argwhere(labels > 0).mean(axis=0)
    assert round(centre[0]) == 5 and (2 + 17) / 2 == 9.5
    planes = [(p.view, p.index, p.through) for p in slice_planes(data)]
    assert planes == [("axial", int(round(centre[2])), "tissue centre of mass"),
                      ("coronal", int(round(centre[1])), "tissue centre of mass"),
                      ("sagittal", int(round(centre[0])), "tissue centre of mass")]


def test_with_a_tumour_the_planes_go_through_it_and_the_territory(tmp_path):
    from perfusion.render.planes import picture_centre, slice_planes

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(5, 7)))
    labels = data.labels.copy()
    labels[4:7, 9:12, 5:8] = 2                          # tumour centre (5, 10, 6)
    data.fields.update(labels=labels, class_names=np.array(["outside", "normal", "tumor"]))
    data.metrics["target"] = "tumor"
    planes = [(p.view, p.index, p.through) for p in slice_planes(data)]
    assert planes == [("axial", 6, "tumour centre and territory centre"),
                      ("coronal", 10, "tumour centre"), ("sagittal", 5, "tumour centre"),
                      ("coronal", 4, "catheter territory centre"),
                      ("sagittal", 14, "catheter territory centre")]
    assert picture_centre(data) == ((5, 10, 6), "tumour centre")


def test_panels_are_titled_with_what_they_pass_through(tmp_path):
    from perfusion.render.slices import build_slice_figure
    from perfusion.library.units import KG_M3_TO_UG_ML

    data = _territory(tmp_path, (slice(12, 17), slice(3, 6), slice(5, 7)))
    data.fields["c_t"] = np.ones((1, 20, 16, 12)) / KG_M3_TO_UG_ML
    data.fields["drug_times"] = np.array([600.0])
    _, panels = build_slice_figure(data, size=(1000, 400))
    titles = [p.ax.get_title() for p in panels]
    assert len(panels) == 3
    assert all(t.endswith("through catheter territory centre") for t in titles)
    assert "coronal, y = 9 mm" in titles[1] and "sagittal, x = 29 mm" in titles[2]
