"""The 3D pictures' colour table: one colour per meaning in every case, and stated levels."""
from __future__ import annotations

import numpy as np

from perfusion.render.palette import ISO_LEVELS, PALETTE, supply_colour, supply_legend

HEPATIC = {"name": "hepatic_artery"}
PORTAL = {"name": "portal_vein"}


def test_the_same_supply_keeps_its_colour_whatever_the_order():
    first, second = supply_legend([HEPATIC, PORTAL]), supply_legend([PORTAL, HEPATIC])
    assert first == second == [("arterial: hepatic artery", "#d62728"),
                               ("portal: portal vein", "#1f77b4")]
    assert supply_colour(HEPATIC) == PALETTE["arterial"] != supply_colour(PORTAL) == PALETTE["portal"]


def test_kind_overrides_the_name_and_brain_arteries_have_their_own_colour():
    assert supply_colour({"name": "inflow_b", "kind": "portal"}) == PALETTE["portal"]
    assert supply_colour({"name": "cerebral_arteries"}) == PALETTE["cerebral arteries"]
    assert len(set(PALETTE.values())) == len(PALETTE)        # no two meanings share a colour


def test_iso_levels_are_stated_fractions_of_the_target_mean():
    from perfusion.render.scene import iso_levels

    class Data:
        target = "tumor"
        labels = np.array([0, 1, 2, 2])

        def class_mask(self, name):
            return self.labels == 2

    levels = iso_levels(Data(), np.array([0.0, 5.0, 10.0, 30.0]))    # tumour mean 20
    assert [(lv.key, lv.value) for lv in levels] == [("iso 10 %", 2.0), ("iso 50 %", 10.0),
                                                      ("iso 90 %", 18.0)]
    assert [lv.fraction for lv in levels] == [f for _, f, _ in ISO_LEVELS]
