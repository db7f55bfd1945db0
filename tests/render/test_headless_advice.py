"""The advice given when 3D rendering is impossible names options the CLI really has."""
from __future__ import annotations

import re
import types

import click
import pytest

from perfusion.cli import main
from perfusion.errors import RenderingError
from perfusion.render import headless
from perfusion.render.pipeline import ALL_FIGURES


def _failing_pyvista(name):
    """A stand-in PyVista whose plotter fails as VTK does without an OpenGL context."""
    def plotter(**_):
        raise RuntimeError("cannot create an OpenGL context")
    return types.SimpleNamespace(Plotter=plotter, Sphere=lambda: None, OFF_SCREEN=False)


def _render_options() -> set[str]:
    command = main.commands["render"]
    return {opt for param in command.params if isinstance(param, click.Option)
            for opt in (*param.opts, *param.secondary_opts)}


def test_no_opengl_advice_names_real_render_options(monkeypatch):
    monkeypatch.setattr(headless, "require", _failing_pyvista)
    with pytest.raises(RenderingError) as info:
        headless.pyvista_offscreen()
    message = str(info.value)
    assert "perfusion render" in message, message
    advised = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", message))
    assert advised, message
    assert advised <= _render_options(), f"unknown options {advised - _render_options()}: {message}"
    figures = re.findall(r"--only (\w+)", message)
    assert figures and set(figures) <= set(ALL_FIGURES) and "scene" not in figures, message
    assert set(figures) == set(ALL_FIGURES) - {"scene", "viewer"}, message
