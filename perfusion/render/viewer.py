"""The interactive 3D viewer: ``figures/viewer.html``, one self-contained, offline HTML file.

Layers (grid frame, millimetres; colours from :mod:`.palette`): the organ (faint), the tumour
and necrotic core, the arterial trees (tubes coloured by log10 flow [mL/min]), the catheter
and its tip (in a second renderer layer, drawn on top of every surface), AUC isosurfaces
[µg·h/mL] at 10/50/90 % of the target's class mean, and one C_t isosurface [µg/mL] per time
point, at half the target's peak class-mean C_t. The scene is
serialised into vtk.js's state format (trame-vtk's serialisers, no server) and embedded in
trame-vtk's standalone vtk.js viewer; a small inline script adds a checkbox per layer and a
choice of time point. Nothing is fetched: the viewer's favicon links and URL-parsing base are
rewritten to ``data:``/``file:`` addresses, so the only ``http(s)`` text left is in comments.
"""
from __future__ import annotations

import base64
import html
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..library.units import KG_M3_TO_UG_ML
from ..results.load import ResultsData
from .headless import pyvista_offscreen, require
from .palette import PALETTE
from .scene import catheter_tube, class_surfaces, drug_field, inlets, iso_levels, scene_grid
from .tree_scene import add_trees


TIME_POINTS = 6                  # C_t isosurfaces offered (evenly spread over the outputs)
TIP_RADIUS = 0.02                # the catheter tip's sphere, as a fraction of the grid's extent
TUBE_RADIUS = 0.006              # the catheter tube's, as a fraction of the grid's extent
#: text of the vtk.js viewer that would reach the network, and its offline replacement
OFFLINE = {"`https://kitware.github.io/vtk-js/icon/favicon-${t}x${t}.png`": '"data:,"',
           '"http://any"': '"file:///any"',
           "See https://kitware.github.io/vtk-js/docs/concepts_profile.html":
           "See the vtk.js documentation, concepts: profile"}


def _drug_layers(plotter, pyvista, data: ResultsData) -> list[tuple[str, str, int]]:
    """AUC and C_t isosurfaces; (label, group, actors) per layer, in the order added."""
    layers = []
    auc = drug_field(data, None)
    if auc is not None and auc[1] == "AUC":
        grid = scene_grid(pyvista, data, {"auc": auc[0]})
        for level in iso_levels(data, auc[0]):
            surface = grid.contour([level.value], scalars="auc")
            if surface.n_points:
                plotter.add_mesh(surface, color=PALETTE[level.key], opacity=level.opacity)
                layers.append((f"AUC ≥ {level.value:.3g} µg·h/mL ({level.fraction:.0%} of "
                               f"{data.target or 'tissue'} mean)", "layer", 1))
    times = data.fields["drug_times"]
    c_t = data.fields["c_t"]
    mask = data.class_mask(data.target) if data.target else data.labels > 0
    level = 0.5 * max(float(c_t[i][mask].mean()) for i in range(len(times))) * KG_M3_TO_UG_ML
    for index in np.unique(np.linspace(0, len(times) - 1, TIME_POINTS).round().astype(int)):
        grid = scene_grid(pyvista, data, {"c_t": c_t[index].astype(float) * KG_M3_TO_UG_ML})
        surface = grid.contour([level], scalars="c_t")
        if surface.n_points and level > 0:
            plotter.add_mesh(surface, color=PALETTE["iso 50 %"], opacity=0.6)
            layers.append((f"C_t ≥ {level:.3g} µg/mL at t = {times[index] / 60:.0f} min", "time", 1))
    return layers


def _catheter_overlay(plotter, pyvista, tips: list[np.ndarray], extent: np.ndarray) -> None:
    """The catheter tips (spheres) and tubes [mm] in a second renderer layer over the scene,
    sharing its camera and clearing no colour but the depth: drawn on top of every surface
    (``extent``: the grid's size, mm)."""
    overlay = require("vtkmodules.vtkRenderingCore").vtkRenderer()
    overlay.SetLayer(1)
    overlay.SetPreserveColorBuffer(True)
    overlay.SetInteractive(False)
    overlay.SetActiveCamera(plotter.renderer.GetActiveCamera())
    plotter.render_window.SetNumberOfLayers(2)
    plotter.render_window.AddRenderer(overlay)
    size = float(extent.max())
    for tip in tips:
        for mesh in (pyvista.Sphere(radius=TIP_RADIUS * size, center=tip),
                     catheter_tube(pyvista, tip, extent, TUBE_RADIUS * size)):
            actor = plotter.add_mesh(mesh, color=PALETTE["catheter"], reset_camera=False)
            plotter.renderer.RemoveActor(actor)
            overlay.AddActor(actor)


def build_viewer_scene(pyvista, data: ResultsData):
    """The viewer's plotter and its layers: (label, group, number of actors) in actor order."""
    plotter = pyvista.Plotter(off_screen=True, window_size=(900, 700))
    plotter.set_background("white")
    layers = []
    for meaning, surface in class_surfaces(pyvista, data).items():
        opacity = 0.12 if meaning == "organ" else 0.7
        plotter.add_mesh(surface, color=PALETTE[meaning], opacity=opacity)
        layers.append((meaning, "layer", 1))
    extent = np.array(data.labels.shape) * data.spacing * 1e3
    before = len(plotter.renderer.actors)
    tips = add_trees(plotter, pyvista, data.directory, float(extent.max()))
    for title in list(plotter.scalar_bars.keys()):   # vtk.js shows no 2D actors: drop the bar
        plotter.remove_scalar_bar(title)
    if len(plotter.renderer.actors) > before:
        layers.append(("arterial trees (colour: log10 flow)", "layer", len(plotter.renderer.actors) - before))
    tips += [position for _, _, position, on_catheter in inlets(data) if on_catheter]
    if data.has_drug:
        layers += _drug_layers(plotter, pyvista, data)
    if tips:                  # last: its actors live in the overlay, after the main renderer's
        _catheter_overlay(plotter, pyvista, tips, extent)
        layers.append(("catheter and tip (drawn on top)", "layer", 2 * len(tips)))
    plotter.camera_position = "iso"
    plotter.reset_camera()
    return plotter, layers


def _vtkjs_state(plotter) -> bytes:
    """The plotter's scene as a zipped vtk.js state (``index.json``: scene and arrays)."""
    serializers = require("trame_vtk.modules.vtk.serializers")
    serializers.initialize_serializers()
    context = serializers.SynchronizationContext()
    context.set_ignore_last_dependencies(True)
    window = plotter.render_window
    camera = plotter.renderer.GetActiveCamera()
    scene = serializers.serialize(None, window, serializers.reference_id(window), context, 1)
    scene["extra"] = {"vtkRefId": serializers.reference_id(window),
                      "centerOfRotation": camera.GetFocalPoint(),
                      "camera": serializers.reference_id(camera)}
    hashes = {entry["hash"]: {**entry, "content": context.get_cached_data_array(entry["hash"], False)}
              for entry in serializers.extract_array_hash(scene)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.json", json.dumps({"hashes": hashes, "scene": scene}))
    return buffer.getvalue()


def _controls(layers: list[tuple[str, str, int]]) -> str:
    """The inline script: a panel of checkboxes (layers) and radio buttons (time points)."""
    spec = json.dumps([{"label": label, "group": group, "count": count}
                       for label, group, count in layers])
    return _CONTROLS.replace("__LAYERS__", spec)


def write_viewer(data: ResultsData, path: Path) -> Path:
    """Write ``path`` (``viewer.html``) and return it."""
    pyvista = pyvista_offscreen()
    plotter, layers = build_viewer_scene(pyvista, data)
    Path(path).write_text(standalone_page(plotter, layers, "perfusion: 3D viewer"),
                          encoding="utf-8")
    return Path(path)


def standalone_page(plotter, layers: list[tuple[str, str, int]], title: str) -> str:
    """The offline vtk.js page of ``plotter``'s scene (rendered, then closed) with a panel
    of ``layers`` ((label, group, number of actors) in actor order) and ``title``."""
    plotter.render()
    state = base64.b64encode(_vtkjs_state(plotter)).decode("ascii")
    plotter.close()
    static = Path(require("trame_vtk.tools.vtksz2html").HTML_VIEWER_PATH).read_text(encoding="utf-8")
    for online, offline in OFFLINE.items():
        static = static.replace(online, offline)
    loader = ("<script>function loadDataSet(){OfflineLocalView.load(document.querySelector('body'),"
              f'{{base64Str:"{state}"}});}}</script>')
    page = static.replace("</body>", loader + _controls(layers) + "</body>", 1)
    return page.replace("<title>VTK.js | Example - OfflineLocalView</title>",
                        f"<title>{html.escape(title)}</title>", 1)


def viewer_section(figures: Path) -> str:
    """The report's "3D viewer" section: ``figures/viewer.html`` in an ``<iframe srcdoc>``;
    empty when there is no viewer."""
    path = Path(figures) / "viewer.html"
    if not path.is_file():
        return ""
    source = html.escape(path.read_text(encoding="utf-8"), quote=True)
    return ('<h2>3D viewer</h2><p>Drag to turn, scroll to zoom; the panel switches layers and '
            'the C<sub>t</sub> time point (grid frame, mm).</p>'
            f'<iframe id="viewer" title="3D viewer" srcdoc="{source}" '
            'style="width:100%;height:640px;border:1px solid #ddd"></iframe>')


_CONTROLS = """<script>
(function () {
  const layers = __LAYERS__;
  const total = layers.reduce((n, layer) => n + layer.count, 0);
  function actors() {   // the scene's actors, then the overlay's (the catheter, drawn on top)
    const window_ = window.global && window.global.renderWindow;
    const renderers = window_ ? [...window_.getRenderers()] : [];
    renderers.sort((a, b) => a.getLayer() - b.getLayer());
    const found = renderers.flatMap(r => r.getActors());
    return found.length >= total ? [window_, found] : null;
  }
  function show(index, visible) {
    const [window_, found] = actors();
    let first = layers.slice(0, index).reduce((n, layer) => n + layer.count, 0);
    for (let k = first; k < first + layers[index].count; k++) found[k].setVisibility(visible);
    window_.render();
  }
  function panel() {
    const box = document.createElement("div");
    box.id = "layers";
    box.style.cssText = "position:absolute;z-index:10;top:8px;left:8px;background:#fffe;" +
      "padding:6px 10px;font:13px sans-serif;border:1px solid #ccc;max-width:45%";
    const times = [];
    layers.forEach((layer, index) => {
      const row = document.createElement("label");
      row.style.display = "block";
      const input = document.createElement("input");
      input.type = layer.group === "time" ? "radio" : "checkbox";
      input.name = layer.group;
      input.dataset.layer = layer.label;
      input.checked = layer.group !== "time";
      input.addEventListener("change", () => {
        if (layer.group === "time") times.forEach(k => show(k, k === index));
        else show(index, input.checked);
      });
      if (layer.group === "time") { times.push(index); show(index, false); }
      row.append(input, " " + layer.label);
      box.append(row);
    });
    document.body.append(box);
    document.body.dataset.viewerReady = "1";
  }
  const poll = setInterval(() => { if (actors()) { clearInterval(poll); panel(); } }, 100);
})();
</script>"""
