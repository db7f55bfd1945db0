"""perfusion — 3D tissue perfusion and drug transport for intra-arterial infusion.

The pipeline, one stage after another (each returns a small frozen result):
``load_case → build_domain → solve_perfusion → write_results``; :func:`run_case` wires
them. Importing the package imports neither CuPy, PyVista nor meshio, and does no work;
the public names below are imported on first use.
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "perfusion-ia"  # pyproject.toml [project] name; "perfusion" is taken on PyPI
try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

_PUBLIC = {
    "Case": "perfusion.case",
    "load_case": "perfusion.case",
    "run_case": "perfusion.pipeline",
    "make_backend": "perfusion.compute.backend",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'perfusion' has no attribute {name!r}")
