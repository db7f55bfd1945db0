"""Offscreen rendering on machines without a display (README.md, Pictures, report and exports).

PyVista/VTK render through EGL (Mesa's software driver where there is no GPU), so no X
server is needed: ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` skips VTK's attempt to
open an X window and its warning. Missing libraries or a failing OpenGL context become a
:class:`~perfusion.errors.RenderingError` that says what to install.
"""
from __future__ import annotations

import importlib
import os

from ..errors import RenderingError

INSTALL = "pip install 'perfusion-ia[render]'"


def require(module: str):
    """Import ``module`` or fail with the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RenderingError(f"rendering needs {module} ({exc}); install the render extra: "
                             f"{INSTALL}") from None


def pyvista_offscreen():
    """PyVista, set up for offscreen rendering; a clear error when OpenGL is unavailable."""
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    pyvista = require("pyvista")
    pyvista.OFF_SCREEN = True
    try:
        plotter = pyvista.Plotter(off_screen=True, window_size=(16, 16))
        plotter.add_mesh(pyvista.Sphere())
        plotter.screenshot(return_img=True)
        plotter.close()
    except Exception as exc:  # VTK raises many kinds when no OpenGL context exists
        raise RenderingError(
            f"3D rendering is impossible here ({exc.__class__.__name__}: {exc}). On a headless "
            "Linux machine install Mesa's EGL (e.g. apt-get install libegl1 libgl1) or set "
            "VTK_DEFAULT_OPENGL_WINDOW to a window class this machine supports; the 2D figures, "
            "the report and the exports do not need it: draw them without the 3D scene with "
            f"{without_scene_command()}") from None
    return pyvista


THREE_D = ("scene", "viewer")     # the figures that need OpenGL


def without_scene_command(results: str = "RESULTS") -> str:
    """The ``perfusion render`` command that draws every figure but the 3D scene and viewer."""
    from .pipeline import ALL_FIGURES

    only = " ".join(f"--only {name}" for name in ALL_FIGURES if name not in THREE_D)
    return f"perfusion render {results} {only}"
