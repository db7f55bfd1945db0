"""Pictures, report and exports of a results directory (host only; imports lazily).

``render_results(directory, options)`` writes ``figures/`` (slices, steady maps, 3D scene,
animation, curves, exposure–volume histograms), ``report.html`` and ``exports/``. Rendering
needs the ``render`` extra (PyVista, matplotlib, imageio, meshio); nothing here is imported
by ``import perfusion``.
"""
