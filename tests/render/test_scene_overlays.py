"""The 3D pictures' furniture: the ruler under the organ, a legend of dark text on a light box
with swatches in the drawn colours, and the viewer's catheter drawn on top of every surface."""
from __future__ import annotations

import numpy as np
import pytest

from perfusion.render.scene import LEGEND_TEXT, ruler_ends

pyvista = pytest.importorskip("pyvista")


def test_the_ruler_lies_under_the_organ_on_its_front_lower_edge():
    bounds = np.array([[10.0, 180.0], [14.0, 154.0], [14.0, 130.0]])     # mm, (min, max) per axis
    start, end = ruler_ends(bounds)
    assert np.allclose(start, [70.0, 154.0, 14.0]) and np.allclose(end, [120.0, 154.0, 14.0])


def test_the_legend_has_dark_text_and_swatches_in_the_drawn_colours():
    from perfusion.render.headless import pyvista_offscreen
    from perfusion.render.scene import add_legend

    entries = [("AUC 10%", "#fee391"), ("organ", "#8c6d4f")]
    plotter = pyvista_offscreen().Plotter(off_screen=True, window_size=(300, 200))
    add_legend(plotter, pyvista, entries)
    legend = plotter.legend
    assert np.allclose(legend.GetEntryTextProperty().GetColor(), pyvista.Color(LEGEND_TEXT).float_rgb)
    for index, (_, colour) in enumerate(entries):
        assert legend.GetEntryColor(index)[0] < 0                      # text: the dark default
        swatch = pyvista.wrap(legend.GetEntrySymbol(index))
        assert (swatch.cell_data["colour"] == pyvista.Color(colour).int_rgb).all()
    low, high = np.array(legend.GetPosition()), np.array(legend.GetPosition()) + legend.GetPosition2()
    assert (low >= 0).all() and (high <= 1).all()                       # inside the frame
    plotter.close()


def test_the_viewer_draws_the_catheter_in_a_layer_over_the_scene():
    from perfusion.render.headless import pyvista_offscreen
    from perfusion.render.viewer import _catheter_overlay

    plotter = pyvista_offscreen().Plotter(off_screen=True, window_size=(200, 200))
    plotter.add_mesh(pyvista.Sphere(radius=30.0))                       # a surface around the tip
    _catheter_overlay(plotter, pyvista, [np.zeros(3)], np.array([100.0, 100.0, 100.0]))
    collection = plotter.render_window.GetRenderers()
    renderers = [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]
    [overlay] = [renderer for renderer in renderers                     # (PyVista keeps more)
                 if renderer.GetLayer() == 1 and renderer.GetActors().GetNumberOfItems()]
    assert plotter.render_window.GetNumberOfLayers() == 2
    assert overlay.GetActors().GetNumberOfItems() == 2                  # tip sphere and tube
    assert overlay.GetActiveCamera() is plotter.renderer.GetActiveCamera()
    image = plotter.screenshot(return_img=True)
    assert image[100, 100].max() < 40                                   # black tip over the sphere
    plotter.close()
